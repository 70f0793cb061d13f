"""The ingest progress bar a person watches: it fits a terminal of 80 columns, count first."""

from __future__ import annotations

import io

from rich.console import Console

from pipeline.ingest import FileOutcome
from pipeline.progress import Reporter, shorten

LONG = "/work/shared/corpus/real/govcn_2019/a_rather_long_folder_name/html_46f43358a5bf2d45.html"


def _bar_line(width: int, files: int) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None, soft_wrap=True)
    with Reporter(err=console) as reporter:
        reporter.start(340)
        for _ in range(files):
            reporter.file_done(FileOutcome(path=LONG, status="new", items=3))
        reporter.file_done(FileOutcome(path=LONG, status="failed", message="damaged"))
        segments = console.render(reporter._bar.get_renderable(), console.options)
        return "".join(s.text for s in segments).rstrip("\n")


def test_the_bar_fits_80_columns_with_the_count_first_and_the_file_name_last():
    line = _bar_line(80, 12)
    assert "\n" not in line and len(line) <= 80
    assert line.split()[0] == "13/340"
    assert "1 failed" in line
    assert line.endswith("5bf2d45.html")


def test_a_wide_terminal_shows_more_of_the_path():
    assert len(_bar_line(160, 3).split()[-1]) > len(_bar_line(80, 3).split()[-1])


def test_shorten_keeps_the_end():
    assert shorten("data/raw/a.txt", 40) == "data/raw/a.txt"
    assert shorten(LONG, 30) == "…" + LONG[-29:]
    assert len(shorten(LONG, 3)) == 8
