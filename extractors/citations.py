"""Citations of other documents in a notice's text: a 发文字号, a title in 《》, or both.

Pure text → records. A 发文字号 is read by extractors/metadata.py (the same patterns as a
notice's own number); the word lists around it are data (extractors/rules/citations.json).
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from extractors.metadata import DOC_NUMBER_RE, ORDER_NUMBER_RE, bracketed_number, order_number
from extractors.rules import load
from schemas import DocNumber

_RULES = load("citations")
_TITLE_RE = regex.compile(_RULES["title_pattern"])
_NUMBER_AFTER_TITLE = regex.compile(_RULES["number_after_title"])
_ALIAS_RE = regex.compile(_RULES["alias_pattern"])
_LEAD_WORDS = sorted(_RULES["number_lead_words"], key=len, reverse=True)
_ENDINGS = tuple(_RULES["document_endings"])
_WRAPPERS = _RULES["title_wrappers"]
ROOT_LENGTH: int = _RULES["title_root_length"]
_TITLE_KEY_DROP = regex.compile(r"[\s《》〈〉<>“”\"'‘’]")
_DASHES = str.maketrans({"—": "-", "–": "-", "－": "-", "（": "(", "）": ")"})


@dataclass(frozen=True)
class Citation:
    """One reference to another document, where it stands in the text it was read from."""

    start: int  # offset in the text (inclusive)
    end: int  # exclusive
    number: str | None  # 发文字号 as written
    title: str | None  # title as written, without 《》
    number_key: str | None  # normalized 发文字号 (see number_key)
    title_key: str | None  # normalized title (see title_key)


def number_key(number: DocNumber) -> str:
    """The 发文字号 compared across documents: organ code, year and serial, brackets and 第 and
    spaces as written left out (国办发〔2024〕49号, 国办发[2024] 49 号 and 国办发〔2024〕第49号 alike)."""
    if number.year is None:
        return f"{number.organ_code}第{number.serial}号"
    return f"{number.organ_code}〔{number.year}〕{number.serial}号"


def title_key(title: str | None) -> str | None:
    """A title compared across documents: no spaces, 《》〈〉<> or quotes; dashes and brackets one width."""
    if not title:
        return None
    key = _TITLE_KEY_DROP.sub("", title).translate(_DASHES)
    return key or None


def title_root(title: str | None, jurisdiction: str | None = None) -> tuple[str | None, int | None]:
    """(root, year) of a title: without the 印发/转发 wrapper, the year (20xx年) and the
    jurisdiction's name, its first ROOT_LENGTH characters; a local plan's root equals the national
    plan's it implements (2023年北京市全民科学素质工作重点任务 and 2023年全民科学素质行动重点工作任务台账:
    全民科学素质, 2023)."""
    key = title_key(title)
    if not key:
        return None, None
    for wrapper in _WRAPPERS:
        if key.startswith(wrapper):
            key = key[len(wrapper):]
        if key.endswith(wrapper):
            key = key[: -len(wrapper)]
    year = None
    m = regex.search(r"((?:19|20)\d\d)年(?:度)?", key)
    if m is not None:
        year = int(m.group(1))
        key = key[: m.start()] + key[m.end():]
    if jurisdiction and jurisdiction != "全国":
        short = regex.sub(r"(?:省|市|自治区|特别行政区|县|区)$", "", jurisdiction)
        for name in (jurisdiction, short):
            if name and len(name) >= 2:
                key = key.replace(name, "")
    key = key.lstrip("关于")
    if len(key) < ROOT_LENGTH:
        return None, year
    return key[:ROOT_LENGTH], year


def _trimmed(number: DocNumber) -> DocNumber:
    """The number without words the pattern took for the organ code (根据国办发 → 国办发)."""
    organ = number.organ_code
    changed = True
    while changed:
        changed = False
        for word in _LEAD_WORDS:
            cut = organ.rfind(word)
            # a lead word inside the organ code: the code is what follows it (文件…国办发 too)
            if cut >= 0 and len(organ) - cut - len(word) >= 2:
                organ, changed = organ[cut + len(word):], True
                break
    if organ == number.organ_code:
        return number
    raw = number.raw[number.raw.index(organ):] if organ in number.raw else number.raw
    return DocNumber(raw=raw, organ_code=organ, year=number.year, serial=number.serial)


def _numbers(text: str) -> list[tuple[int, int, DocNumber]]:
    found = []
    for m in DOC_NUMBER_RE.finditer(text):
        n = _trimmed(bracketed_number(m))
        found.append((m.start(), m.end(), n))
    taken = [(s, e) for s, e, _ in found]
    for m in ORDER_NUMBER_RE.finditer(text):
        if any(s < m.end() and m.start() < e for s, e in taken):
            continue
        found.append((m.start(), m.end(), _trimmed(order_number(m))))
    # the start of what was kept (the trimmed words are not part of the citation)
    out = []
    for s, e, n in sorted(found, key=lambda x: x[0]):
        if s > 0 and text[s - 1].isdigit() and n.organ_code[:1] in "年月日":
            # 2022年12月23日北京市人民政府第307号令: the date's 日 is no part of the organ
            n = DocNumber(raw=n.raw[1:], organ_code=n.organ_code[1:], year=n.year, serial=n.serial)
        first = text.find(n.organ_code[:1], s, e)
        out.append((first if first >= 0 else s, e, n))
    return out


def find_citations(text: str, aliases: dict[str, str] | None = None) -> list[Citation]:
    """Every citation in `text`, in order: 《title》 with the 发文字号 in brackets after it as one
    citation; a 发文字号 alone; a title alone when it names a kind of document (…意见, …通知, …纲要
    (2021—2035年)), not a book or a newspaper. A short name given with 以下简称《X》 is not a
    citation itself; a later 《X》 is read as the full title it stands for."""
    numbers = _numbers(text)
    used: set[int] = set()
    aliases = {} if aliases is None else aliases
    out: list[Citation] = []
    for m in _TITLE_RE.finditer(text):
        title = regex.sub(r"\s+", "", m.group("title"))  # a title broken over lines
        tail = text[m.end(): m.end() + 60]
        if "以下简称" in text[max(0, m.start() - 8): m.start()]:
            continue  # the short name a citation just gave itself
        full = aliases.get(title_key(title) or "")
        number = None
        end = m.end()
        after = _NUMBER_AFTER_TITLE.match(tail)
        if after is not None:
            for k, (s, e, n) in enumerate(numbers):
                if k not in used and m.end() <= s and e <= m.end() + after.end():
                    number, end = n, m.end() + after.end()
                    used.add(k)
                    break
        alias = _ALIAS_RE.match(tail[after.end():] if after is not None and number is not None else tail)
        if alias is not None:
            aliases[title_key(alias.group("alias"))] = title
        cited = full or title
        if number is None and not title_key(cited).endswith(_ENDINGS):
            continue
        out.append(Citation(m.start(), end, number.raw if number else None, cited,
                            number_key(number) if number else None, title_key(cited)))
    for k, (s, e, n) in enumerate(numbers):
        if k not in used and not any(c.start <= s < c.end for c in out):
            out.append(Citation(s, e, n.raw, None, number_key(n), None))
    return sorted(out, key=lambda c: c.start)
