"""Benchmark the PDF path: pages/s of read → extract → normalize, beside raw extractors.

    python -m pipeline.bench_pdf [FILE.pdf ...]      (or: make bench-pdf)
    python -m pipeline.bench_pdf --pages [500,1000,2000,4000]

Without arguments it uses the PDFs under ../shared/corpus/ (generated
renderings of the seeds and real notices). For each file, in the same run:

- raw pypdfium2: `get_text_range()` on every page (the floor we build on);
- pdfplumber: `extract_text()` on every page (the usual alternative);
- policy-notices: `read_bytes` + `extract_document` (units resolved), no database.

Pages that draw tables also go through our table finder, so the summary
shows text-only files (no table pages) apart from all files.

`--pages` measures how the cost of a page grows with the pages of a file: it
joins the generated renderings of the seeds (their task tables run over many
pages) into files of each page count, and prints CPU ms per page to read and
to extract, and the peak RSS. The page limit (MAX_PDF_PAGES) is lifted for it.
ms/page should be flat.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pdfplumber
import pypdfium2 as pdfium

from extractors import extract_document
from extractors.dictionary import default_dictionary
from pipeline.errors import NoticeError
from pipeline.readers import read_bytes
from pipeline.readers.pdf_tables import find_tables

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _raw_pdfium(data: bytes) -> int:
    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            textpage = page.get_textpage()
            textpage.get_text_range()
            textpage.close()
            page.close()
        return len(document)
    finally:
        document.close()


def _pdfplumber(path: Path) -> None:
    with pdfplumber.open(path) as document:
        for page in document.pages:
            page.extract_text()
            page.flush_cache()


def _ours(path: Path, data: bytes, dictionary) -> None:
    source = read_bytes(path, data)
    extract_document(source, source_path=str(path), content_hash="bench", dictionary=dictionary)


def best_of(repeat: int, fn) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def _table_pages(data: bytes) -> int:
    """Pages on which the reader finds a ruled table."""
    document = pdfium.PdfDocument(data)
    try:
        count = 0
        for k in range(len(document)):
            page = document[k]
            textpage = page.get_textpage()
            count += bool(find_tables(page, textpage))
            textpage.close()
            page.close()
        return count
    finally:
        document.close()


def joined_pdf(pages: int, sources: list[Path]) -> bytes:
    """One PDF of `pages` pages: the sources' pages, over and over."""
    import io

    out = pdfium.PdfDocument.new()
    documents = [pdfium.PdfDocument(path) for path in sources]
    k = 0
    while len(out) < pages:
        source = documents[k % len(documents)]
        out.import_pages(source, list(range(min(len(source), pages - len(out)))))
        k += 1
    buffer = io.BytesIO()
    out.save(buffer)
    return buffer.getvalue()


def page_scaling(counts: list[int]) -> int:
    """CPU ms per page, read and extract, for files of each page count; each in a process of its own."""
    import subprocess

    sources = [SHARED / "generated" / name for name in ("003_b8b4a31499fe38d2.pdf", "000_69453124e71ca7c9.pdf")]
    if not all(path.exists() for path in sources):
        print("../shared/corpus/generated is absent", file=sys.stderr)
        return 2
    print(f"{'pages':>6} {'MB':>6} {'read ms/page':>13} {'extract ms/page':>16} {'items':>7} {'peak RSS MB':>12}")
    for count in counts:
        out = subprocess.run([sys.executable, "-m", "pipeline.bench_pdf", "--one", str(count)],
                             capture_output=True, text=True, check=True)
        print(out.stdout.rstrip())
    return 0


def _one(count: int) -> None:
    import resource

    from pipeline import limits

    sources = [SHARED / "generated" / name for name in ("003_b8b4a31499fe38d2.pdf", "000_69453124e71ca7c9.pdf")]
    data = joined_pdf(count, sources)
    limits.use(limits.FileLimits(pdf_pages=count))
    dictionary = default_dictionary()
    started = time.process_time()
    source = read_bytes(Path("joined.pdf"), data)
    read = time.process_time() - started
    started = time.process_time()
    doc = extract_document(source, source_path="joined.pdf", content_hash="bench", dictionary=dictionary)
    extract = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{count:6d} {len(data) / 1e6:6.1f} {1000 * read / count:13.2f} {1000 * extract / count:16.2f} "
          f"{len(doc.items):7d} {peak:12.0f}")


def main(argv: list[str]) -> int:
    if argv[:1] == ["--one"]:
        _one(int(argv[1]))
        return 0
    if argv[:1] == ["--pages"]:
        return page_scaling([int(n) for n in (argv[1] if len(argv) > 1 else "500,1000,2000,4000").split(",")])
    files = [Path(a) for a in argv] or sorted(SHARED.glob("*/*.pdf"))
    if not files:
        print("no PDF files given and ../shared/corpus is absent", file=sys.stderr)
        return 2
    dictionary = default_dictionary()
    rows = []
    print(f"{'file':44} {'pages':>5} {'tables':>6} {'pdfium p/s':>11} {'plumber p/s':>11} {'ours p/s':>9}")
    for path in files:
        data = path.read_bytes()
        try:
            _ours(path, data, dictionary)  # warm up; also skips files we refuse (scans)
        except NoticeError as exc:
            print(f"{path.name[:44]:44} skipped: {exc.message[:60]}")
            continue
        pages = _raw_pdfium(data)
        tables = _table_pages(data)
        repeat = 3 if pages < 60 else 1
        raw = best_of(repeat, lambda: _raw_pdfium(data))
        plumber = best_of(1, lambda: _pdfplumber(path))
        ours = best_of(repeat, lambda: _ours(path, data, dictionary))
        rows.append((path.name, pages, tables, raw, plumber, ours))
        print(f"{path.name[:44]:44} {pages:5d} {tables:6d} {pages / raw:11.0f} {pages / plumber:11.1f} {pages / ours:9.0f}")

    def total(selected, label):
        if not selected:
            return
        pages = sum(r[1] for r in selected)
        raw, plumber, ours = (sum(r[k] for r in selected) for k in (3, 4, 5))
        print(
            f"\n{label}: {len(selected)} files, {pages} pages\n"
            f"  raw pypdfium2        {pages / raw:8.0f} pages/s\n"
            f"  pdfplumber           {pages / plumber:8.1f} pages/s\n"
            f"  policy-notices path  {pages / ours:8.0f} pages/s  "
            f"= {raw / ours:.0%} of raw pypdfium2, {plumber / ours:.1f}x pdfplumber"
        )

    total([r for r in rows if r[2] == 0], "text-only files (no table pages)")
    total(rows, "all files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
