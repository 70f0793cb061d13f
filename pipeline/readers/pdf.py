"""PDF notices through pypdfium2: text, page layout and drawn tables.

pypdfium2 gives each page's text with pdfium's own line breaks, ~40x faster
than pdfplumber. The reader then undoes what page layout did to the text:

- running headers/footers and page numbers (`— 3 —`, `-3-`, `第3页`) go;
- visual lines are joined back into paragraphs, also across page ends: a
  line that reaches the right margin continues on the next line unless that
  one is indented;
- spaces pdfium *generated* from glyph gaps next to CJK characters go
  (`2023 年` → `2023年`); spaces that are glyphs in the file stay;
- tables drawn with ruling lines (found by pdf_tables from the same pdfium
  page) are written as tab-separated rows (the form the text path reads),
  with rows split by a page break joined again.

`page_starts` records where each page's text begins, for item provenance.

Before pdfium parses anything, pdf_check walks the file's objects and refuses
content that would inflate to gigabytes and page trees that loop; a page
pdfium cannot load is a ReadError naming it.
"""

from __future__ import annotations

import statistics
from bisect import bisect_left
from dataclasses import dataclass, field

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

from extractors.structure import ends_sentence, starts_numbered_block
from pipeline.errors import ReadError
from pipeline.limits import active, raise_hint
from pipeline.readers.pdf_tables import CJK, Table, TooDense, find_tables
from schemas import ParseWarning, RecognizedLine, SourceText

FORMAT = "pdf"
SUFFIXES = (".pdf",)

# A whole line that is only a page number. Anchored: `—` also appears in `2023—2027`.
_PAGE_NUMBER = regex.compile(
    r"^\s*(?:[—–\-－_]\s*\d{1,4}\s*[—–\-－_]|第\s*\d{1,4}\s*页(?:\s*[，,/／]?\s*共\s*\d{1,4}\s*页)?"
    r"|\d{1,4}\s*/\s*\d{1,4}|\d{1,4})\s*$"
)
_HAN = regex.compile(r"\p{Han}")
_SPACE = regex.compile(r"\s")
_SYMBOL = regex.compile(r"[^\w\s]")
_NO_LINE_START = regex.compile(r"[，。、；：？！）》」』”’…—,.;:?!)]")


@dataclass
class _Line:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    table_rows: list[list[str]] | None = None  # set on a placeholder line that stands for a table
    confidence: float | None = None  # read by OCR: the engine's confidence


@dataclass
class _Page:
    number: int
    height: float
    lines: list[_Line] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    too_dense: str | None = None  # why its rules are too many to look for tables in: read as plain lines
    has_images: bool = False  # holds image objects (a page without text lines: a scan?)
    recognized: bool = False  # its lines come from OCR


def sniff(head: bytes) -> bool:
    # The header may follow some junk bytes; readers accept it within the first KB.
    return b"%PDF-" in head[:1024]


def read(data: bytes) -> SourceText:
    if not data.strip():
        raise ReadError("the file is empty")
    # Imported here: pdfminer (and what it imports) costs 0.1 s and ~15 MB, paid only by a
    # process that reads a PDF, not by the writer or a batch without PDFs.
    from pipeline.readers import pdf_check

    pdf_check.check(data)  # before pdfium parses anything: decompression bombs, page trees that loop
    pdf = _open(data)
    try:
        count = len(pdf)
        most = active().pdf_pages
        if count > most:
            raise ReadError(f"{count:,} pages, far beyond a notice (limit {most:,}; {raise_hint('pdf_pages')}); "
                            "is it a collection? split it")
        pages = [_read_page(pdf, index, count) for index in range(count)]
        mode = active().ocr
        unreadable = _unreadable_layer(pages)
        to_read = _pages_to_recognize(pages, mode, unreadable)
        if to_read:
            _recognize(pdf, pages, to_read)
    finally:
        pdf.close()
    if not pages:
        raise ReadError("the PDF has no pages")
    _check_text_layer(pages)
    _place_tables(pages)
    _drop_running_lines(pages)
    text, page_starts, recognized_lines = _paragraphs(pages)
    warnings = []
    if to_read:
        why = "text layer unreadable (fonts without a Unicode map)" if unreadable else (
            "no text layer (scanned)" if mode == "auto" else "--ocr force")
        mean = _mean_confidence(pages)
        warnings.append(
            ParseWarning(
                field="ocr",
                message=f"page{'s' if len(to_read) > 1 else ''} {_ranges([k + 1 for k in to_read])} read by OCR "
                f"({why}; mean confidence {mean:.3f}): check names and numbers against the page",
            )
        )
    empty = [p.number for p in pages if not p.lines and (p.has_images or not to_read)]
    if empty and len(empty) < len(pages):
        hint = "; --ocr auto reads them" if mode == "off" else ""
        warnings.append(
            ParseWarning(
                field="pages",
                message=f"pages {_ranges(empty)} have no text layer (scanned?); their content is missing{hint}",
            )
        )
    dense = [p for p in pages if p.too_dense]
    if dense:
        warnings.append(
            ParseWarning(
                field="tables",
                message=f"page{'s' if len(dense) > 1 else ''} {_ranges([p.number for p in dense])}: "
                f"too many ruling lines to look for tables in ({dense[0].too_dense}; a grid, not a notice's "
                "table); read as plain lines, no task-table rows from there",
            )
        )
    return SourceText(
        text=text,
        format=FORMAT,
        page_starts=page_starts,
        warnings=warnings,
        recognized_lines=recognized_lines,
        ocr_engine=_ocr_engine_name() if to_read else None,
    )


# --- OCR -----------------------------------------------------------------------


def _pages_to_recognize(pages: list[_Page], mode: str, unreadable: bool) -> list[int]:
    """Indexes of the pages to read by OCR: all with `force`; with `auto`, every page of a PDF whose
    text layer is garbage, else the pages with no text but images (a blank page is left alone)."""
    if mode == "off":
        return []
    if mode == "force" or unreadable:
        return list(range(len(pages)))
    return [k for k, p in enumerate(pages) if not p.lines and p.has_images]


def _recognize(pdf: pdfium.PdfDocument, pages: list[_Page], indexes: list[int]) -> None:
    """Replace the lines of these pages by the lines OCR reads on their images (pipeline.ocr)."""
    # Imported here: the engine (onnxruntime, OpenCV, ~300 MB) is loaded only by a process that meets a scan.
    from pipeline import ocr

    scale = 72 / ocr.RENDER_DPI
    for index, lines in ocr.recognize_pages(pdf, indexes):
        page = pages[index]
        height = page.height
        page.lines = [
            _Line(line.text, line.left * scale, line.right * scale, height - line.top * scale,
                  height - line.bottom * scale, confidence=line.confidence)
            for line in lines
        ]
        page.tables, page.too_dense, page.recognized = [], None, True


def _mean_confidence(pages: list[_Page]) -> float:
    lines = [line for p in pages if p.recognized for line in p.lines if line.confidence is not None]
    weight = sum(len(line.text) for line in lines)
    return sum(line.confidence * len(line.text) for line in lines) / weight if weight else 0.0


def _ocr_engine_name() -> str:
    from pipeline import ocr

    return ocr.ENGINE


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ReadError(
                "the PDF is encrypted with an open password; ask the issuer for an unprotected copy"
            ) from exc
        raise ReadError(f"not a readable PDF (damaged or truncated: {reason}); get a fresh copy of the file") from exc


def _read_page(pdf: pdfium.PdfDocument, index: int, count: int) -> _Page:
    try:
        page = pdf[index]
    except pdfium.PdfiumError as exc:
        raise ReadError(
            f"page {index + 1} of {count} cannot be loaded (the page tree or the page is damaged); "
            "re-export the file or get a fresh copy"
        ) from exc
    try:
        height = page.get_height()
        try:
            textpage = page.get_textpage()
        except pdfium.PdfiumError as exc:
            raise ReadError(
                f"the text of page {index + 1} of {count} cannot be read (damaged); re-export the file or get a fresh copy"
            ) from exc
        try:
            lines = _lines_of(textpage)
            try:
                result = _Page(index + 1, height, lines, find_tables(page, textpage))
            except TooDense as exc:
                result = _Page(index + 1, height, lines, too_dense=str(exc))
        finally:
            textpage.close()
        if not lines:
            result.has_images = _has_images(page)
        return result
    finally:
        page.close()


def _has_images(page: pdfium.PdfPage) -> bool:
    # Forms are entered (max_depth): a scan is often an image inside a form XObject.
    for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3):
        return True
    return False


def _lines_of(textpage: pdfium.PdfTextPage) -> list[_Line]:
    """pdfium's lines with the box of their first and last glyph."""
    text = textpage.get_text_range()
    aligned = len(text) == textpage.count_chars()  # not so with characters outside the BMP
    lines: list[_Line] = []
    pos = 0
    for raw in regex.split(r"(\r\n|\r|\n)", text):
        start, pos = pos, pos + len(raw)
        if raw in ("\r\n", "\r", "\n") or not raw.strip():
            continue
        first = start + (len(raw) - len(raw.lstrip()))
        last = start + len(raw.rstrip()) - 1
        clean = _drop_generated_spaces(textpage, raw, start) if aligned else raw
        if aligned:
            left, bottom, _, top = textpage.get_charbox(first, loose=True)
            _, bottom2, right, top2 = textpage.get_charbox(last, loose=True)
            lines.append(_Line(clean.strip(), left, right, max(top, top2), min(bottom, bottom2)))
        else:
            lines.append(_Line(clean.strip(), 0.0, 0.0, 0.0, 0.0))
    return lines


def _drop_generated_spaces(textpage: pdfium.PdfTextPage, line: str, start: int) -> str:
    """Remove spaces pdfium made up from gaps when a neighbour is CJK: `2023 年 3 月` → `2023年3月`."""
    if " " not in line:
        return line
    out = []
    for k, ch in enumerate(line):
        if ch == " " and 0 < k < len(line) - 1:
            before, after = line[k - 1], line[k + 1]
            if (CJK.match(before) or CJK.match(after)) and pdfium_c.FPDFText_IsGenerated(textpage.raw, start + k):
                continue
        out.append(ch)
    return "".join(out)


def _unreadable_layer(pages: list[_Page]) -> bool:
    """Whether the text layer is garbage: fonts without a Unicode map give `!"#$%&'…`."""
    text = "".join(line.text for p in pages if not p.recognized for line in p.lines)
    visible = len(text) - len(_SPACE.findall(text))
    han = len(_HAN.findall(text))
    symbols = len(_SYMBOL.findall(text))
    # A Chinese notice is mostly Han characters.
    return visible >= 50 and han / visible < 0.05 and symbols / visible > 0.3


def _check_text_layer(pages: list[_Page]) -> None:
    """Refuse a PDF whose text is missing (scan) or unreadable (fonts without a Unicode map)."""
    text = "".join(line.text for p in pages for line in p.lines)
    if not text.strip():
        if any(p.recognized for p in pages):
            raise ReadError("no text layer, and OCR found no text on its pages (blank, or not a notice); "
                            "the document was not ingested")
        raise ReadError("no text layer — scanned PDF, and OCR is off (--ocr off); run with --ocr auto to read "
                        "it; the document was not ingested")
    if _unreadable_layer(pages):
        raise ReadError(
            "text layer unreadable (fonts without a Unicode map: text extracts as symbols) and OCR is off "
            "(--ocr off); run with --ocr auto to read it; the document was not ingested"
        )


# --- tables ------------------------------------------------------------------


def _place_tables(pages: list[_Page]) -> None:
    """Replace the lines inside drawn tables by the tables' rows (tab-separated)."""
    previous_row: list[str] | None = None
    previous_page = None
    header: list[str] | None = None
    filled: dict[int, list[int]] = {}  # rows so far by length: [how many, then how many fill each column]
    for page in (p for p in pages if p.tables):
        placed: list[tuple[float, float, _Line]] = []
        for table in page.tables:
            rows = [[_cell(c) for c in row] for row in table.rows]
            rows = [r for r in rows if any(r)]
            if not rows:
                continue
            # A row cut by the page break: its first part ended the table on
            # the previous page; the rest starts this one, with a cell that
            # every other row fills (the number) left empty.
            if previous_row is not None and previous_page == page.number - 1 and len(rows[0]) == len(previous_row):
                if _continues(filled, rows[0]):
                    for k, cell in enumerate(rows.pop(0)):
                        previous_row[k] += cell
                elif rows[0] == header:
                    rows.pop(0)  # the header row, repeated on each page
            if header is None and rows:
                header = rows[0]
            for row in rows[1:] if rows and rows[0] is header else rows:
                counts = filled.setdefault(len(row), [0] * (len(row) + 1))
                counts[0] += 1
                for k, cell in enumerate(row, 1):
                    counts[k] += bool(cell)
            x0, top, x1, bottom = table.bbox
            # The row lists are shared, so a continuation on the next page edits them in place.
            placed.append((top, bottom, _Line("", x0, x1, page.height - top, page.height - bottom, table_rows=rows)))
            if rows:
                previous_row, previous_page = rows[-1], page.number
        if placed:
            page.lines = _with_tables(page.lines, placed, page.height)


def _with_tables(lines: list[_Line], placed: list[tuple[float, float, _Line]], height: float) -> list[_Line]:
    """The lines of a page without those inside its tables, each table's placeholder in their place.

    `placed`: (top, bottom, placeholder) of each table, top to bottom (top-down coordinates). A line
    is inside a table when its middle is within the table's height (±2 pt); a table goes before the
    first line that starts below its top and no table above it has taken. In O((lines + tables) log).
    """
    # The first table (by index) holding each line, found by walking each table's band of line middles
    # and skipping the lines an earlier table took (`after`: union-find to the next line not taken).
    taken = [len(placed)] * len(lines)
    middles = sorted((height - (line.top + line.bottom) / 2, k) for k, line in enumerate(lines))
    keys = [m for m, _ in middles]
    after = list(range(len(middles) + 1))

    def untaken(i: int) -> int:
        while after[i] != i:
            after[i] = after[after[i]]
            i = after[i]
        return i

    for t, (top, bottom, _) in enumerate(placed):
        i = untaken(bisect_left(keys, top - 2))
        while i < len(middles) and keys[i] <= bottom + 2:
            taken[middles[i][1]] = t
            after[i] = i + 1
            i = untaken(i + 1)
    # Where each table goes: the lines that qualify only become fewer from one table to the next
    # (tops come lower, more lines are taken), so the first of them only moves forward.
    out: list[_Line] = []
    k = 0
    for t, (_, _, placeholder) in enumerate(placed):
        while k < len(lines) and (taken[k] <= t or lines[k].top >= placeholder.top):
            if taken[k] == len(placed):
                out.append(lines[k])
            k += 1
        out.append(placeholder)
    out.extend(line for line, by in zip(lines[k:], taken[k:]) if by == len(placed))
    return out


def _cell(value: str) -> str:
    # Cells wrap at their width: join the pieces as wrapped lines are joined.
    out = ""
    for piece in value.splitlines():
        if piece.strip():
            out += _join(out, piece.strip())
    return out.replace("\t", " ")


def _continues(filled: dict[int, list[int]], row: list[str]) -> bool:
    """Is `row` the rest of a row: empty in a column that (nearly) every row of its length so far fills?"""
    counts = filled.get(len(row))
    if counts is None or counts[0] < 3:
        return False
    key_columns = [k for k in range(len(row)) if counts[k + 1] >= 0.9 * counts[0]]
    return any(not row[k] for k in key_columns) and any(row)


# --- headers, footers, paragraphs ---------------------------------------------


def _drop_running_lines(pages: list[_Page]) -> None:
    """Remove page numbers and lines repeated at the top or bottom of most pages."""
    for page in pages:
        page.lines = [line for line in page.lines if line.table_rows is not None or not _PAGE_NUMBER.match(line.text)]
    if len(pages) < 3:
        return
    counts: dict[str, int] = {}
    for page in pages:
        for line in _edge_lines(page):
            key = regex.sub(r"\d+", "#", line.text)
            counts[key] = counts.get(key, 0) + 1
    running = {key for key, n in counts.items() if n >= max(3, len(pages) // 2)}
    if not running:
        return
    for page in pages:
        edges = {id(line) for line in _edge_lines(page)}
        page.lines = [
            line
            for line in page.lines
            if not (id(line) in edges and regex.sub(r"\d+", "#", line.text) in running)
        ]


def _edge_lines(page: _Page) -> list[_Line]:
    lines = [line for line in page.lines if line.table_rows is None]
    return lines[:1] + lines[-1:] if len(lines) > 1 else lines


def _paragraphs(pages: list[_Page]) -> tuple[str, list[int], list[RecognizedLine]]:
    """Join visual lines into paragraphs; return the text, each page's start offset and
    where the lines read by OCR are in the text."""
    body = [line for p in pages for line in p.lines if line.table_rows is None and line.right > line.left]
    if body:
        size = statistics.median(line.top - line.bottom for line in body) or 12.0
        rights = sorted(line.right for line in body)
        lefts = sorted(line.left for line in body)
        right_margin = rights[int(len(rights) * 0.95)]
        left_margin = lefts[int(len(lefts) * 0.05)]
    else:
        size, right_margin, left_margin = 12.0, 0.0, 0.0

    out: list[str] = []
    page_starts: list[int] = []
    recognized: list[RecognizedLine] = []
    length = 0
    last: _Line | None = None  # the last text line written, if a paragraph may go on from it

    def continues(line: _Line, same_page: bool) -> bool:
        if last is None or last.left > left_margin + 2.5 * size:
            return False  # nothing open, or a right-aligned/centred line (date, signature)
        if line.confidence is not None and (_set_apart(line, size) or _set_apart(last, size)):
            return False
        if line.left > left_margin + 1.5 * size:
            return False  # an indented line starts a paragraph
        if same_page and last.bottom - line.top > 1.2 * size:
            return False  # a blank line between them
        # Line breaking keeps `，。、）…` off a line's start, so a line may stop
        # short by a character more when the next one opens with such a pair.
        slack = 2.5 if _NO_LINE_START.match(line.text[1:2] or line.text[:1]) else 1.5
        if last.right < right_margin - slack * size:
            return False
        # Without a first-line indent, a full line ending a sentence followed by
        # a numbered line (`…（市科协）` / `3. …`) is a paragraph end too.
        return not (ends_sentence(out[-1]) and starts_numbered_block(line.text))

    for page in pages:
        first_on_page = True
        for line in page.lines:
            if line.table_rows is not None:
                if first_on_page:
                    page_starts.append(length + 1 if out else 0)
                    first_on_page = False
                for row in line.table_rows:
                    piece = ("\n" if out else "") + "\t".join(row)
                    out.append(piece)
                    length += len(piece)
                last = None
                continue
            join = continues(line, same_page=not first_on_page)
            piece = _join(out[-1], line.text) if join else ("\n" if out else "") + line.text
            if first_on_page:
                # Where this page's text starts: mid-line when it continues a paragraph.
                page_starts.append(length + (len(piece) - len(line.text)) if out else 0)
                first_on_page = False
            out.append(piece)
            if line.confidence is not None:
                start = length + len(piece) - len(line.text)
                recognized.append(RecognizedLine(start=start, end=start + len(line.text), page=page.number,
                                                 confidence=line.confidence))
            length += len(piece)
            last = line
        if first_on_page:
            page_starts.append(length)
    return "".join(out), page_starts, recognized


def _set_apart(line: _Line, size: float) -> bool:
    """An OCR line that is no body text: larger type (banner, title) or names side by side (a gap
    kept as a space between CJK characters: the signature block). A text layer says this with its
    own spacing, so only lines read by OCR are asked."""
    return line.top - line.bottom > 1.4 * size or bool(_GAP_BETWEEN_CJK.search(line.text))


_GAP_BETWEEN_CJK = regex.compile(r"\p{Han} +\p{Han}")


def _join(before: str, after: str) -> str:
    """Glue a wrapped line to the one before: no space between CJK, one between Latin words."""
    if before and after and not (CJK.match(before[-1]) or CJK.match(after[0])):
        return " " + after
    return after


def _ranges(numbers: list[int]) -> str:
    spans: list[str] = []
    start = prev = numbers[0]
    for n in numbers[1:] + [None]:  # type: ignore[list-item]
        if n is not None and n == prev + 1:
            prev = n
            continue
        spans.append(f"{start}" if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(spans)
