"""Headings, numbered items and task tables of one part of a notice.

A part is the notice body (正文) or one attachment (附件). Headings nest
一、 / （一） / … and numbered items (1. 1． 1、) hang under the nearest
heading. A number only starts a heading or an item when it continues the
current numbering (or restarts it at 1 under a new heading): that is what
keeps `2023年是…`, `5·30…` and lists inside sentences from becoming items.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import regex

from extractors.rules import load
from extractors.text import chinese_number, clean_text, compact, strip_markup
from schemas import Item, Section, Span

_RULES = load("structure")
_MARKS = "".join(regex.escape(m) for m in _RULES["item_marks"])
_SENTENCE_END = tuple(_RULES["sentence_end"])
_HAN_NUM = r"[一二三四五六七八九十百零〇两]+"

MARKS_RE = regex.compile(rf"^\s*(?P<marks>(?:[{_MARKS}]\s*)*)")
HEADING_PATTERNS: list[tuple[int, regex.Pattern[str]]] = [
    (1, regex.compile(rf"^(?P<label>(?P<num>{_HAN_NUM})\s*[、，,．.])\s*(?P<rest>.*)$")),
    (2, regex.compile(rf"^(?P<label>[（(]\s*(?P<num>{_HAN_NUM})\s*[）)])\s*[、，,．.]?\s*(?P<rest>.*)$")),
    (4, regex.compile(r"^(?P<label>[（(]\s*(?P<num>\d{1,3})\s*[）)])\s*(?P<rest>.*)$")),
]
# 1. 1． 1、 — not 2.0, 1.5万, 2023年; the number must be followed by text.
ITEM_RE = regex.compile(r"^(?P<label>(?P<num>\d{1,3})\s*[.．、](?![\d.．]))\s*(?P<rest>\S.*)$")


@dataclass(frozen=True)
class Line:
    """One line of the source text with its offsets (end excludes the newline)."""

    number: int
    start: int
    end: int
    text: str

    @property
    def stripped(self) -> str:
        return self.text.strip()

    @property
    def blank(self) -> bool:
        return not self.text.strip()


def split_lines(text: str) -> list[Line]:
    """The lines of `text` with 1-based numbers and character offsets."""
    lines, pos = [], 0
    for number, raw in enumerate(text.split("\n"), start=1):
        lines.append(Line(number, pos, pos + len(raw), raw))
        pos += len(raw) + 1
    return lines


def make_span(lines: list[Line], first: int, last: int, page_starts: list[int]) -> Span:
    """Span covering lines[first..last] (inclusive), with their pages if known."""
    start, end = lines[first].start, lines[last].end
    pages: list[int] = []
    if page_starts:
        first_page = bisect.bisect_right(page_starts, start)
        last_page = bisect.bisect_right(page_starts, max(start, end - 1))
        pages = list(range(max(first_page, 1), max(last_page, 1) + 1))
    return Span(
        start=start,
        end=end,
        first_line=lines[first].number,
        last_line=lines[last].number,
        pages=pages,
    )


def ends_sentence(text: str) -> bool:
    return strip_markup(text).rstrip().endswith(_SENTENCE_END)


def starts_numbered_block(text: str) -> bool:
    """Does `text` open with a heading or item number (一、 （一） 1. （1））?

    Readers of paged formats use it to tell a new paragraph from a wrapped
    line when the layout alone cannot (no first-line indent).
    """
    body = MARKS_RE.sub("", text, count=1).strip()
    return bool(ITEM_RE.match(body)) or any(p.match(body) for _, p in HEADING_PATTERNS)


def heading_title(rest: str) -> str:
    """Title of a heading: an inline heading `（一）加强组织领导。各级…` keeps its first sentence."""
    rest = rest.strip()
    head, sep, tail = rest.partition("。")
    if sep and tail.strip():
        return compact(head)
    return compact(rest.rstrip("。"))


@dataclass
class _OpenItem:
    number: int
    label: str
    marks: list[str]
    first: int
    last: int
    section_key: str | None


@dataclass
class PartStructure:
    sections: list[Section] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    table_lines: set[int] = field(default_factory=set)


def parse_part(
    lines: list[Line],
    first: int,
    last: int,
    part: str,
    page_starts: list[int],
) -> PartStructure:
    """Headings, items and table rows found in lines[first..last] of one part."""
    result = PartStructure()
    table_items, result.table_lines = parse_tables(lines, first, last, part, page_starts)

    # The open heading at each level, and the last number seen under each parent.
    open_sections: dict[int, Section] = {}
    last_child_number: dict[str | None, int] = {}
    last_item_number = 0
    items_since_heading = False
    current: _OpenItem | None = None

    def parent_key(level: int) -> str | None:
        above = [open_sections[lv] for lv in sorted(open_sections) if lv < level]
        return above[-1].key if above else None

    def close_item() -> None:
        nonlocal current
        if current is not None:
            result.items.append(_build_item(lines, current, part, page_starts))
            current = None

    for i in range(first, last + 1):
        line = lines[i]
        if line.blank or i in result.table_lines:
            continue
        marks_match = MARKS_RE.match(line.text)
        marks = [m for m in marks_match.group("marks") if not m.isspace()]
        body = line.text[marks_match.end():].strip()

        heading = _match_heading(body)
        if heading is not None and current is not None and heading[0] == 4:
            heading = None  # （1） inside an item is part of its text
        if heading is not None:
            level, number, label, rest = heading
            parent = parent_key(level)
            if number == last_child_number.get(parent, 0) + 1:
                close_item()
                key = f"{part}/{number}" if parent is None else f"{parent}.{number}"
                section = Section(
                    key=key,
                    part=part,
                    level=level,
                    number=number,
                    label=label,
                    title=heading_title(rest),
                    parent_key=parent,
                    span=make_span(lines, i, i, page_starts),
                )
                result.sections.append(section)
                for lv in [lv for lv in open_sections if lv >= level]:
                    del open_sections[lv]
                open_sections[level] = section
                last_child_number[parent] = number
                last_child_number[key] = 0
                items_since_heading = False
                continue

        item = ITEM_RE.match(body)
        if item is not None:
            number = int(item.group("num"))
            restart = number == 1 and not items_since_heading
            if number == last_item_number + 1 or restart:
                close_item()
                section_key = parent_key(99)
                current = _OpenItem(number, compact(item.group("label")), marks, i, i, section_key)
                last_item_number = number
                items_since_heading = True
                continue

        # Not a new heading or item: a line that continues the open item when
        # the item was cut mid-sentence (page break), else a paragraph of its own.
        if current is not None and not ends_sentence(lines[current.last].text):
            current.last = i
        else:
            close_item()
    close_item()
    result.items.extend(table_items)
    return result


def _match_heading(body: str) -> tuple[int, int, str, str] | None:
    for level, pattern in HEADING_PATTERNS:
        m = pattern.match(body)
        if m is None:
            continue
        num = m.group("num")
        number = int(num) if num.isdigit() else chinese_number(num)
        if number is None or number == 0 or not m.group("rest").strip():
            continue
        return level, number, compact(m.group("label")), m.group("rest")
    return None


def _build_item(lines: list[Line], it: _OpenItem, part: str, page_starts: list[int]) -> Item:
    span = make_span(lines, it.first, it.last, page_starts)
    raw = "\n".join(line.text for line in lines[it.first : it.last + 1])
    first_body = MARKS_RE.sub("", lines[it.first].text, count=1).strip()
    first_body = ITEM_RE.match(first_body).group("rest")
    body_lines = [first_body] + [line.text for line in lines[it.first + 1 : it.last + 1]]
    text = clean_text("\n".join(body_lines))
    return Item(
        key=f"{it.section_key or part}/{it.number}",
        part=part,
        section_key=it.section_key,
        number=it.number,
        label=it.label,
        text=text,
        raw_text=raw,
        marks=it.marks,
        span=span,
    )


# --- task tables -------------------------------------------------------------

_NUMBER_CELL = regex.compile(rf"^(?P<num>\d{{1,4}})\s*(?P<marks>(?:[{_MARKS}]\s*)*)$")


def _column_roles(cells: list[str]) -> dict[str, int]:
    roles: dict[str, int] = {}
    for role, names in _RULES["table_columns"].items():
        for index, cell in enumerate(cells):
            name = compact(cell)
            if role not in roles and index not in roles.values() and name in names:
                roles[role] = index
    return roles


def parse_tables(
    lines: list[Line], first: int, last: int, part: str, page_starts: list[int]
) -> tuple[list[Item], set[int]]:
    """Task tables given as tab-separated rows (序号 / 任务 / 主责单位 …).

    Rows shifted one column to the left (the category cell lost in a page
    break: `82\\t…\\t市科协\\t`) are put back, and a blank category inherits
    the one above.
    """
    items: list[Item] = []
    used: set[int] = set()
    i = first
    while i <= last:
        cells = lines[i].text.split("\t")
        roles = _column_roles(cells) if len(cells) >= 2 else {}
        if not {"number", "text"} <= roles.keys():
            i += 1
            continue
        used.add(i)
        width = len(cells)
        category: str | None = None
        j = i + 1
        while j <= last:
            line = lines[j]
            if line.blank:
                j += 1
                continue
            if "\t" not in line.text:
                break
            row = [c.strip() for c in line.text.split("\t")]
            row += [""] * (width - len(row))
            number_cell = _NUMBER_CELL.match(row[roles["number"]])
            if number_cell is None and roles["number"] > 0 and _NUMBER_CELL.match(row[0]):
                # Shifted left by the columns before 序号: move it back.
                shift = roles["number"]
                if all(not c for c in row[width - shift :]):
                    row = [""] * shift + row[: width - shift]
                    number_cell = _NUMBER_CELL.match(row[roles["number"]])
            if number_cell is None:
                break
            used.add(j)
            number = int(number_cell.group("num"))
            if "category" in roles and row[roles["category"]]:
                category = _category_name(row[roles["category"]])
            units = clean_text(row[roles["units"]]) if "units" in roles else ""
            items.append(
                Item(
                    key=f"{part}/{number}",
                    part=part,
                    section_key=None,
                    number=number,
                    label=number_cell.group("num"),
                    text=clean_text(row[roles["text"]]),
                    raw_text=line.text,
                    marks=[m for m in number_cell.group("marks") if not m.isspace()],
                    category=category,
                    units_text=units or None,
                    span=make_span(lines, j, j, page_starts),
                )
            )
            j += 1
        i = j
    return items, used


def _category_name(cell: str) -> str:
    """`二、实施青少年…` → `实施青少年…` (the numeral is the category's order, not its name)."""
    m = HEADING_PATTERNS[0][1].match(compact(cell))
    return compact(m.group("rest")) if m else compact(cell)
