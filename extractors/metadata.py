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


# Orders (令) carry no year: 重庆市人民政府令第361号, 北京市人民政府第307号令, 国令第707号.
ORDER_NUMBER_RE = regex.compile(
    r"(?P<organ>\p{Han}{1,20}?)\s*(?:令\s*第\s*(?P<serial>\d{1,5})\s*号|第\s*(?P<serial2>\d{1,5})\s*号\s*令)"
)


def find_doc_numbers(text: str) -> list[DocNumber]:
    """Every bracketed 发文字号 in `text`, in order."""
    return [_bracketed(m) for m in DOC_NUMBER_RE.finditer(text)]


def _bracketed(m: regex.Match) -> DocNumber:
    raw, organ = compact(m.group(0)), m.group("organ")
    if "文件" in organ:
        # 东莞市住房公积金管理委员会文件东公积金委〔2023〕2号: the banner printed on the same line.
        cut = organ.rindex("文件") + len("文件")
        raw, organ = raw[raw.index(organ[cut:]) :] if organ[cut:] else raw, organ[cut:] or organ
    return DocNumber(raw=raw, organ_code=organ, year=int(m.group("year")), serial=int(m.group("serial")))


def bracketed_number(m: regex.Match) -> DocNumber:
    """The DocNumber of a DOC_NUMBER_RE match (for readers of numbers in running text: extractors/citations.py)."""
    return _bracketed(m)


def order_number(m: regex.Match) -> DocNumber:
    """The DocNumber of an ORDER_NUMBER_RE match (令第361号)."""
    return _order(m)


def _order(m: regex.Match) -> DocNumber:
    organ = m.group("organ")
    return DocNumber(
        raw=compact(m.group(0)),
        organ_code=organ if organ.endswith("令") else organ + "令",
        year=None,
        serial=int(m.group("serial") or m.group("serial2")),
    )


def doc_number_line(line: str) -> DocNumber | None:
    """The 发文字号 when `line` is one standing alone (as under the banner)."""
    s = line.strip()
    order = ORDER_NUMBER_RE.fullmatch(compact(s))
    if order is not None:
        return _order(order)  # the whole line is an order's number (重庆市人民政府令第361号)
    m = DOC_NUMBER_RE.search(s)
    if m is None:
        return None
    # Allow marks around it on the same line (公开, 签发人：…), but not a sentence.
    outside = s[: m.start()] + s[m.end() :]
    if "。" in outside or "，" in outside or len(compact(outside)) > 12:
        return None
    return _bracketed(m)


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
# 国务院办公厅转发国家地震局关于…报告的通知: forwarder, forwarded organ, its title without 《》.
_FORWARD_PLAIN_RE = regex.compile(r"^(?:\p{Han}{2,30}?)?转发(?P<issuer>\p{Han}{2,20}?)(?P<title>关于[^《》]+?)的通知$")


def forwarded_from_title(title: str) -> tuple[str | None, str | None] | None:
    """(issuer, title) of the document a 转发…的通知 forwards, or None if it is not one."""
    m = _FORWARD_RE.match(compact(title))
    if m is not None:
        quoted = m.group("quoted")[1:-1]
        return (m.group("issuer") or None), (quoted or None)
    m = _FORWARD_PLAIN_RE.match(compact(title))
    if m is not None:
        return m.group("issuer"), m.group("title")
    return None


# 规章 print their promulgation under the title: （2022年12月23日北京市人民政府第307号令公布 自2023年3月1日起施行）
_PROMULGATION_RE = regex.compile(
    r"^[（(](?P<date>\d{4}年\d{1,2}月\d{1,2}日)(?P<order>(?P<organ>\p{Han}{2,30}?)(?:令第\d{1,5}号|第\d{1,5}号令))(?:公布|发布)"
)


def promulgation_line(line: str) -> tuple[dt.date, str, DocNumber, str] | None:
    """(date, date text, order number, organ) of a regulation's promulgation note, or None."""
    m = _PROMULGATION_RE.match(compact(line))
    if m is None:
        return None
    found = parse_date(m.group("date"))
    order = ORDER_NUMBER_RE.fullmatch(m.group("order"))
    if found is None or order is None:
        return None
    return found[0], found[1], _order(order), m.group("organ")
