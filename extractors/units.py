"""Responsible units (责任单位) of a task: find its clauses, split them, give roles.

A clause is a parenthesis at a sentence end (`…开展科普日活动。（中国科协、教育部）`)
or a line of its own (`责任单位：市财政局`). Roles come from the clause's words
only: `（A牵头，B、C参与）`, `（牵头单位：A；配合单位：B）`, `（A、B指导，C负责落实）`.
A plain list (`（中国科协、教育部）`) names no lead, so every unit in it is
`responsible`; the first listed leads only where the notice says so
(`列第一位者为牵头单位`) or the analyst asks for that convention.
A parenthesis is only a clause when every name in it reads as a unit, so
`（所、站）`, `（PPP）` or `（医院院长、学校校长…）` stay text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import regex

from extractors.rules import load
from extractors.text import compact
from schemas import UnitMention

_RULES = load("units")
_OPENERS, _CLOSERS = "（(", "）)"
_GROUP_SEPARATORS = set(_RULES["group_separators"])
_SEGMENT_SEPARATORS = set(_RULES["segment_separators"])
_NAME_SEPARATORS = set(_RULES["name_separators"])
_ROLE_WORDS: dict[str, str] = _RULES["role_words"]
_ROLE_WORDS_LONGEST = sorted(_ROLE_WORDS, key=len, reverse=True)
_LABELS: dict[str, str] = _RULES["clause_labels"]
_TAILS: list[str] = sorted(_RULES["list_tails"], key=len, reverse=True)
_SUFFIXES: tuple[str, ...] = tuple(_RULES["unit_suffixes"])
_COLLECTIVE = [regex.compile(p) for p in _RULES["collective_patterns"]]
_MIN, _MAX = _RULES["min_unit_chars"], _RULES["max_unit_chars"]
_LEVEL_WORDS = sorted(_RULES["level_words"], key=len, reverse=True)
_LEVEL_START_RE = regex.compile("^(?:" + "|".join(regex.escape(w) for w in _LEVEL_WORDS) + ")")
_JOINERS_RE = regex.compile("|".join(regex.escape(j) for j in sorted(_RULES["joiners"], key=len, reverse=True)))
# 和各 / 及各: a collective joined to the list (…、财政部和各省级人民政府负责).
_AND_EACH_RE = regex.compile(r"(?<=\p{Han})(?:以及|和|及)(?=各)")
_LABEL_RE = regex.compile(r"^(?P<label>\p{Han}{2,10}?)[:：]")
_FIRST_LEADS_RE = regex.compile("|".join(f"(?:{p})" for p in _RULES["first_listed_leads_notes"]))
_IMPLIED_RES = [regex.compile(p) for p in _RULES["implied_unit_notes"]]
# A note sits in a clause with its punctuation and 下同: cut all of it.
_NOTE_TAIL = r"[，,]?\s*(?:下同)?[。；;，,]?"
_LEVEL_PREFIX_RE = regex.compile(r"^(?:省|市(?!场)|区|县|州|盟|旗)")
_LABEL_NAMES = "|".join(sorted(map(regex.escape, _LABELS), key=len, reverse=True))
# 责任单位及承办科室（单位）： — a known label, extended by what else the list names.
_LABEL_TAIL = r"(?:及\p{Han}{1,8})?(?:[（(]\p{Han}{1,4}[）)])?"
_CLAUSE_LINE_RE = regex.compile(r"^[（(]?\s*(?P<label>" + _LABEL_NAMES + r")" + _LABEL_TAIL + r"\s*[:：]")
_POINT_NUMBER_RE = regex.compile(r"^(?:[（(]\s*[一二三四五六七八九十\d]{1,3}\s*[）)]|[一二三四五六七八九十\d]{1,3}\s*[、.．])\s*")
_SEGMENT_LABEL_RE = regex.compile(r"^(?P<label>" + _LABEL_NAMES + r")" + _LABEL_TAIL + r"\s*[:：]")


@dataclass(frozen=True)
class Note:
    """A note that rules the rest of the document, found at `offset` of the text searched."""

    kind: str  # first_listed_leads, implied_units
    text: str
    offset: int
    units: str | None = None  # the units an implied_units note names


@dataclass
class ClauseReading:
    """What one clause says: its mentions (not yet resolved), its tail and notes."""

    mentions: list[UnitMention] = field(default_factory=list)
    tail: str | None = None
    notes: list[Note] = field(default_factory=list)


@dataclass(frozen=True)
class Clause:
    """A responsibility clause found in a paragraph: its text without brackets and where it is."""

    text: str
    start: int
    end: int


def split_top_level(text: str, separators: set[str]) -> list[str]:
    """Split on separators outside brackets: `市水务局(北京水利学会)` and `各县（市、区）` stay whole."""
    parts, depth, buf = [], 0, []
    for ch in text:
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        if ch in separators and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


_UNIT_OPENING_RE = regex.compile(
    r"^(?P<unit>\p{Han}{2,20}?(?:" + "|".join(sorted(map(regex.escape, _SUFFIXES), key=len, reverse=True)) + r"))"
    r"(?=在|负责|设立|承办|受理|牵头|配合|协助|按照|对|为|与|向|统筹|做好|开展)"
)
_BY_RE = regex.compile(r"^(?:以上\p{Han}{0,6}?|均|分别|主要)?由(?=\p{Han}{2})")
_TRAILING_GLOSS = regex.compile(r"[（(][^（()）]*[）)]$")


def is_collective(name: str) -> bool:
    """各成员单位, 各区, 市爱卫会各成员单位, 有关部门 …: a group, not one unit."""
    return any(p.search(name) for p in _COLLECTIVE)


def looks_like_unit(name: str) -> bool:
    if is_collective(name):
        return True
    bare = _TRAILING_GLOSS.sub("", name)  # 中国地质大学(北京)
    # An organ's name is not a phrase: 免税进口的科研仪器设备按有关政策规定执行 is text.
    return _MIN <= len(bare) <= _MAX and bare.endswith(_SUFFIXES) and "的" not in bare


def _strip_tails(text: str) -> tuple[str, str | None]:
    """`A、B等按职责分工负责` → (`A、B`, `等按职责分工负责`): tails can stack."""
    tail = ""
    changed = True
    while changed:
        changed = False
        for t in _TAILS:
            if text.endswith(t) and len(text) > len(t):
                text, tail = text[: -len(t)], t + tail
                changed = True
                break
    return text, (tail or None)


def _split_group(group: str) -> tuple[list[str], str | None, str | None]:
    """A group of names with its role word and tail: `B、C等配合` → ([B, C], 配合, 等)."""
    group = _BY_RE.sub("", group)  # 由市科协牵头, 以上任务由市科协牵头
    tail: str | None = None
    role_word: str | None = None
    # 按职责分工负责 ends in 负责 but is a tail, not a role word.
    group, tail = _strip_tails(group)
    for word in _ROLE_WORDS_LONGEST:
        if group.endswith(word) and len(group) > len(word):
            group, role_word = group[: -len(word)], word
            group, more = _strip_tails(group)
            tail = (more or "") + (tail or "") or None
            break
    joined = _JOINERS_RE.sub("、", _AND_EACH_RE.sub("、", group))
    if "等和" in group or "等及" in group:
        tail = "等" + (tail or "")
    names = []
    for name in _merge_level_words(split_top_level(joined, _NAME_SEPARATORS)):
        name, inner = _strip_tails(name)  # 市司法局等成员单位、各区: a tail inside the group
        tail = tail or inner
        names.append(name)
    return names, role_word, tail


def _merge_level_words(names: list[str]) -> list[str]:
    """各市、县人民政府 → one name: a part that is 各 + level words (or only level words) joins the next."""
    out: list[str] = []
    for name in names:
        previous = out[-1] if out else ""
        core = previous[1:] if previous.startswith("各") else ""
        # Join while the collective is still open: 各市、 + 县人民政府 (the next starts with a level word).
        if core and _only_level_words(core.replace("、", "")) and _LEVEL_START_RE.match(name):
            out[-1] = previous + "、" + name
        else:
            out.append(name)
    return out


def _only_level_words(text: str) -> bool:
    while text:
        for word in _LEVEL_WORDS:
            if text.startswith(word):
                text = text[len(word) :]
                break
        else:
            return False
    return True


def find_notes(text: str) -> list[Note]:
    """Notes in `text` that set a rule for what follows (列第一位者为牵头单位；以下均需…落实，不再一一列出)."""
    notes = []
    # The patterns start anywhere: look only where their key words are (牵头, 列出).
    if "牵头" in text:
        notes += [Note("first_listed_leads", m.group(0), m.start()) for m in _FIRST_LEADS_RE.finditer(text)]
    if "列出" in text:
        for pattern in _IMPLIED_RES:
            notes += [Note("implied_units", m.group(0), m.start(), m.group("units")) for m in pattern.finditer(text)]
    return sorted(notes, key=lambda n: n.offset)


def _strip_notes(text: str) -> tuple[str, list[Note]]:
    notes = find_notes(text)
    for note in notes:
        text = regex.sub(regex.escape(note.text) + _NOTE_TAIL, "", text)
    return text, notes


def read_clause(text: str, *, first_listed_leads: bool = False) -> ClauseReading | None:
    """Mentions of one clause (without its brackets), or None when it is not a unit list.

    Roles: a role word ends its group (`A、B负责` → both responsible); a label
    opens its segment (`配合单位：B`). In a clause with a lead, the units it
    would call responsible take part (`牵头单位：A；责任单位：B` → B participant).
    With `first_listed_leads`, a clause that names no lead and no other role
    than 负责 has its first unit lead.
    """
    body, notes = _strip_notes(compact(text))
    body = body.strip("。；;，, ")
    named: list[tuple[str, str | None]] = []  # (name, role)
    labelled: list[bool] = []  # did the name come after a label (责任单位：…)?
    tails: list[str] = []
    for segment in split_top_level(body, _SEGMENT_SEPARATORS):
        label_role: str | None = None
        for group in split_top_level(segment, _GROUP_SEPARATORS):
            label = _SEGMENT_LABEL_RE.match(group) or _LABEL_RE.match(group)
            if label is not None:
                if label.group("label") not in _LABELS:
                    break  # 适用范围：… — another kind of note in the same brackets
                label_role = _LABELS[label.group("label")]
                group = group[label.end() :]
            names, role_word, tail = _split_group(group)
            if tail:
                tails.append(tail)
            role = _ROLE_WORDS[role_word] if role_word else label_role
            for name in names:
                named.append((name, role))
                labelled.append(label_role is not None)
    if any(labelled):
        # A labelled clause says outright that it names units: keep the names after the label that
        # read as units (责任单位及承办科室：市自然资源局，市自然资源局行政审批科受理…申请), and the unit
        # that opens a sentence (市发改委在市政务服务中心设立…).
        kept = []
        for (name, role), by_label in zip(named, labelled):
            if by_label and not looks_like_unit(name):
                opening = _UNIT_OPENING_RE.match(name)
                name = opening.group("unit") if opening else name
            if by_label and looks_like_unit(name):
                kept.append((name, role))
        named = kept
    if not named or not all(looks_like_unit(name) for name, _ in named):
        return None if not notes else ClauseReading(notes=notes)

    roles = [role for _, role in named]
    shared = _shared_suffixes([name for name, _ in named])
    if first_listed_leads and set(roles) <= {None, "responsible"}:
        roles[0] = "lead"
    has_lead = "lead" in roles
    mentions = []
    prefix = None
    for position, ((name, _), role) in enumerate(zip(named, roles), start=1):
        role = role or "responsible"
        if has_lead and role == "responsible":
            role = "participant"
        collective = is_collective(name)
        read_as = shared.get(position - 1)
        level = _LEVEL_PREFIX_RE.match(name)
        if level is not None:
            prefix = level.group(0)
        elif prefix and not collective and read_as is None:
            read_as = prefix + name  # 省公安厅、发展改革委: the second is the province's too
        mentions.append(
            UnitMention(
                position=position,
                raw_text=name,
                role=role,
                is_collective=collective,
                resolution="collective" if collective else "unresolved",
                read_as=read_as,
            )
        )
    return ClauseReading(mentions, tails[0] if tails else None, notes)


_PLACE_ONLY_RE = regex.compile(r"^\p{Han}{1,4}[区县市旗]$")
_PLACE_ORGAN_RE = regex.compile(r"^\p{Han}{1,4}[区县市旗](?P<organ>人民政府|政府)$")


def _shared_suffixes(names: list[str]) -> dict[int, str]:
    """马尾区、闽侯县人民政府: places listed before a place's government share its organ word."""
    out: dict[int, str] = {}
    for k in range(len(names) - 1, -1, -1):
        m = _PLACE_ORGAN_RE.match(names[k])
        if m is None:
            continue
        j = k - 1
        while j >= 0 and _PLACE_ONLY_RE.match(names[j]) and j not in out:
            out[j] = names[j] + m.group("organ")
            j -= 1
    return out


def _closing_bracket(text: str, open_at: int) -> int | None:
    depth = 0
    for k in range(open_at, len(text)):
        if text[k] in _OPENERS:
            depth += 1
        elif text[k] in _CLOSERS:
            depth -= 1
            if depth == 0:
                return k
    return None


def is_gloss(before: str, content: str) -> bool:
    """`QC小组（质量控制小组）`, `党校（行政学院）`: one name glued to the name it explains."""
    parts = split_top_level(compact(content), _GROUP_SEPARATORS | _NAME_SEPARATORS | _SEGMENT_SEPARATORS)
    if len(parts) != 1 or _CLAUSE_LINE_RE.match(parts[0]) or is_collective(parts[0]):
        return False
    if any(parts[0].endswith(w) for w in _ROLE_WORDS):
        return False
    head = compact(before)
    return bool(head) and head[-1].isalnum() and head.endswith(_SUFFIXES)


_SENTENCE_END = "。；;！？!?：:，,"


def find_clauses(paragraph: str) -> list[Clause]:
    """Responsibility clauses of one paragraph, in order.

    A clause line (`责任单位：市财政局。`, also in brackets) is one clause.
    Otherwise a top-level bracket group is a clause when it reads as a unit
    list and stands at a sentence end: it ends the paragraph, or follows
    `。`/`；` and is followed by more text (several clauses in one task).
    """
    stripped = paragraph.strip()
    numbered = _POINT_NUMBER_RE.match(stripped)
    if numbered and _CLAUSE_LINE_RE.match(stripped[numbered.end() :]):
        stripped = stripped[numbered.end() :]  # （三）责任单位：… — a measure's numbered point that names its units
    if _CLAUSE_LINE_RE.match(stripped):
        text = stripped
        if text[0] in _OPENERS and text.rstrip("。；; ")[-1:] in _CLOSERS:
            text = text.rstrip("。；; ")[1:-1]
        start = paragraph.find(stripped)
        reading = read_clause(text)
        return [Clause(text.rstrip("。；; "), start, start + len(stripped))] if reading and reading.mentions else []
    found: list[Clause] = []
    if "（" not in paragraph and "(" not in paragraph:
        return found
    k = 0
    end_of_text = len(paragraph.rstrip().rstrip("。.；;").rstrip())
    while k < len(paragraph):
        if paragraph[k] not in _OPENERS:
            k += 1
            continue
        close = _closing_bracket(paragraph, k)
        if close is None:
            break
        before = paragraph[:k].rstrip()
        at_end = close + 1 >= end_of_text
        after_sentence = not before or before[-1] in _SENTENCE_END
        content = paragraph[k + 1 : close]
        if (at_end or after_sentence) and not is_gloss(before, content):
            reading = read_clause(content)
            if reading is not None and reading.mentions:
                found.append(Clause(content, k, close + 1))
        k = close + 1
    return found


def is_clause_line(text: str) -> bool:
    """Is `text` a clause standing as a line of its own (责任单位：市自然资源局。)?"""
    stripped = text.strip()
    return bool(_CLAUSE_LINE_RE.match(stripped)) and bool(find_clauses(stripped))


def has_clause(paragraph: str) -> bool:
    return bool(find_clauses(paragraph))


def mentions_from_list(text: str, *, first_listed_leads: bool = False) -> tuple[list[UnitMention], str | None]:
    """Unit mentions of one unit list (a table cell, a clause) with its tail; ([], None) if it is not one."""
    reading = read_clause(text, first_listed_leads=first_listed_leads)
    if reading is None:
        return [], None
    return reading.mentions, reading.tail


def find_unit_list(text: str) -> str | None:
    """The last responsibility clause of a passage, without its brackets; None if it has none."""
    clauses = find_clauses(text)
    return clauses[-1].text if clauses else None
