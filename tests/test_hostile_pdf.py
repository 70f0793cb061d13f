"""Hostile PDFs (issue 15): none can take a batch down, and the reader's cost stays in proportion.

Each file is made here (tests/fixture_files.py writes the PDF bytes and their xref).
Bounds on time and memory are generous: they show the guard acted (a second where it
took minutes, MBs where it took GBs), not how fast this machine is.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pipeline.errors import ReadError
from pipeline.ingest import parse_bytes
from pipeline.limits import PDF_MAX_RULE_CROSSINGS
from pipeline.readers import pdf as pdf_reader
from pipeline.readers import read_bytes
from pipeline.readers.pdf_tables import Table, TooDense, _cells, _Rule
from tests.fixture_files import grid, make_pdf, text_at

TITLE = "Notice on the spring science week"


def grid_pdf(n: int) -> bytes:
    """One page: a title, then n x n ruling lines (a 1,400 x 1,400 grid is a 67 KB file)."""
    side = 5.0 * n + 200
    return make_pdf([text_at(60, side - 60, TITLE) + b"\n" + grid(n)], size=(side, side))


# --- dense rules: near-linear, then capped ---------------------------------------------------------


@pytest.mark.parametrize("n", [400, 1400])
def test_a_grid_of_ruling_lines_is_read_as_plain_lines_with_a_warning(n):
    data = grid_pdf(n)  # 400: 22 s before; 1,400: over 15 minutes
    started = time.monotonic()
    source = read_bytes(Path("grid.pdf"), data)
    assert time.monotonic() - started < 3  # ~0.05 and ~0.15 s
    assert source.text == TITLE
    (warning,) = source.warnings
    assert warning.field == "tables"
    assert f"page 1: too many ruling lines to look for tables in (its ruling lines cross over " \
           f"{PDF_MAX_RULE_CROSSINGS:,} times" in warning.message


def test_a_grid_just_under_the_cap_is_still_a_table(tmp_path):
    n = 200  # 40,000 crossings, 39,601 cells
    side = 5.0 * n + 200
    cells = b"\n".join(text_at(53, side - 150 - 5 * k - 4, str(k % 10), size=3) for k in range(0, n - 1, 7))
    data = make_pdf([text_at(60, side - 60, TITLE) + b"\n" + grid(n, bottom=side - 150 - 5 * (n - 1)) + b"\n" + cells],
                    size=(side, side))
    started = time.monotonic()
    source = read_bytes(Path("grid.pdf"), data)
    assert time.monotonic() - started < 10  # ~1 s
    rows = source.text.split("\n")[1:]
    assert source.warnings == [] and len(rows) == len(range(0, n - 1, 7))
    assert all(row.split("\t")[0] == str(k % 10) and row.count("\t") == n - 2 for row, k in zip(rows, range(0, n - 1, 7)))


def test_finding_cells_grows_linearly_with_crossings():
    """Grids of 60² and 180² rules read whole: 9x the crossings, about 9x the time (before: 34x, cubic in n
    for n² crossings: 400² took 22 s)."""

    def seconds(n: int) -> float:
        data = grid_pdf(n)
        best = float("inf")
        for _ in range(2):
            started = time.process_time()
            source = read_bytes(Path("grid.pdf"), data)
            best = min(best, time.process_time() - started)
        assert source.warnings == []
        return best

    small, large = seconds(60), seconds(180)
    assert large / small < 18, (small, large)


def test_rules_that_meet_without_closing_cells_stay_within_budget():
    """A comb: one long rule along the top and the left, and many short teeth that never close a cell."""
    n = 2000
    horizontal = [_Rule(True, 0.0, 0.0, 5.0 * n)] + [_Rule(True, 5.0 * k, 0.0, 1.0) for k in range(1, n)]
    vertical = [_Rule(False, 0.0, 0.0, 5.0 * n)] + [_Rule(False, 5.0 * k, 0.0, 1.0) for k in range(1, n)]
    started = time.process_time()
    with pytest.raises(TooDense, match="meet without closing cells too often"):
        _cells(horizontal, vertical)  # before: 4 million tries
    assert time.process_time() - started < 2


# --- many pages: the cost of a page does not grow with the pages before it ---------------------------


_WORK = ["科普", "安全生产", "消防", "食品安全", "环境保护", "交通", "教育"]
_UNITS = ["市科协", "市教委", "市应急局", "市消防救援支队", "市市场监管局", "市生态环境局", "市交通委", "市财政局"]


def _pages_pdf(count: int) -> bytes:
    """`count` pages of a notice in Chinese: a numbered task with its units on each, worded differently
    from page to page (lines repeated at the top or bottom of most pages are dropped as running heads)."""
    pages = []
    for k in range(1, count + 1):
        work, units = _WORK[k % len(_WORK)], "、".join(_UNITS[(k + j) % len(_UNITS)] for j in range(k % 3 + 1))
        pages.append(
            f"{k}. 开展第{k}项{work}工作，推动各区落实。（责任单位：{units}）\n"
            f"各区要结合实际，认真组织实施{work}工作，确保取得实效。\n"
            f"有关{work}情况于每季度末报送{_UNITS[k % len(_UNITS)]}。"
        )
    return make_pdf(["关于做好科普工作的通知\n" + pages[0], *pages[1:]], cjk=True)


def test_the_cost_of_a_page_is_flat_in_the_number_of_pages():
    """Read and extract 80 and then 640 pages: about the same ms per page. (9,010 pages once took 2.8x the
    time per page of 2,006.)"""

    def ms_per_page(count: int) -> float:
        data = _pages_pdf(count)
        started = time.process_time()
        doc = parse_bytes(Path("many.pdf"), data, "many.pdf")
        seconds = time.process_time() - started
        assert doc.page_count == count and len(doc.items) == count
        return 1000 * seconds / count

    ms_per_page(10)  # warm up: rule tables, the unit dictionary
    few, many = ms_per_page(80), ms_per_page(640)
    assert many / few < 1.8, (few, many)


def test_placing_tables_is_flat_in_the_number_of_table_pages():
    """A task table running over 250 and then 2,000 pages: placing its rows costs the same per page.
    Before, each page's first row was checked against every row so far (2,000 pages: 20x the cost per page)."""

    def seconds_per_page(count: int) -> float:
        pages = []
        for k in range(count):
            rows = [["No", "Task", "Units"]] + [[str(5 * k + j), f"Task {5 * k + j}", f"Unit {j}"] for j in range(5)]
            lines = [pdf_reader._Line(f"line {j}", 72, 500, 800 - 20 * j, 790 - 20 * j) for j in range(12)]
            pages.append(pdf_reader._Page(k + 1, 842, lines, [Table((72, 100, 520, 300), rows)]))
        started = time.process_time()
        pdf_reader._place_tables(pages)
        seconds = time.process_time() - started
        assert [line.table_rows is not None for line in pages[-1].lines].count(True) == 1
        return seconds / count

    few, many = seconds_per_page(250), seconds_per_page(2000)
    assert many / few < 3, (few, many)


def test_more_pages_than_the_limit_are_refused_before_reading_them(monkeypatch):
    monkeypatch.setattr(pdf_reader, "MAX_PDF_PAGES", 40)
    with pytest.raises(ReadError, match="41 pages, far beyond a notice \\(limit 40\\)"):
        read_bytes(Path("many.pdf"), make_pdf(["x"] * 41))
