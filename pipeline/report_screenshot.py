"""The picture of the report in the README (docs/report.png): `make report-png`.

    python -m pipeline.report_screenshot --db FILE --out docs/report.png

Writes the report of the database, opens it in headless chromium (Debian's, driven by Playwright,
as the browser test does) and saves the charts' part of the page as a PNG. Needs the test extra
(playwright) and chromium (`make browser`); a CJK font (fonts-wqy-microhei) for readable labels.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline.report import write_report

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def screenshot(db: Path, out: Path, width: int = 1280) -> Path:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("chromium is not installed: run make browser (root and apt-get needed)")
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        page_file, _ = write_report(db, Path(folder) / "report.html")
        context = playwright.chromium.launch_persistent_context(
            str(Path(folder) / "profile"), executable_path=chromium, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": width, "height": 900},
        )
        try:
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.as_uri())
            page.wait_for_selector("body[data-charts-drawn]", timeout=30_000)
            if errors:
                raise SystemExit(f"the report has page errors: {errors}")
            # From the top to the end of the network: the charts, not the long tables below.
            bottom = page.locator("#network").bounding_box()
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out), full_page=True,
                            clip={"x": 0, "y": 0, "width": width, "height": bottom["y"] + bottom["height"] + 16})
        finally:
            context.close()
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, metavar="FILE")
    parser.add_argument("--out", type=Path, default=Path("docs/report.png"), metavar="FILE")
    args = parser.parse_args(argv)
    written = screenshot(args.db, args.out)
    print(f"wrote {written} ({written.stat().st_size / 1e3:.0f} kB)")


if __name__ == "__main__":
    main(sys.argv[1:])
