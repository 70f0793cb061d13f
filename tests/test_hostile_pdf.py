"""Hostile PDFs (issue 15): none can take a batch down, and the reader's cost stays in proportion.

Each file is made here (tests/fixture_files.py writes the PDF bytes and their xref).
Bounds on time and memory are generous: they show the guard acted (a second where it
took minutes, MBs where it took GBs), not how fast this machine is.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import ReadError
from pipeline.ingest import ingest, parse_bytes
from pipeline.limits import MAX_PDF_PAGE_CONTENT_BYTES, PDF_MAX_RULE_CROSSINGS
from pipeline.readers import pdf as pdf_reader
from pipeline.readers import read_bytes
from pipeline.readers.pdf_tables import Table, TooDense, _cells, _Rule
from tests.conftest import ROOT, SEED_FILES
from tests.fixture_files import deflated_spaces, grid, make_pdf, pdf_of, pdf_with_object_stream, text_at

TITLE = "Notice on the spring science week"


def grid_pdf(n: int) -> bytes:
    """One page: a title, then n x n ruling lines (a 1,400 x 1,400 grid is a 67 KB file)."""
    side = 5.0 * n + 200
    return make_pdf([text_at(60, side - 60, TITLE) + b"\n" + grid(n)], size=(side, side))


def bomb_pdf(inflated: int = 1 << 30) -> bytes:
    """Two pages; page 2's second content stream inflates to `inflated` bytes of spaces (1 GB: a 1 MB file)."""
    return pdf_of([[text_at(72, 760, TITLE)], [text_at(72, 760, "Second page"), (None, deflated_spaces(inflated))]])


def looping_pdf() -> bytes:
    """The root's second kid (object 5) lists the root (object 2) among its own kids."""
    page = [text_at(72, 760, TITLE)]
    return pdf_of([page, page], kids=b"10 0 R 5 0 R", count=3,
                  extra={5: b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R 20 0 R] /Count 2 >>"})


def missing_page_pdf() -> bytes:
    """The page tree says three pages; the second is an object the file does not have."""
    page = [text_at(72, 760, TITLE)]
    return pdf_of([page, page], kids=b"10 0 R 99 0 R 20 0 R", count=3)


# --- through the real ingest: the batch goes on --------------------------------------------


class _PeakWorkerMemory:
    """The largest RSS any process below this one reaches (the parsing workers), sampled from /proc."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            for pid in _descendants(me):
                try:
                    rss = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
                except (OSError, IndexError, ValueError):
                    continue
                self.peak_mb = max(self.peak_mb, rss / 1024 / 1024)
            time.sleep(0.02)


def _descendants(root: int) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
                found += map(int, children)
                todo += map(int, children)
        except OSError:
            continue
    return found


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="measures the workers through /proc")
def test_hostile_pdfs_are_one_error_row_each_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    good = {Path(shutil.copy(seed, folder / seed.name)).name for seed in SEED_FILES[:2]}
    hostile = {
        "grid.pdf": grid_pdf(1400),  # before: table finding took > 15 minutes
        "bomb.pdf": bomb_pdf(),  # before: 2.2 GB and stored as a document
        "loop.pdf": looping_pdf(),  # before: a traceback (PdfiumError) recorded as a bug
        "missing-page.pdf": missing_page_pdf(),
    }
    for name, data in hostile.items():
        (folder / name).write_bytes(data)
    db = tmp_path / "x.duckdb"
    started = time.monotonic()
    with _PeakWorkerMemory() as memory:
        report = ingest([folder], db, workers=2)
    elapsed = time.monotonic() - started

    with duckdb.connect(str(db), read_only=True) as con:
        stored = {Path(p).name for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
        errors = {Path(p).name: (stage, cls, message) for p, stage, cls, message in con.execute(
            "SELECT source_path, stage, error_class, message FROM ingest_errors").fetchall()}
        warnings = con.execute(
            "SELECT w.message FROM document_warnings w JOIN documents d USING (document_id) "
            "WHERE d.source_path LIKE '%grid.pdf' AND w.field = 'tables'").fetchall()
    assert stored == good | {"grid.pdf"}
    assert set(errors) == {"bomb.pdf", "loop.pdf", "missing-page.pdf"}
    assert errors["bomb.pdf"][:2] == ("read", "ReadError")
    assert "page 2's content inflates to over 16 MB" in errors["bomb.pdf"][2]
    assert errors["loop.pdf"][:2] == ("read", "ReadError")
    assert "the page tree loops at object 2" in errors["loop.pdf"][2] and "re-export" in errors["loop.pdf"][2]
    assert errors["missing-page.pdf"][1:] == (
        "ReadError", "page 2 of 3 cannot be loaded (the page tree or the page is damaged); "
        "re-export the file or get a fresh copy")
    assert len(warnings) == 1 and "read as plain lines" in warnings[0][0]
    assert report.counts["failed"] == 3 and report.exit_code == 1
    print(f"batch {elapsed:.1f} s, largest worker {memory.peak_mb:.0f} MB")
    assert elapsed < 60, elapsed  # mostly starting two workers; the grid alone took > 15 minutes
    assert memory.peak_mb < 500, memory.peak_mb  # a worker reading the bomb whole reached 2.2 GB


# --- decompression bomb: refused before anything is inflated ---------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_a_content_stream_that_inflates_to_a_gigabyte_is_refused_in_little_memory_and_time(tmp_path):
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb_pdf(1 << 30))
    assert path.stat().st_size < 1_100_000
    # A process of its own, so its peak RSS is the reader's (and this one's imports).
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from pipeline.errors import ReadError\n"
        "from pipeline.readers import read_file\n"
        "started = time.perf_counter()\n"
        "try:\n"
        "    read_file(sys.argv[1])\n"
        "    print('read')\n"
        "except ReadError as exc:\n"
        "    print(exc)\n"
        "print(time.perf_counter() - started)\n"
        # VmHWM, not ru_maxrss: that one keeps the high-water mark of the forked copy of pytest before exec.
        "print(next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024)\n"
    )
    result = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, cwd=ROOT,
                            timeout=120)
    message, seconds, peak_mb = result.stdout.strip().splitlines()
    assert message == (
        f"{path}: page 2's content inflates to over 16 MB (a page of a notice: tens of KB): a decompression bomb "
        "or a damaged file; not ingested: get a fresh copy or re-export it (--file-limit pdf_page_content_mb=N raises it)"
    ), result.stderr
    assert float(seconds) < 2, seconds  # ~0.05 s
    assert float(peak_mb) < 200, peak_mb  # ~100 MB, most of it the interpreter and its libraries


def test_content_just_under_the_limit_is_read():
    data = pdf_of([[text_at(72, 760, TITLE), (None, deflated_spaces(MAX_PDF_PAGE_CONTENT_BYTES - (1 << 20)))]])
    assert read_bytes(Path("big.pdf"), data).text == TITLE


def test_a_form_xobject_that_inflates_too_far_is_refused():
    form = deflated_spaces(32 << 20)
    data = pdf_of(
        [[text_at(72, 760, TITLE)], [text_at(72, 760, "Second page") + b" /Fm1 Do"]],
        extra={5: b"<< /Type /XObject /Subtype /Form /BBox [0 0 595 842] /Filter /FlateDecode /Length %d >>\n"
                  b"stream\n" % len(form) + form + b"\nendstream"},
        resources={1: b"/XObject << /Fm1 5 0 R >> "},
    )
    with pytest.raises(ReadError, match=r"page 2: a form XObject \(object 5\) inflates to over 16 MB"):
        read_bytes(Path("form.pdf"), data)


@pytest.mark.parametrize(
    ("padding", "xref_padding", "message"),
    [(1 << 30, 0, "an object stream (object 7)"), (0, 1 << 30, "the cross-reference stream (object 12)")],
    ids=["object-stream", "xref-stream"],
)
def test_streams_that_hold_objects_are_measured_before_anything_inflates_them(padding, xref_padding, message):
    """Object and cross-reference streams are inflated whole to find objects, by pdfium as it opens the file."""
    assert read_bytes(Path("packed.pdf"), pdf_with_object_stream(1 << 20, 1 << 20)).text == "Packed objects"
    data = pdf_with_object_stream(padding, xref_padding)
    assert len(data) < 1_100_000
    started = time.monotonic()
    with pytest.raises(ReadError) as caught:
        read_bytes(Path("packed.pdf"), data)
    assert caught.value.message.startswith(f"{message} inflates to over 64 MB, far beyond a notice")
    assert time.monotonic() - started < 2


# --- damaged page trees ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (looping_pdf, "the page tree loops at object 2 (a /Kids entry points back at a node above it); "
                      "the file is damaged: re-export it or get a fresh copy"),
        (lambda: pdf_of([[text_at(72, 760, TITLE)]] * 2, kids=b"10 0 R 2 0 R 20 0 R"),
         "the page tree loops at object 2"),
        (missing_page_pdf, "page 2 of 3 cannot be loaded"),
        (lambda: pdf_of([[text_at(72, 760, TITLE)]], count=4), "page 2 of 4 cannot be loaded"),
    ],
    ids=["kid-points-at-the-root", "root-lists-itself", "kid-is-missing", "count-too-high"],
)
def test_a_damaged_page_tree_is_one_clear_error(make, message):
    started = time.monotonic()
    with pytest.raises(ReadError) as caught:
        read_bytes(Path("damaged.pdf"), make())
    assert message in str(caught.value) and "\n" not in str(caught.value)
    assert time.monotonic() - started < 5


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
    time per page of 2,006.) `python -m pipeline.bench_pdf --pages` measures 500 to 4,000 pages of the seeds' renderings."""

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
    from pipeline import limits

    previous = limits.use(limits.FileLimits(pdf_pages=40))
    try:
        with pytest.raises(ReadError, match="41 pages, far beyond a notice \\(limit 40; --file-limit pdf_pages=N"):
            read_bytes(Path("many.pdf"), make_pdf(["x"] * 41))
    finally:
        limits.use(previous)
