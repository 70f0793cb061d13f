"""Benchmark the web-page path: pages/s of the reader alone and of the whole parse.

    python -m pipeline.bench_html [FILE.html ...]      (or: make bench-html)

Without arguments it uses the pages under ../shared/corpus/real/ (local
notices and the 56 State Council pages of govcn_2019/). On one core, in the
same run, best of 3:

- lxml alone: parse the page and take the body's text (the floor we build on);
- reader: `pipeline.readers.html.read` (article found, lines, page metadata);
- whole parse: reader + `extract_document` (sections, tasks, units resolved), no database.

The target is 200 pages/s for the reader. How other extractors compare
(trafilatura, readability-lxml) is measured by pipeline/compare_html.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import html as lxml_html

from extractors import extract_document
from extractors.dictionary import default_dictionary
from pipeline.bench_pdf import best_of
from pipeline.errors import NoticeError
from pipeline.readers import html

REAL = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real"


def _lxml_floor(data: bytes) -> None:
    lxml_html.document_fromstring(data).text_content()


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted(REAL.glob("*.html")) + sorted(REAL.glob("govcn_2019/*.html"))
    if not files:
        print("no pages given and ../shared/corpus/real is absent", file=sys.stderr)
        return 2
    dictionary = default_dictionary()
    pages = []
    for path in files:
        data = path.read_bytes()
        try:
            html.read(data)
        except NoticeError as exc:
            print(f"{path.name}: skipped: {exc.message}")
            continue
        pages.append((path, data))
    size = sum(len(d) for _, d in pages)

    def floor() -> None:
        for _, data in pages:
            _lxml_floor(data)

    def reader() -> None:
        for _, data in pages:
            html.read(data)

    def whole() -> None:
        for path, data in pages:
            extract_document(html.read(data), source_path=path.name, content_hash="bench", dictionary=dictionary)

    times = {name: best_of(3, fn) for name, fn in (("lxml", floor), ("reader", reader), ("whole", whole))}
    n = len(pages)
    print(f"{n} pages, {size / 1024 / 1024:.1f} MB of HTML, one core, best of 3")
    print(f"  lxml parse + text_content   {n / times['lxml']:8.0f} pages/s")
    print(f"  reader (article, lines, metadata) {n / times['reader']:6.0f} pages/s  (target 200)")
    print(f"  whole parse (reader + extract)    {n / times['whole']:6.0f} pages/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
