"""Small text helpers shared by the extractors: numerals, markup, spacing."""

from __future__ import annotations

import regex

from extractors.rules import load

_STRUCTURE = load("structure")
_DIGITS: dict[str, int] = _STRUCTURE["chinese_digits"]
_MULTIPLIERS: dict[str, int] = _STRUCTURE["chinese_multipliers"]

CJK = r"\p{Han}"
# Characters that sit next to CJK without a space in written Chinese.
_CJK_OR_FULLWIDTH = r"[\p{Han}\u3000-\u303f\uff00-\uffef“”‘’《》〈〉—…·]"
_TAG_RE = regex.compile(
    r"</?(?:" + "|".join(_STRUCTURE["markup_tags"]) + r")\b[^>]*>", regex.IGNORECASE
)
_WS_RUN = regex.compile(r"[ \t\u3000\xa0]+")
# Compiled once: these run on every line of every notice.
_LATIN_END = regex.compile(r"[A-Za-z0-9]$")
_LATIN_START = regex.compile(r"[A-Za-z0-9]")
_SPACE_AFTER_LATIN = regex.compile(rf"(?<=[0-9A-Za-z]) (?={_CJK_OR_FULLWIDTH})")
_SPACE_BEFORE_LATIN = regex.compile(rf"(?<={_CJK_OR_FULLWIDTH}) (?=[0-9A-Za-z])")
_SPACE_BY_PUNCT = regex.compile(r"(?<=[\u3000-\u303f\uff00-\uffef“”《》]) | (?=[\u3000-\u303f\uff00-\uffef“”《》])")
_SPACE_NOT_LATIN = regex.compile(r"(?<![A-Za-z0-9]) | (?![A-Za-z0-9])")
_ANY_SPACE = regex.compile(r"\s+")


def chinese_number(numeral: str) -> int | None:
    """Value of a Chinese numeral such as 十五, 二十三, 一百零二; None if it is not one."""
    if not numeral:
        return None
    if all(ch in _DIGITS for ch in numeral) and len(numeral) > 1:
        # Digit-by-digit form, used for years: 二〇二三.
        return int("".join(str(_DIGITS[ch]) for ch in numeral))
    total, current = 0, 0
    for ch in numeral:
        if ch in _DIGITS:
            current = _DIGITS[ch]
        elif ch in _MULTIPLIERS:
            total += (current or 1) * _MULTIPLIERS[ch]
            current = 0
        else:
            return None
    return total + current


def strip_markup(text: str) -> str:
    """Remove HTML-like tags left by converters (`<u>市文物局</u>` → `市文物局`)."""
    return _TAG_RE.sub("", text) if "<" in text else text


def join_lines(lines: list[str]) -> str:
    """Join lines broken by layout: CJK joins with no space, Latin words with one."""
    out = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if out and _LATIN_START.match(line) and _LATIN_END.search(out):
            out += " "
        out += line
    return out


def clean_text(text: str) -> str:
    """Readable text of a passage: lines joined, tags removed, layout spaces dropped.

    Spaces between two CJK characters are kept (they can be real, as in
    `地震科普 携手同行`); spaces between CJK and digits or punctuation are
    extraction artifacts (`2023 年`) and go.
    """
    text = strip_markup(text)
    if _no_space(text):
        return text  # one line, nothing to join or drop (most lines of a notice)
    text = join_lines(text.splitlines())
    text = _WS_RUN.sub(" ", text)
    text = _SPACE_AFTER_LATIN.sub("", text)
    text = _SPACE_BEFORE_LATIN.sub("", text)
    text = _SPACE_BY_PUNCT.sub("", text)
    return text.strip()


def compact(text: str) -> str:
    """Text with every space removed, for titles and names where spaces are layout only.

    A space between two Latin letters or digits survives (`GB 23350`).
    """
    text = strip_markup(text)
    if _no_space(text):
        return text
    text = join_lines(text.splitlines())
    text = _WS_RUN.sub(" ", text)
    return _SPACE_NOT_LATIN.sub("", text).strip()


def _no_space(text: str) -> bool:
    """No whitespace at all, in Python's sense (every line break splitlines knows is whitespace)."""
    parts = text.split(maxsplit=1)
    return len(parts) == 1 and len(parts[0]) == len(text)


def without_space(text: str) -> str:
    """Text with all whitespace and markup removed: the key for 'same text' checks."""
    return _ANY_SPACE.sub("", strip_markup(text))
