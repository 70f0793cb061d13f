"""Responsible units (责任单位) of a task item: find the list, split it, give roles.

`…开展全国科普日活动。（中国科协、教育部）` → 中国科协 (lead), 教育部 (participant).
Explicit role words win over position: `（中国科协牵头，各成员单位参与）`.
A parenthesis is only a unit list when every part of it reads as a unit
name, so `（所、站）` or `（医院院长、学校校长…）` stay text.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from extractors.rules import load
from extractors.text import compact
from schemas import UnitMention

_RULES = load("units")
_OPENERS, _CLOSERS = "（(", "）)"
_SEPARATORS = set(_RULES["separators"])
_ROLE_WORDS: dict[str, str] = _RULES["role_words"]
_TAILS: list[str] = sorted(_RULES["list_tails"], key=len, reverse=True)
_PREFIXES: list[str] = _RULES["list_prefixes"]
_SUFFIXES: tuple[str, ...] = tuple(_RULES["unit_suffixes"])
_COLLECTIVE = [regex.compile(p) for p in _RULES["collective_patterns"]]
_MIN, _MAX = _RULES["min_unit_chars"], _RULES["max_unit_chars"]


@dataclass(frozen=True)
class UnitPart:
    """One name of a unit list with what the list says about it."""

    name: str
    role_word: str | None  # the explicit role, if the list gives one
    tail: str | None  # 等部门 … stripped from this part


def split_top_level(text: str) -> list[str]:
    """Split on list separators that are not inside brackets: `市水务局(北京水利学会)` stays whole."""
    parts, depth, buf = [], 0, []
    for ch in text:
        if ch in _OPENERS:
            depth += 1
        elif ch in _CLOSERS:
            depth = max(depth - 1, 0)
        if ch in _SEPARATORS and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return [p.strip() for p in parts if p.strip()]


def read_part(part: str) -> UnitPart:
    """Separate a list part into name, explicit role word and tail (`X等部门`, `X牵头`)."""
    name, role, tail = compact(part), None, None
    for word in sorted(_ROLE_WORDS, key=len, reverse=True):
        if name.endswith(word) and len(name) > len(word):
            # 按职责分工负责 is a tail, not "X is responsible".
            for t in _TAILS:
                if name.endswith(t) and len(t) > len(word):
                    break
            else:
                name, role = name[: -len(word)], word
            break
    for t in _TAILS:
        if name.endswith(t) and len(name) > len(t):
            name, tail = name[: -len(t)], t
            break
        if name == t:
            return UnitPart("", role, t)
    return UnitPart(name, role, tail)


def is_collective(name: str) -> bool:
    """各成员单位, 各区, 市爱卫会各成员单位 …: a group, not one unit."""
    return any(p.search(name) for p in _COLLECTIVE)


def looks_like_unit(name: str) -> bool:
    if is_collective(name):
        return True
    bare = regex.sub(r"[（(][^（()）]*[）)]$", "", name)  # 中国地质大学(北京)
    return _MIN <= len(bare) <= _MAX and bare.endswith(_SUFFIXES)


def _strip_prefix(text: str) -> str:
    for prefix in _PREFIXES:
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def read_unit_list(text: str) -> list[UnitPart] | None:
    """The parts of a unit list, or None when `text` does not read as one."""
    body = _strip_prefix(compact(text))
    parts = [read_part(p) for p in split_top_level(body)]
    named = [p for p in parts if p.name]
    if not named or not all(looks_like_unit(p.name) for p in named):
        return None
    return parts


def trailing_parenthesis(text: str) -> tuple[str, int] | None:
    """Content and start offset of the bracket group that ends `text` (before a final 。)."""
    s = text.rstrip().rstrip("。.；;").rstrip()
    if not s or s[-1] not in _CLOSERS:
        return None
    depth = 0
    for k in range(len(s) - 1, -1, -1):
        if s[k] in _CLOSERS:
            depth += 1
        elif s[k] in _OPENERS:
            depth -= 1
            if depth == 0:
                return s[k + 1 : -1], k
    return None


def is_gloss(before: str, parts: list[UnitPart]) -> bool:
    """`QC小组（质量控制小组）`, `党校（行政学院）`: one name glued to a preceding name.

    Such a parenthesis explains or renames the word before it. A unit list
    follows a sentence (`…活动。（中国科协）`) or a verb phrase, not a unit name.
    """
    named = [p for p in parts if p.name]
    if len(named) != 1 or named[0].role_word or is_collective(named[0].name):
        return False
    head = compact(before)
    return bool(head) and head[-1].isalnum() and head.endswith(_SUFFIXES)


def find_unit_list(item_text: str) -> str | None:
    """The unit list at the end of an item's text, without its brackets; None if there is none."""
    found = trailing_parenthesis(item_text)
    if found is None:
        return None
    content, start = found
    parts = read_unit_list(content)
    if parts is None or is_gloss(item_text[:start], parts):
        return None
    return content


def mentions_from_list(text: str) -> tuple[list[UnitMention], str | None]:
    """Unit mentions of a unit list, with the tail (等部门, 按职责分工负责) if any.

    Roles: an explicit word (牵头/负责/配合/参与) wins; otherwise the first
    unit listed leads and the others take part.
    """
    parts = read_unit_list(text)
    if parts is None:
        return [], None
    tails = [p.tail for p in parts if p.tail]
    named = [p for p in parts if p.name]
    explicit_lead = any(_ROLE_WORDS.get(p.role_word or "") == "lead" for p in named)
    mentions = []
    for position, part in enumerate(named, start=1):
        if part.role_word:
            role = _ROLE_WORDS[part.role_word]
        elif position == 1 and not explicit_lead:
            role = "lead"
        else:
            role = "participant"
        collective = is_collective(part.name)
        mentions.append(
            UnitMention(
                position=position,
                raw_text=part.name,
                role=role,
                is_collective=collective,
                resolution="collective" if collective else "unresolved",
            )
        )
    return mentions, (tails[0] if tails else None)
