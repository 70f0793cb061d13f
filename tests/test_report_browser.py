"""notices report in a real browser: Debian's chromium, headless, driven by Playwright.

The page is opened from a file with every network request refused, as a reader who got it by
mail would open it offline; the charts must draw all their marks and the console stay silent.
`make test` installs chromium where it can (root and apt-get); without it this test skips, except
under .ci/run (NOTICES_REQUIRE_BROWSER=1), where it fails: CI must really run it.
"""

from __future__ import annotations

import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest
from conftest import RAW

from pipeline.report import gather, write_report
from pipeline.store import Store

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
# Flags for a root user on a machine without a GPU or network (each is needed or quiets a request).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def _need_browser():
    missing = None
    if CHROMIUM is None:
        missing = "chromium is not installed (make browser installs it: root and apt-get needed)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("NOTICES_REQUIRE_BROWSER"):
            pytest.fail(missing)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of the 24 notices of data/raw/ and its gathered figures."""
    from pipeline.ingest import ingest

    folder = tmp_path_factory.mktemp("report_browser")
    db = folder / "raw.duckdb"
    assert ingest(sorted(RAW.iterdir()), db).exit_code == 0
    out, data = write_report(db, folder / "report.html")
    with Store.open(db, read_only=True) as store:
        assert gather(store).totals == data.totals
    return out, data


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless chromium with a fresh profile (--user-data-dir)."""
    _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium_profile")),
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            context.close()


def _open(browser, report_file: Path):
    """A tab showing `report_file` once its charts are drawn; console messages, page errors and
    requests that left the file are recorded on it."""
    tab = browser.new_page()
    tab.console, tab.errors, tab.requests = [], [], []
    tab.on("console", lambda m: tab.console.append(f"{m.type}: {m.text}"))
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))

    def offline(route):
        if not route.request.url.startswith(("file:", "data:")):
            tab.requests.append(route.request.url)
            return route.abort()
        return route.continue_()

    tab.route("**/*", offline)
    tab.goto(report_file.as_uri())
    tab.wait_for_selector("body[data-charts-drawn]", timeout=30_000)
    return tab


@pytest.fixture(scope="module")
def page(browser, report):
    tab = _open(browser, report[0])
    yield tab
    tab.close()


def test_no_console_messages_page_errors_or_requests(page):
    assert page.get_attribute("body", "data-charts-drawn") == "3"
    assert page.console == []
    assert page.errors == []
    assert page.requests == []  # nothing fetched: the page works offline


def test_each_chart_draws_a_mark_per_data_point(page, report):
    _, data = report
    bars = page.locator("#chart-documents g.mark-rect.role-mark path")
    assert bars.count() == len(data.documents_by_year) >= 10
    workload = page.locator("#chart-workload g.mark-rect.role-mark path")
    drawn = sum(1 for u in data.top_units for n in (u.led, u.co_handled) if n)
    assert workload.count() == drawn >= len(data.top_units) == 25
    # each bar says what it shows (Vega's aria-label): the top unit of the SQL ranking is there
    labels = [workload.nth(i).get_attribute("aria-label") or "" for i in range(workload.count())]
    top = data.top_units[0]
    assert any(top.unit in label and f"tasks: {top.co_handled}" in label for label in labels)
    nodes = page.locator("#chart-network g.mark-symbol.role-mark path")
    links = page.locator("#chart-network g.mark-rule.role-mark line")
    assert nodes.count() == len(data.network_nodes) == 40
    assert links.count() == len(data.network_edges) > 40
    # the marks have a size on the screen (not drawn at 0×0 or outside the chart)
    box = page.locator("#chart-network svg").bounding_box()
    assert box["width"] > 600 and box["height"] > 400
    for i in (0, nodes.count() - 1):
        node = nodes.nth(i).bounding_box()
        assert node["width"] > 2 and box["x"] <= node["x"] <= box["x"] + box["width"]


def test_a_document_link_opens_its_task_table(page, report):
    _, data = report
    document = max(data.documents, key=lambda p: len(p.tasks))
    details = page.locator(f"#doc-{document.document_id}")
    assert not details.evaluate("el => el.open")
    page.locator(f'a[href="#doc-{document.document_id}"]').click()
    assert details.evaluate("el => el.open")
    assert details.locator("table.tasks tbody tr").count() == len(document.tasks)
    assert details.locator("table.tasks tbody tr").first.is_visible()


def test_screenshot_is_a_picture_of_the_report(page, tmp_path):
    shot = tmp_path / "report.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot))
    width, height, pixels = _png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 900)
    # not blank: many colours (the header, the bars' palette, text), not one background
    assert len(set(pixels)) > 50


def _png_pixels(png: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and a sample of the pixels of an 8-bit RGB(A) PNG (no image library needed)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        body = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour = header
    assert depth == 8 and colour in (2, 6)
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    pixels, previous = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):  # undo the PNG row filter
            a = line[i - channels] if i >= channels else 0
            b, c = previous[i], previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        previous = line
        if y % 10 == 0:
            pixels.extend(bytes(line[x:x + 3]) for x in range(0, stride, channels * 5))
    return width, height, pixels


def test_a_report_without_units_draws_what_it_has_silently(browser, tmp_path):
    """One notice whose tasks name no unit: no workload bars, no network, and still no warning."""
    from pipeline.ingest import ingest

    (tmp_path / "notice.txt").write_text(
        "关于做好节能工作的通知\n\n各单位：\n\n一、加强组织领导。各单位要高度重视。\n\n二、做好宣传。广泛宣传节能知识。\n\n"
        "北京市发展和改革委员会\n2023年5月1日\n", encoding="utf-8")
    ingest([tmp_path / "notice.txt"], tmp_path / "one.duckdb")
    out, data = write_report(tmp_path / "one.duckdb", tmp_path / "one.html")
    assert data.top_units == [] and data.network_nodes == []
    tab = _open(browser, out)
    try:
        assert tab.get_attribute("body", "data-charts-drawn") == "1"
        assert tab.locator("#chart-documents g.mark-rect.role-mark path").count() == 1
        assert "No task names a unit" in tab.inner_text("#chart-workload")
        assert "No two units share a task" in tab.inner_text("#chart-network")
        assert (tab.console, tab.errors, tab.requests) == ([], [], [])
    finally:
        tab.close()
