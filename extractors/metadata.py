"""Metadata elements of a notice read from single strings: 发文字号, 成文日期, 转发.

Each function takes text and returns a value or None; none of them guesses.
"""

from __future__ import annotations

import datetime as dt

import regex

from extractors.text import chinese_number, compact
from schemas import DocNumber

_OPEN = r"[〔\[【(（［﹝]"
_CLOSE = r"[〕\]】)）］﹞]"
# 京纲要办发〔2023〕2号 — organ code, year in brackets, serial; spaces tolerated.
DOC_NUMBER_RE = regex.compile(
    rf"(?P<organ>\p{{Han}}[\p{{Han}}A-Za-z]{{0,20}}?)\s*{_OPEN}\s*(?P<year>(?:19|20)\d\d)\s*{_CLOSE}\s*"
    rf"(?:第\s*)?(?P<serial>\d{{1,5}})\s*号"
)
_ARABIC_DATE = regex.compile(r"(?P<y>(?:19|20)\d\d)\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日")
_HAN_DATE = regex.compile(
    r"(?P<y>[〇零○Ｏ一二三四五六七八九]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,2})\s*月\s*(?P<d>[一二三四五六七八九十]{1,3})\s*日"
)


def find_doc_numbers(text: str) -> list[DocNumber]:
    """Every 发文字号 in `text`, in order."""
    found = []
    for m in DOC_NUMBER_RE.finditer(text):
        found.append(
            DocNumber(
                raw=compact(m.group(0)),
                organ_code=m.group("organ"),
                year=int(m.group("year")),
                serial=int(m.group("serial")),
            )
        )
    return found


def doc_number_line(line: str) -> DocNumber | None:
    """The 发文字号 when `line` is one standing alone (as under the banner)."""
    s = line.strip()
    m = DOC_NUMBER_RE.search(s)
    if m is None:
        return None
    # Allow marks around it on the same line (公开, 签发人：…), but not a sentence.
    outside = s[: m.start()] + s[m.end() :]
    if "。" in outside or "，" in outside or len(compact(outside)) > 12:
        return None
    return find_doc_numbers(m.group(0))[0]


def parse_date(text: str) -> tuple[dt.date, str] | None:
    """First 成文日期 in `text` (2023年4月13日 or 二〇二三年四月十三日) and the text matched."""
    for pattern in (_ARABIC_DATE, _HAN_DATE):
        m = pattern.search(text)
        if m is None:
            continue
        y, mo, d = (m.group(k) for k in ("y", "m", "d"))
        year = int(y) if y.isdigit() else chinese_number(y)
        month = int(mo) if mo.isdigit() else chinese_number(mo)
        day = int(d) if d.isdigit() else chinese_number(d)
        try:
            return dt.date(year, month, day), compact(m.group(0))
        except (TypeError, ValueError):
            continue
    return None


def date_line(line: str) -> tuple[dt.date, str] | None:
    """The date when `line` holds nothing but a date (the 成文日期 line)."""
    s = compact(line)
    found = parse_date(s)
    if found is None or found[1] != s:
        return None
    return found


_FORWARD_RE = regex.compile(r"^转发(?P<issuer>[^《<〈]*?)(?P<quoted>[《<〈].*[》>〉])的通知$")


def forwarded_from_title(title: str) -> tuple[str | None, str | None] | None:
    """(issuer, title) of the document a 转发…的通知 forwards, or None if it is not one."""
    m = _FORWARD_RE.match(compact(title))
    if m is None:
        return None
    quoted = m.group("quoted")[1:-1]
    return (m.group("issuer") or None), (quoted or None)
