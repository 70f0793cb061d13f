"""Word (.docx) notices through python-docx.

Body paragraphs and tables are read in document order; headers and footers
are not part of the notice. Word's automatic numbering (`w:numPr` on a
paragraph or its style) is not in `paragraph.text`, so it is computed from
numbering.xml and put in front of the text: an item Word numbered reads
exactly like one typed by hand. Table rows become tab-separated lines, the
form the text path reads; a merged cell is read once.

Many notices lay the whole page out in a table of one cell (or a few), with
the real task table inside it. A row whose one filled cell holds blocks
(several paragraphs, or a table of its own) is layout, not data: its
blocks are read in order as if they were in the body, so an inner task table
gives the same rows as one at the top level. Rows of a data table (two or
more rows with two or more filled cells) stay rows, whatever their cells
hold; a small table inside such a cell is flattened into the cell's text.
The body is walked with an explicit stack, not recursion, and content
controls (`w:sdt`) are read like the blocks they wrap.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from lxml import etree

from pipeline.errors import ReadError
from pipeline.limits import DOCX_MAX_RATIO, TABLE_MAX_COLUMNS, active, raise_hint
from schemas import ParseWarning, SourceText

FORMAT = "docx"
SUFFIXES = (".docx",)

# A .docx is a zip of XML; refuse archives that inflate far beyond their size.
MAX_RATIO = DOCX_MAX_RATIO

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"

_CN_DIGITS = "〇一二三四五六七八九"
_TIANGAN = "甲乙丙丁戊己庚辛壬癸"
_DIZHI = "子丑寅卯辰巳午未申酉戌亥"
_CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"


def sniff(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04") and (b"word/" in head or b"[Content_Types].xml" in head)


def read(data: bytes) -> SourceText:
    if not data.strip():
        raise ReadError("the file is empty")
    _check_archive(data)
    import docx  # python-docx; imported here so text-only runs do not pay for it
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise ReadError(f"not a readable Word document ({exc}); open and re-save it in Word or LibreOffice") from exc
    except Exception as exc:  # lxml syntax errors and the like: the XML inside is damaged
        too_deep = _EXCESSIVE_DEPTH_RE.search(str(exc))
        if too_deep:
            raise ReadError(
                f"the Word document's XML nests deeper than {too_deep.group(1) or 256} elements "
                "(the XML parser's limit, lxml/libxml2; tables inside tables inside tables …), "
                "far beyond a notice; is it the right file?"
            ) from exc
        raise ReadError(f"damaged Word document ({type(exc).__name__}: {exc}); re-save it or get a fresh copy") from exc
    numbering = _Numbering(document)
    lines = _body_lines(document, numbering)
    text = "\n".join(lines).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise ReadError("the Word document has no text (images only?); nothing to ingest")
    warnings = []
    if numbering.unknown_formats:
        formats = ", ".join(sorted(numbering.unknown_formats))
        warnings.append(
            ParseWarning(field="numbering", message=f"Word numbering formats not rendered: {formats}")
        )
    return SourceText(text=text, format=FORMAT, warnings=warnings)


def _check_archive(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise ReadError("not a valid .docx (not a zip archive); is it an old .doc renamed? re-save it as .docx") from exc
    with archive:
        infos = archive.infolist()
        names = {info.filename for info in infos}
        if "word/document.xml" not in names:
            raise ReadError("a zip archive without word/document.xml: not a Word document")
        total = sum(info.file_size for info in infos)
        packed = sum(info.compress_size for info in infos) or 1
        most = active().docx_inflated_mb
        if total > most * 2**20 or (total > 10 * 2**20 and total / packed > MAX_RATIO):
            raise ReadError(
                f"refused: the archive inflates to {total // 2**20} MB ({total / packed:.0f}x its size), "
                f"more than a notice can be (zip bomb?; limit {most} MB, ratio {MAX_RATIO}x; "
                f"{raise_hint('docx_inflated_mb')})"
            )


# --- body and tables ---------------------------------------------------------------

_P, _TBL, _TR, _TC, _T = (f"{_W}{name}" for name in ("p", "tbl", "tr", "tc", "t"))
_SDT, _SDT_CONTENT, _CUSTOM_XML = f"{_W}sdt", f"{_W}sdtContent", f"{_W}customXml"
# libxml2 refuses XML nested deeper than 256 elements (without XML_PARSE_HUGE, which python-docx does
# not set), about 80 tables inside one another; what it says then.
_EXCESSIVE_DEPTH_RE = re.compile(r"Excessive depth in document(?::\s*(\d+))?")


class _Budget:
    """Paragraphs and tables read so far, nested ones included; refuses a body beyond the
    docx_blocks limit."""

    __slots__ = ("left", "most")

    def __init__(self, blocks: int | None = None) -> None:
        self.most = blocks if blocks is not None else active().docx_blocks
        self.left = self.most

    def take(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise ReadError(
                f"more than {self.most:,} paragraphs and tables, far beyond a notice ({raise_hint('docx_blocks')}); "
                "is it the right file?"
            )


def _body_lines(document, numbering: _Numbering) -> list[str]:
    """The body's blocks as lines, in document order, layout tables opened (an explicit stack, no recursion)."""
    from docx.text.paragraph import Paragraph

    parent = document._body  # what a body paragraph's proxy hangs on (its style is looked up through it)
    budget = _Budget()
    lines: list[str] = []
    # Each entry yields elements to read (w:p, w:tbl, w:sdt …) or lines already made (a data row).
    stack: list = [iter(document.element.body)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif isinstance(item, str):
            lines.append(item)
        elif item.tag == _P:
            budget.take()
            paragraph = Paragraph(item, parent)
            text = paragraph.text
            label = numbering.label(paragraph)
            lines.append(label + text if label else text)
        elif item.tag == _TBL:
            budget.take()
            stack.append(_table_items(item, budget))
        elif item.tag == _SDT:  # a content control: its blocks are in w:sdtContent
            content = item.find(_SDT_CONTENT)
            if content is not None:
                stack.append(iter(content))
        elif item.tag == _CUSTOM_XML:
            stack.append(iter(item))
    return lines


def _table_items(tbl, budget: _Budget):
    """A table's data rows as tab-separated lines; the blocks of its layout rows, to be read like the body's."""
    rows = [(tr, [_filled(tc) for tc in tr.tc_lst]) for tr in tbl.tr_lst]
    data_table = sum(1 for _, filled in rows if sum(1 for f in filled if f) >= 2) >= 2
    for tr, filled in rows:
        holders = [(tc, f) for tc, f in zip(tr.tc_lst, filled) if f]
        if not data_table and len(holders) == 1 and holders[0][1] == _BLOCKS:
            yield from holders[0][0]  # its paragraphs and tables, in order (tcPr is passed over)
        else:
            line = _row_line(tr, budget)
            if line:
                yield line


_EMPTY, _TEXT, _BLOCKS = 0, 1, 2


def _filled(tc) -> int:
    """_BLOCKS if a cell holds a table or several paragraphs of text, _TEXT if one, _EMPTY if none."""
    paragraphs = 0
    for child in tc:
        if child.tag == _TBL:
            return _BLOCKS
        if child.tag == _P:
            paragraphs += _has_text(child)
        elif child.tag in (_SDT, _CUSTOM_XML):
            if child.find(f".//{_TBL}") is not None:
                return _BLOCKS
            paragraphs += _has_text(child)
        if paragraphs >= 2:
            return _BLOCKS
    return _TEXT if paragraphs else _EMPTY


def _has_text(element) -> bool:
    return any((t.text or "").strip() for t in element.iter(_T))


def _row_line(tr, budget: _Budget) -> str:
    """A row as one tab-separated line ('' if blank); merged cells once, their other slots empty."""
    cells: list[str] = []
    for tc in tr.tc_lst:
        # A span beyond Word's 63 columns is damage (gridSpan="2000000000" would fill memory).
        span = min(tc.grid_span or 1, TABLE_MAX_COLUMNS)
        if tc.vMerge == "continue":
            text = ""  # the cell above holds the text
        else:
            text = _cell_text(tc, budget)
        cells.append(text.replace("\t", " ").replace("\n", ""))
        cells.extend([""] * (span - 1))
    return "\t".join(cells) if any(c.strip() for c in cells) else ""


def _cell_text(tc, budget: _Budget) -> str:
    """A data cell's text on one line: its paragraphs run together, as Word wraps them; a table
    inside it gives its cells separated by a space and its rows by `；`. Walked without recursion."""
    if tc.find(f".//{_TBL}") is None:  # the common cell: its paragraphs only
        parts = []
        for p in tc.iter(_P):
            budget.take()
            parts.extend(t.text or "" for t in p.iter(_T))
        return "".join(parts).strip()
    buffers: list[list[str]] = [[]]  # the cell's text, then that of each open inner cell
    tables: list[list[list[str]]] = []  # the open inner tables: rows of cell texts
    for event, element in etree.iterwalk(tc, events=("start", "end")):
        tag = element.tag
        if event == "start":
            if tag == _T:
                buffers[-1].append(element.text or "")
            elif tag == _P:
                budget.take()
            elif tag == _TBL:
                budget.take()
                tables.append([])
            elif tag == _TR and tables:
                tables[-1].append([])
            elif tag == _TC and tables and element is not tc:
                buffers.append([])
        elif tag == _TC and tables and element is not tc:
            text = "".join(buffers.pop()).strip()
            if not tables[-1]:
                tables[-1].append([])
            tables[-1][-1].append(text)
        elif tag == _TBL:
            rows = [" ".join(c for c in row if c) for row in tables.pop()]
            text = "；".join(r for r in rows if r)
            if text:
                buffers[-1].append(f" {text} " if buffers[-1] else f"{text} ")
    return "".join(buffers[0]).strip()


# --- automatic numbering --------------------------------------------------------


@dataclass
class _Level:
    start: int = 1
    fmt: str = "decimal"
    text: str = "%1."
    restart: int | None = None  # w:lvlRestart: restart after this (1-based) level
    legal: bool = False  # w:isLgl
    suffix: str = " "  # w:suff: what Word puts between the number and the text (tab by default)


@dataclass
class _Numbering:
    """Counters of Word's list numbering, advanced paragraph by paragraph."""

    document: object
    levels: dict[str, dict[int, _Level]] = field(default_factory=dict)  # numId → ilvl → level
    abstract_of: dict[str, str] = field(default_factory=dict)  # numId → abstractNumId
    counters: dict[str, dict[int, int]] = field(default_factory=dict)  # abstractNumId → counts
    unknown_formats: set[str] = field(default_factory=set)
    # Style id → the numbering its style chain gives. python-docx looks the
    # default style up by scanning every style, for each unstyled paragraph.
    by_style: dict[str | None, tuple[str, int] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        try:
            root = self.document.part.numbering_part.element  # type: ignore[attr-defined]
        except (KeyError, NotImplementedError, AttributeError):
            return  # no numbering.xml: nothing is auto-numbered
        abstracts: dict[str, dict[int, _Level]] = {}
        for an in root.iter(f"{_W}abstractNum"):
            abstracts[an.get(f"{_W}abstractNumId")] = {
                int(lvl.get(f"{_W}ilvl", "0")): _read_level(lvl) for lvl in an.iter(f"{_W}lvl")
            }
        for num in root.iter(f"{_W}num"):
            num_id = num.get(f"{_W}numId")
            abstract = _val(num.find(f"{_W}abstractNumId")) or ""
            levels = {k: _Level(v.start, v.fmt, v.text, v.restart, v.legal, v.suffix) for k, v in abstracts.get(abstract, {}).items()}
            for override in num.iter(f"{_W}lvlOverride"):
                ilvl = int(override.get(f"{_W}ilvl", "0"))
                lvl = override.find(f"{_W}lvl")
                if lvl is not None:
                    levels[ilvl] = _read_level(lvl)
                start = _val(override.find(f"{_W}startOverride"))
                if start is not None:
                    levels.setdefault(ilvl, _Level()).start = int(start)
            self.levels[num_id] = levels
            # An instance with start overrides counts on its own.
            has_override = num.find(f"{_W}lvlOverride") is not None
            self.abstract_of[num_id] = f"{abstract}/{num_id}" if has_override else abstract

    def label(self, paragraph) -> str:
        """The number Word shows before `paragraph` (`一、`, `（二）`, `3.`), or ''."""
        if not self.levels:
            return ""
        found = _num_pr(paragraph, self.by_style)
        if found is None:
            return ""
        num_id, ilvl = found
        levels = self.levels.get(num_id)
        if not levels or ilvl not in levels:
            return ""
        key = self.abstract_of[num_id]
        counts = self.counters.setdefault(key, {})
        counts[ilvl] = counts.get(ilvl, levels[ilvl].start - 1) + 1
        for deeper in [k for k in counts if k > ilvl]:
            restart = levels.get(deeper, _Level()).restart
            if restart is None or restart > ilvl:
                del counts[deeper]
        level = levels[ilvl]
        if level.fmt in ("bullet", "none"):
            return ""
        text = level.text
        for k in range(ilvl, -1, -1):
            if f"%{k + 1}" in text:
                shown = levels.get(k, _Level())
                value = counts.get(k, shown.start)
                # w:isLgl: this level shows every counter in Arabic numerals (1.2.3).
                fmt = "decimal" if level.legal else shown.fmt
                text = text.replace(f"%{k + 1}", self._format(value, fmt))
        return text + level.suffix if text else ""

    def _format(self, value: int, fmt: str) -> str:
        rendered = format_number(value, fmt)
        if rendered is None:
            self.unknown_formats.add(fmt)
            return str(value)
        return rendered


def _val(element) -> str | None:
    return None if element is None else element.get(f"{_W}val")


def _read_level(lvl) -> _Level:
    start = _val(lvl.find(f"{_W}start"))
    restart = _val(lvl.find(f"{_W}lvlRestart"))
    return _Level(
        start=int(start) if start is not None else 1,
        fmt=_val(lvl.find(f"{_W}numFmt")) or "decimal",
        text=_val(lvl.find(f"{_W}lvlText")) or "",
        restart=int(restart) if restart is not None else None,
        legal=lvl.find(f"{_W}isLgl") is not None,
        suffix="" if _val(lvl.find(f"{_W}suff")) == "nothing" else " ",
    )


def _num_pr(paragraph, by_style: dict[str | None, tuple[str, int] | None]) -> tuple[str, int] | None:
    """numId and level of a paragraph, from its own properties or its style chain (cached in `by_style`)."""
    p_pr = paragraph._p.pPr
    if p_pr is not None and p_pr.numPr is not None:
        num_pr = p_pr.numPr
        num_id = num_pr.numId.val if num_pr.numId is not None else None
        ilvl = num_pr.ilvl.val if num_pr.ilvl is not None else 0
        if num_id is not None:
            return (str(num_id), int(ilvl)) if num_id != 0 else None
    style_id = p_pr.style if p_pr is not None else None
    if style_id not in by_style:
        by_style[style_id] = _style_num_pr(paragraph.style)
    return by_style[style_id]


def _style_num_pr(style) -> tuple[str, int] | None:
    seen = 0
    while style is not None and seen < 10:
        s_pr = style.element.pPr
        if s_pr is not None and s_pr.numPr is not None and s_pr.numPr.numId is not None:
            num_id = s_pr.numPr.numId.val
            ilvl = s_pr.numPr.ilvl.val if s_pr.numPr.ilvl is not None else 0
            return (str(num_id), int(ilvl)) if num_id != 0 else None
        style, seen = style.base_style, seen + 1
    return None


def format_number(value: int, fmt: str) -> str | None:
    """`value` in a Word numFmt: decimal 3, chineseCounting 三, ideographTraditional 丙 …; None if unknown."""
    if fmt in ("decimal", "decimalZero"):
        return f"{value:02d}" if fmt == "decimalZero" and value < 10 else str(value)
    if fmt == "decimalFullWidth" or fmt == "decimalFullWidth2":
        return str(value).translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    if fmt in ("chineseCounting", "chineseCountingThousand", "japaneseCounting", "taiwaneseCounting", "ideographDigital"):
        if fmt == "ideographDigital":
            return "".join(_CN_DIGITS[int(d)] for d in str(value))
        return chinese_numeral(value)
    if fmt == "chineseLegalSimplified":
        return chinese_numeral(value).translate(str.maketrans("一二三四五六七八九十百千", "壹贰叁肆伍陆柒捌玖拾佰仟"))
    if fmt == "ideographTraditional" and 1 <= value <= 10:
        return _TIANGAN[value - 1]
    if fmt == "ideographZodiac" and 1 <= value <= 12:
        return _DIZHI[value - 1]
    if fmt == "decimalEnclosedCircle" and 1 <= value <= 20:
        return _CIRCLED[value - 1]
    if fmt in ("lowerLetter", "upperLetter") and value >= 1:
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter if fmt == "lowerLetter" else letter.upper()
    if fmt in ("lowerRoman", "upperRoman") and value >= 1:
        roman = _roman(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    return None


def chinese_numeral(value: int) -> str:
    """1 → 一, 10 → 十, 15 → 十五, 23 → 二十三, 105 → 一百零五 (the counting form)."""
    if value <= 0:
        return str(value)
    if value < 10:
        return _CN_DIGITS[value]
    if value < 20:
        return "十" + (_CN_DIGITS[value % 10] if value % 10 else "")
    if value < 100:
        return _CN_DIGITS[value // 10] + "十" + (_CN_DIGITS[value % 10] if value % 10 else "")
    if value < 1000:
        rest = value % 100
        tail = "" if rest == 0 else ("零" + _CN_DIGITS[rest] if rest < 10 else ("一" + chinese_numeral(rest) if rest < 20 else chinese_numeral(rest)))
        return _CN_DIGITS[value // 100] + "百" + tail
    return str(value)


def _roman(value: int) -> str:
    out = ""
    for number, letters in (
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ):
        while value >= number:
            out, value = out + letters, value - number
    return out
