"""Headings, tasks and task tables of one part of a notice.

A part is the notice body (正文) or one attachment (附件). Headings nest
第一章 / 一、 / （一） / （1）; items (1. 1． 1、) and articles (第X条) hang
under the nearest heading. A number only starts a block when it continues
the numbering at its level (also on from the previous heading) or restarts
it at 1 under a new heading: that is what keeps `2023年是…`, `5·30…` and
lists inside sentences from becoming items. Items numbered from 1 again under
the same heading are a second list there (`_restarts`), keyed by the line that
introduces it; a numbered line that fits nowhere is a warning, never dropped
silently. Which blocks are tasks — at whatever level the notice numbers its
measures — is `_mark_tasks`'s rule.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import regex

from extractors.rules import load
from extractors.text import chinese_number, clean_text, compact, strip_markup
from schemas import Item, ParseWarning, Section, Span

_RULES = load("structure")
_MARKS = "".join(regex.escape(m) for m in _RULES["item_marks"])
_SENTENCE_END = tuple(_RULES["sentence_end"])
_LEAD_SENTENCE_END = tuple(_RULES["lead_sentence_end"])
_CIRCLED: dict[str, int] = _RULES["circled_numbers"]
_CLOSING = [regex.compile(p) for p in _RULES["closing_paragraph_patterns"]]
_WEAK_CLOSING = [regex.compile(p) for p in _RULES["weak_closing_paragraph_patterns"]]
_CAPTIONS = [regex.compile(p) for p in _RULES["caption_patterns"]]
_HAN_NUM = r"[一二三四五六七八九十百零〇两]+"

MARKS_RE = regex.compile(rf"^\s*(?P<marks>(?:[{_MARKS}]\s*)*)")


@dataclass(frozen=True)
class Style:
    """One way of numbering a block, with its place in the ladder (lower ranks enclose higher ones).

    `heading` styles are sections (一、 （一） 第一章); the others are items
    that take in any deeper numbering as their own text (1. and 第X条: the
    （一） of an article belong to the article).
    """

    rank: int
    heading: bool
    pattern: regex.Pattern[str]
    owns_paragraphs: bool = False  # an article's paragraphs are all its own (第X条)


STYLES: list[Style] = [
    Style(10, True, regex.compile(rf"^(?P<label>第\s*(?P<num>{_HAN_NUM}|\d{{1,3}})\s*[编章])\s*(?P<rest>.*)$")),
    Style(20, True, regex.compile(rf"^(?P<label>第\s*(?P<num>{_HAN_NUM}|\d{{1,3}})\s*节)\s*(?P<rest>.*)$")),
    Style(30, False, regex.compile(rf"^(?P<label>第\s*(?P<num>{_HAN_NUM}|\d{{1,3}})\s*条)\s*(?P<rest>.*)$"), True),
    Style(40, True, regex.compile(rf"^(?P<label>(?P<num>{_HAN_NUM})\s*[、，,．.])\s*(?P<rest>.*)$")),
    Style(50, True, regex.compile(rf"^(?P<label>[（(]\s*(?P<num>{_HAN_NUM})\s*[）)]|(?P<num>[㈠-㈩]))\s*[、，,．.]?\s*(?P<rest>.*)$")),
    # 1. 1． 1、 — not 2.0, 1.5万, 2023年; the number must be followed by text.
    # After 、 a digit may follow (1、2年内…); after . or ． it would be a decimal (2.0, 1.5万).
    Style(60, False, regex.compile(r"^(?P<label>(?P<num>\d{1,3})\s*(?:[.．](?![\d.．])|、))\s*(?P<rest>\S.*)$")),
    Style(70, True, regex.compile(r"^(?P<label>[（(]\s*(?P<num>\d{1,3})\s*[）)])\s*(?P<rest>.*)$")),
    # ① ② …: sub-points, always inside the block above them.
    Style(80, False, regex.compile(r"^(?P<label>(?P<num>[①-⑳]))\s*(?P<rest>.*)$")),
]
HAN_LIST = STYLES[3]  # 一、二、: also how a task table writes its categories


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


_HAN_DIGITS = frozenset(_HAN_NUM[1:-2])
_DIGIT = regex.compile(r"\d")


def _styles_opening(first: str) -> list[Style]:
    """The styles whose pattern can match a text that opens with `first` (the rest cannot)."""
    if first == "第":
        return STYLES[:3]
    if first in _HAN_DIGITS:
        return [STYLES[3]]
    if first in "（(":
        return [STYLES[4], STYLES[6]]
    if "㈠" <= first <= "㈩":
        return [STYLES[4]]
    if _DIGIT.match(first):
        return [STYLES[5]]
    if "①" <= first <= "⑳":
        return [STYLES[7]]
    return []


def numbered(text: str) -> tuple[Style, int, str, str] | None:
    """(style, number, label, rest) when `text` opens with a number of any style, else None."""
    for style in _styles_opening(text[:1]):
        m = style.pattern.match(text)
        if m is None:
            continue
        num = m.group("num")
        number = int(num) if num.isascii() and num.isdigit() else _CIRCLED.get(num) or chinese_number(num)
        if not number or not m.group("rest").strip():
            continue
        return style, number, compact(m.group("label")), m.group("rest")
    return None


def starts_numbered_block(text: str) -> bool:
    """Does `text` open with a heading or item number (一、 （一） 1. （1） 第X条)?

    Readers of paged formats use it to tell a new paragraph from a wrapped
    line when the layout alone cannot (no first-line indent).
    """
    return numbered(MARKS_RE.sub("", text, count=1).strip()) is not None


def heading_title(rest: str) -> str:
    """Title of a heading: an inline heading `（一）加强组织领导。各级…` keeps its first sentence."""
    rest = rest.strip()
    head, sep, tail = rest.partition("。")
    if sep and tail.strip():
        return compact(head)
    return compact(rest.rstrip("。；;"))


_MAX_TITLE = _RULES["max_title_line_chars"]


def _has_inline_body(rest: str) -> bool:
    """`加大稳岗支持力度。对不裁员…`: a sentence beyond the title on the numbered line itself,
    or a paragraph too long to be a title (one long sentence of rules)."""
    text = compact(rest)
    head, sep, tail = text.partition("。")
    return bool(sep and tail.strip("。 ")) or len(text) > _MAX_TITLE


def _is_caption(text: str) -> bool:
    return len(compact(text)) <= _MAX_TITLE and any(p.match(compact(text)) for p in _CAPTIONS)


def _is_closing(paragraph: str, *, weak: bool = True) -> bool:
    text = compact(paragraph)
    return any(p.search(text) for p in _CLOSING) or (weak and any(p.search(text) for p in _WEAK_CLOSING))


@dataclass
class _Block:
    """A numbered paragraph with the lines that belong to it."""

    style: Style
    number: int
    label: str
    rest: str
    marks: list[str]
    first: int
    own_last: int  # last line of its own paragraph (wrapped lines joined)
    section: Section | None = None
    section_key: str | None = None  # the enclosing section of an item-style block
    list_name: str | None = None  # a list restarted at 1 in its section: its intro (or #N), in the item key
    parent: _Block | None = None
    children: int = 0
    body: list[tuple[int, int]] = field(default_factory=list)  # following plain paragraphs (first, last)
    is_task: bool = False

    @property
    def last(self) -> int:
        return self.body[-1][1] if self.body else self.own_last


@dataclass
class PartStructure:
    sections: list[Section] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    table_lines: set[int] = field(default_factory=set)
    warnings: list[ParseWarning] = field(default_factory=list)


def _paragraphs(lines: list[Line], first: int, last: int, skip: set[int], has_clause) -> list[tuple[int, int]]:
    """Plain paragraphs in lines[first..last]: a line, joined with the next when cut mid-sentence
    (a clause line such as `责任单位：市财政局` ends its paragraph without a stop)."""
    out: list[tuple[int, int]] = []
    for i in range(first, last + 1):
        if lines[i].blank or i in skip:
            continue
        if (
            out
            and not ends_sentence(lines[out[-1][1]].text)
            and not has_clause(lines[out[-1][1]].text)
            and numbered(MARKS_RE.sub("", lines[i].text, count=1).strip()) is None  # ㈠ after …：opens its own
        ):
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def parse_part(
    lines: list[Line],
    first: int,
    last: int,
    part: str,
    page_starts: list[int],
    has_clause=lambda text: False,
    is_clause_line=lambda text: False,
) -> PartStructure:
    """Headings, tasks and table rows found in lines[first..last] of one part.

    Every numbered paragraph is read as a block of the numbering ladder (章,
    节, 条, 一、, （一）, 1., （1）); a number only opens a block when it
    continues the numbering at its level (under the same heading, or on from
    the previous heading: （五） under 三、 after （四） under 二、) or restarts
    it at 1 under a new heading, or, for items, at 1 after a list of theirs
    under the same heading (a second list: `_restarts`). That keeps `2023年是…`
    and lists inside sentences out; a numbered line taken by no block is one
    warning in `warnings` (`_unplaced_warnings`). `has_clause(paragraph)`
    tells whether a paragraph holds a responsibility clause (a task carries
    work), `is_clause_line(text)` whether a text is nothing but one
    (责任单位：…); see `_mark_tasks`.
    """
    result = PartStructure()
    table_items, result.table_lines = parse_tables(lines, first, last, part, page_starts)

    blocks: list[_Block] = []
    open_sections: dict[int, _Block] = {}  # heading blocks open at each rank
    # Numbers used under each parent section (None: top), per numbering style: 第二章 follows 第一章
    # even where a 一、 list stood at the top of the part before it.
    child_count: dict[tuple[str | None, int], int] = {}
    section_keys: set[str] = set()
    last_at_rank: dict[int, int] = {}
    items_since_heading = False
    absorbing: _Block | None = None  # an open item-style block takes deeper numbers as text
    plain_after: dict[int, list[int]] = {}  # block index → plain line indexes after it
    last_item: dict[int, _Block] = {}  # the last item-style block of each rank
    lists_in: dict[tuple[str | None, int], set[str]] = {}  # names of the restarted lists of a section, per rank
    unplaced: list[int] = []  # numbered lines no block took: each is a warning
    previous_line: int | None = None  # the last non-blank line before this one

    def parent_of(rank: int) -> _Block | None:
        above = [open_sections[r] for r in sorted(open_sections) if r < rank]
        return above[-1] if above else None

    for i in range(first, last + 1):
        line = lines[i]
        if line.blank or i in result.table_lines:
            continue
        before, previous_line = previous_line, i
        marks_match = MARKS_RE.match(line.text)
        body = line.text[marks_match.end():].strip()
        found = numbered(body)
        looks_numbered = found is not None
        accepted = None
        if found is not None:
            style, number, label, rest = found
            if absorbing is not None and style.rank > absorbing.style.rank:
                found = None  # （1） inside an item, （一） inside an article: its text
        restart = False
        if found is not None:
            parent = parent_of(style.rank)
            pkey = parent.section.key if parent is not None else None
            used = child_count.get((pkey, style.rank), 0) if style.heading else None
            if style.heading:
                ok = number == used + 1 or (used == 0 and number == last_at_rank.get(style.rank, 0) + 1)
            else:
                previous = last_at_rank.get(style.rank, 0)
                ok = number == previous + 1 or (number == 1 and not items_since_heading)
                if not ok and number == 1:
                    # 1.–3., 请各单位做好以下工作：, 1.–2.: a second list in the section, not text.
                    ok = restart = _restarts(last_item.get(style.rank), parent, line, label, rest, lines, before)
            if ok:
                accepted = (style, number, label, rest, parent)
            elif "\t" not in line.text:  # a numbered row of a table that is no task table is the table's
                unplaced.append(i)
        if accepted is None:
            if blocks:
                b, index = blocks[-1], len(blocks) - 1
                # A line that continues the open block when it was cut mid-sentence (page
                # break): items, and headings with text of their own; never a bare title.
                if (
                    index not in plain_after
                    and (not b.style.heading or _has_inline_body(b.rest))
                    and not ends_sentence(lines[b.own_last].text)
                    and not looks_numbered  # ① under 2.…具体为：is a paragraph of its own
                ):
                    b.own_last = i
                else:
                    plain_after.setdefault(index, []).append(i)
            continue

        style, number, label, rest, parent = accepted
        marks = [m for m in marks_match.group("marks") if not m.isspace()]
        block = _Block(style, number, label, rest, marks, i, i, parent=parent)
        last_at_rank[style.rank] = number
        if parent is not None:
            parent.children += 1
        if style.heading:
            pkey = parent.section.key if parent is not None else None
            key = f"{part}/{number}" if pkey is None else f"{pkey}.{number}"
            if key in section_keys:
                key = f"{key}({label})"  # 第一章 and 一、 both at the top of one part
            section_keys.add(key)
            block.section = Section(
                key=key,
                part=part,
                level=(parent.section.level + 1) if parent is not None else 1,
                number=number,
                label=label,
                title=heading_title(rest),
                parent_key=pkey,
                span=make_span(lines, i, i, page_starts),
            )
            child_count[(pkey, style.rank)] = number
            for r in [r for r in open_sections if r >= style.rank]:
                del open_sections[r]
            open_sections[style.rank] = block
            items_since_heading = False
            absorbing = None
        else:
            block.section_key = parent.section.key if parent is not None else None
            prior = last_item.get(style.rank)
            if restart:
                names = lists_in.setdefault((block.section_key, style.rank), set())
                block.list_name = _list_name(lines, before, prior, names)
                names.add(block.list_name)
            elif number > 1 and prior is not None and prior.parent is parent:
                block.list_name = prior.list_name  # the list goes on
            last_item[style.rank] = block
            items_since_heading = True
            absorbing = block
        blocks.append(block)

    for index, block in enumerate(blocks):
        plain = plain_after.get(index, [])
        paragraphs = _paragraphs(lines, plain[0], plain[-1], result.table_lines, has_clause) if plain else []
        block.body = _body_of(block, paragraphs, lines, is_last=index == len(blocks) - 1, has_clause=has_clause)
    if blocks and blocks[-1].body and blocks[-1].style.heading:
        last = blocks[-1]
        siblings = [b for b in blocks[:-1] if b.parent is last.parent and b.style.rank == last.style.rank]
        if siblings and not any(b.body for b in siblings) and not _bare(last) and not any(
            has_clause(lines_text(lines, *p)) for p in last.body
        ):
            last.body = []  # every measure is one paragraph: what follows the last closes the notice
    _mark_tasks(blocks, lines, has_clause)
    ends = _measures_with_numbered_points(blocks, is_clause_line)

    built = [_build_item(lines, b, part, page_starts, ends.get(id(b))) for b in blocks if b.is_task]
    result.sections = [b.section for b in blocks if b.section is not None]
    keys: set[str] = set()
    for item in built + table_items:
        if item.key in keys:
            # Numbered like a heading task before it, outside any heading (（1）… then 1.…, or a table row);
            # a third one (a second task table numbered from 1 again) takes its place in the part.
            key, n = f"{item.key}({item.label})", 1
            while key in keys:
                n += 1
                key = f"{item.key}({item.label})#{n}"
            item = item.model_copy(update={"key": key})
        keys.add(item.key)
        result.items.append(item)
    result.warnings = _unplaced_warnings(lines, unplaced, result.items, part)
    return result


def _restarts(
    prior: _Block | None,
    parent: _Block | None,
    line: Line,
    label: str,
    rest: str,
    lines: list[Line],
    before: int | None,
) -> bool:
    """Does a `1.` that does not follow the item before it start a second list in the same section?

    It does after items of its own style under the same heading (`1.–3.`, `请各单位做好以下工作：`,
    `1.–2.`), when the line before it ends (a sentence, an intro `…：`, or a one-line item of the
    list: `2. 户口簿` / `1. 合同`), and never in a table row. After a line cut mid-sentence
    (`…由` / `1. 市财政局…`), or with two numbers in a sentence (`1、2号线建设…`), it is no list:
    the line is a warning.
    """
    if prior is None or prior.parent is not parent or "\t" in line.text or before is None:
        return False
    if label.endswith("、") and rest.lstrip()[:1].isdigit():
        return False  # `1、2号线…`: two numbers in a sentence, not a list (`1. 3月底前…` is one)
    text = strip_markup(lines[before].text).rstrip()
    # After a stop or an intro, or right after a one-line item of the list that has none (`2. 户口簿`).
    return text.endswith(_SENTENCE_END + _INTRO_END) or before == prior.first == prior.own_last


_INTRO_END = ("：", ":")
_MAX_LIST_NAME = 20


def _list_name(lines: list[Line], before: int | None, prior: _Block, names: set[str]) -> str:
    """The name a restarted list gets in its item keys: its intro (`请各单位做好以下工作`), else `#N`.

    The intro is the line just before the list when it introduces (ends in ：, even where it was
    read on from the item before, its line cut short), or a short plain paragraph after that item
    (`注`, a heading the numbering could not place). A name already used in the section, or
    no intro (`99.` then `1.`), gives the list's place in the section: `#N` (the first list is #1).
    """
    number = len(names) + 2
    intro = None
    if before is not None and before > prior.first:
        text = compact(clean_text(lines[before].text))
        own = before <= prior.own_last  # read as the item's own paragraph
        if text.endswith(_INTRO_END) or (not own and len(text) <= _MAX_LIST_NAME and _HAN.search(text)):
            intro = text.rstrip("：:。；;，, ").replace("/", "／")
            if len(intro) > _MAX_LIST_NAME:
                intro = intro[: _MAX_LIST_NAME - 1] + "…"
    if intro and intro not in names:
        return intro
    return f"{intro or ''}#{number}"


_HAN = regex.compile(r"\p{Han}")


_MAX_UNPLACED_WARNINGS = 20


def _unplaced_warnings(lines: list[Line], unplaced: list[int], items: list[Item], part: str) -> list[ParseWarning]:
    """One warning per numbered line no block took, saying which task's text holds it (if any).

    After the first 20 of a part, one more warning counts the rest and names their lines.
    """
    if not unplaced:
        return []
    spans = sorted((it.span.first_line, it.span.last_line, it.key) for it in items)
    starts = [s[0] for s in spans]

    def holder(number: int) -> str | None:
        k = bisect.bisect_right(starts, number) - 1
        for j in range(k, max(k - 3, -1), -1):  # a task over points may enclose the ones before it
            if spans[j][1] >= number:
                return spans[j][2]
        return None

    out: list[ParseWarning] = []
    for i in unplaced[:_MAX_UNPLACED_WARNINGS]:
        line = lines[i]
        text = compact(line.text)
        shown = text if len(text) <= 30 else text[:29] + "…"
        key = holder(line.number)
        where = f"kept as text of task {key}" if key else "in no task"
        out.append(
            ParseWarning(
                field="items",
                message=f"{part} line {line.number} 「{shown}」 is numbered but does not continue the numbering "
                f"before it: {where}",
            )
        )
    rest = unplaced[_MAX_UNPLACED_WARNINGS:]
    if rest:
        named = ", ".join(str(lines[i].number) for i in rest[:10]) + (", …" if len(rest) > 10 else "")
        out.append(
            ParseWarning(
                field="items",
                message=f"{part}: {len(rest)} more numbered lines do not continue the numbering before them "
                f"(lines {named})",
            )
        )
    return out


def lines_text(lines: list[Line], first: int, last: int) -> str:
    """The source text of lines[first..last], as written."""
    if first == last:
        return lines[first].text
    return "\n".join(lines[k].text for k in range(first, last + 1))


def _body_of(block: _Block, paragraphs: list[tuple[int, int]], lines: list[Line], *, is_last: bool, has_clause) -> list:
    """The plain paragraphs that belong to a numbered block.

    A heading (`一、优化土地出让方式`, `一、关于…问题。你省请求…`) and an article
    take the paragraphs under them, up to the next numbered line. An item
    (`1.`) takes its sub-points ((1), ①) and the paragraphs up to the last one
    that holds a responsibility clause (`责任单位：…` on its own line). The
    last block of a part ends with its clause, or before a closing paragraph
    (本措施自印发之日起实施…): what follows closes the notice.
    """
    paragraphs = [p for p in paragraphs if not _is_caption(lines[p[0]].stripped)]
    if not paragraphs:
        return []
    takes_all = block.style.heading or block.style.owns_paragraphs
    if is_last:
        with_clause = [k for k, p in enumerate(paragraphs) if has_clause(lines_text(lines, *p))]
        if with_clause:
            paragraphs = paragraphs[: with_clause[-1] + 1]
        elif has_clause(lines_text(lines, block.first, block.own_last)):
            paragraphs = []  # its clause closed its own paragraph
        else:
            # The first paragraph under a bare title is its body, whatever it says; under a heading
            # that is a sentence, only a plain closing (本通知…, 上述…, …之日起施行) ends it there.
            title_only = block.style.heading and _bare(block) and not compact(block.rest).endswith(_SENTENCE_END)
            start = 1 if title_only else 0
            closing = next(
                (
                    k
                    for k in range(start, len(paragraphs))
                    if _is_closing(lines_text(lines, *paragraphs[k]), weak=k > 0 or not block.style.heading)
                ),
                None,
            )
            if closing is not None:
                paragraphs = paragraphs[:closing]
    if takes_all:
        return paragraphs
    # An item keeps the sub-points numbered inside it ((1) (2)) and the paragraphs up to its last clause.
    deeper = [k for k, p in enumerate(paragraphs) if _deeper(block, lines[p[0]].stripped)]
    belongs = [k for k, p in enumerate(paragraphs) if has_clause(lines_text(lines, *p))] + deeper
    if not belongs:
        return []
    end = max(belongs) + 1
    if deeper and max(deeper) == end - 1 and end < len(paragraphs) and not is_last:
        end += 1  # ① ② ③ then 以上…: the paragraph that sums up the sub-points
    return paragraphs[:end]


def _deeper(block: _Block, text: str) -> bool:
    found = numbered(MARKS_RE.sub("", text, count=1).strip())
    return found is not None and found[0].rank > block.style.rank


def _bare(block: _Block) -> bool:
    """A title alone on its line: no sentence beyond it."""
    return block.own_last == block.first and not _has_inline_body(block.rest)


def _strong(block: _Block, lines: list[Line], has_clause) -> bool:
    """A heading that carries work by itself: text beyond its title, a clause, or a lead sentence with a body."""
    own = lines_text(lines, block.first, block.own_last)
    if _has_inline_body(block.rest) or _is_sentence(block.rest) or has_clause(own):
        return True
    return any(has_clause(lines_text(lines, *p)) for p in block.body)


_BRACKETED = regex.compile(r"[（(][^（()）]*[）)]")


def _is_sentence(rest: str) -> bool:
    """`允许投资人以知识产权…出资组建文化企业，具体按国家法律规定执行。`: a measure in one sentence, not a title."""
    text = _BRACKETED.sub("", compact(rest))
    return text.endswith(_LEAD_SENTENCE_END) and ("，" in text or "；" in text[:-1])


def _lead_sentence(block: _Block) -> bool:
    """`（一）统筹建设监管工作平台。` + paragraphs: a measure's lead sentence, its body below."""
    return compact(block.rest).endswith(_LEAD_SENTENCE_END)


def _mark_tasks(blocks: list[_Block], lines: list[Line], has_clause) -> None:
    """Which blocks are tasks.

    Item styles (1., 第X条) always are, and so is a heading whose own paragraph
    carries work (text beyond its title, or a clause). A heading is a task when it has no
    numbered children and carries work (`_strong`), or when its siblings
    (same parent, same style) do: a 若干措施 whose every measure is
    `一、title` + paragraph, some with clauses, or a short one-sentence
    measure among long ones. A bare heading with a body and no such sibling
    (`一、总体要求`) stays a section only, as does a list of short entries.
    """
    for block in blocks:
        # A heading over numbered points is still a task when its own paragraph carries work:
        # （一）推进城市更新（责任单位：市住房城乡建设委） / 1.… 2.…, （二）成立联合采购办公室。由…组成 / 1.…
        block.is_task = not block.style.heading or (
            block.children > 0
            and (_has_inline_body(block.rest) or has_clause(lines_text(lines, block.first, block.own_last)))
        )
    leaves = [b for b in blocks if b.style.heading and b.children == 0]
    strong = {id(b) for b in leaves if _strong(b, lines, has_clause)}
    siblings: dict[tuple[int, int], list[_Block]] = {}
    for b in leaves:
        siblings.setdefault((id(b.parent), b.style.rank), []).append(b)
    for group in siblings.values():
        # Lead sentences with a body are measures when the siblings are written so too, not a
        # list of entries ending in ； with one closing 。.
        if all(id(b) in strong or _lead_sentence(b) for b in group):
            strong |= {id(b) for b in group if b.body and _lead_sentence(b)}
    for b in leaves:
        if id(b) in strong:
            b.is_task = True
        elif any(id(s) in strong for s in siblings[(id(b.parent), b.style.rank)]):
            b.is_task = True  # a short measure among measures: （四）…免征增值税。


def _measures_with_numbered_points(blocks: list[_Block], is_clause_line) -> dict[int, int]:
    """Headings whose numbered points include their clause: the heading is the task, the points its text.

    `一、优化土地出让方式 / （一）适用范围：… / （二）办理流程：… / （三）责任单位：市自然资源局。`:
    the points describe one measure and the last names who carries it out.
    Returns id(heading) → last line of its points.
    """
    ends: dict[int, int] = {}
    for block in blocks:
        if block.parent is not None and block.parent.style.heading and is_clause_line(block.rest):
            ends[id(block.parent)] = 0
    # 三十六、…主要任务是： / （一）…； （二）…； （三）…。: a task that introduces a list of short entries.
    children: dict[int, list[_Block]] = {}
    for block in blocks:
        if block.parent is not None:
            children.setdefault(id(block.parent), []).append(block)
    for block in blocks:
        points = children.get(id(block), [])
        if (
            block.is_task
            and block.style.heading
            and compact(block.rest).endswith(("：", ":"))
            and points
            and all(p.style.heading and p.children == 0 and not p.is_task for p in points)
        ):
            ends[id(block)] = 0
    if not ends:
        return ends
    for block in blocks:
        owner = block.parent
        while owner is not None and id(owner) not in ends:
            owner = owner.parent
        if owner is not None:
            block.is_task = False
            ends[id(owner)] = max(ends[id(owner)], block.last)
    for block in blocks:
        if id(block) in ends:
            block.is_task = True
    return ends


def _build_item(lines: list[Line], block: _Block, part: str, page_starts: list[int], end: int | None = None) -> Item:
    """The task a block is: its own paragraph, then its body, one line each.

    `end`: a measure told in numbered points runs to there, and every point,
    number and all, is a paragraph of its text.
    """
    own = [block.rest] + [lines[k].text for k in range(block.first + 1, block.own_last + 1)]
    if end is not None and end > block.last:
        body = [(k, k) for k in range(block.own_last + 1, end + 1) if not lines[k].blank]
    else:
        end, body = block.last, block.body
    paragraphs = [clean_text("\n".join(own))] + [clean_text(lines_text(lines, a, b)) for a, b in body]
    span = make_span(lines, block.first, end, page_starts)
    return _item(block, part, span, lines_text(lines, block.first, end), paragraphs)


def _item(block: _Block, part: str, span: Span, raw: str, paragraphs: list[str]) -> Item:
    if block.section is not None:
        key, section_key = block.section.key, block.section.key
    else:
        section_key = block.section_key
        within = f"{section_key or part}/{block.list_name}" if block.list_name else section_key or part
        key = f"{within}/{block.number}"
    return Item(
        key=key,
        part=part,
        section_key=section_key,
        number=block.number,
        label=block.label,
        text="\n".join(p for p in paragraphs if p),
        raw_text=raw,
        marks=block.marks,
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
            units = _row_units(row, roles)
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


# Unit columns by role: a lone 责任单位 column is the row's clause as it is; 牵头/配合 columns label theirs.
_UNIT_COLUMNS = [("lead_units", "牵头单位"), ("units", "责任单位"), ("cooperating_units", "配合单位"), ("participant_units", "参与单位")]


def _row_units(row: list[str], roles: dict[str, int]) -> str:
    cells = [(label, clean_text(row[roles[role]])) for role, label in _UNIT_COLUMNS if role in roles]
    cells = [(label, text) for label, text in cells if text]
    if len(cells) == 1 and cells[0][0] == "责任单位":
        return cells[0][1]  # a lone 责任单位 cell is the clause as written
    return "；".join(f"{label}：{text}" for label, text in cells)


def _category_name(cell: str) -> str:
    """`二、实施青少年…` → `实施青少年…` (the numeral is the category's order, not its name)."""
    m = HAN_LIST.pattern.match(compact(cell))
    return compact(m.group("rest")) if m else compact(cell)
