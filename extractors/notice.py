"""A whole notice from its text: header, body, closing and attachments.

Layout (GB/T 9704-2012): banner (发文机关标志) and number (发文字号), title,
recipients (主送机关) ending in `：`, body (正文), attachment note (附件说明),
signature (发文机关署名) and date (成文日期); then attachments, each opened by
a `附件N` line — or, in 印发/转发 notices, simply following the date.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from itertools import islice

import regex

from extractors.recognized import apply_recognition
from extractors.dictionary import UnitDictionary
from extractors.jurisdiction import jurisdiction_of, only_city_named, only_province_named, place_named, place_of_organ
from extractors.normalize import resolve_mentions, rule_unit
from extractors.passages import text_passages
from extractors.page import apply_page, is_report, link_attachments, source_organs
from extractors.metadata import date_line, doc_number_line, find_doc_numbers, forwarded_from_title, promulgation_line
from extractors.rules import load
from extractors.structure import (
    Line,
    ends_sentence,
    lines_text,
    make_span,
    numbered,
    parse_part,
    split_lines,
)
from extractors.text import compact
from extractors.units import (
    Note,
    find_clauses,
    find_notes,
    has_clause,
    is_clause_line,
    is_collective,
    looks_like_unit,
    mentions_from_list,
    read_clause,
)
from schemas import Attachment, Document, ForwardedDocument, Item, ParseWarning, SourceText, UnitMention

_RULES = load("structure")
BODY_PART = "正文"
ATTACHMENT_MARKER_RE = regex.compile(r"^\s*附\s*件\s*(?P<num>\d{1,2})?\s*[:：]?\s*$")
ATTACHMENT_MARKER_TITLE_RE = regex.compile(r"^\s*附\s*件\s*(?P<num>\d{1,2})\s+(?P<title>[^\s：:，,。(（][^。：:]{1,40})$")
ATTACHMENT_NOTE_RE = regex.compile(r"^\s*[-•·]?\s*附\s*件\s*[:：]\s*(?P<rest>\S.*)$")
NOTE_ENTRY_RE = regex.compile(r"^\s*(?P<num>\d{1,2})\s*[.．、]\s*(?P<title>\S.*)$")
# 版记: the distribution record after the signature (抄送：…, …2016年10月6日印发).
IMPRINT_RE = regex.compile(
    r"^\s*(?:(?:抄\s*送|抄\s*报|分\s*送)\s*[:：]|.{0,40}?\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*印\s*发\s*$)"
)
PROXY_SEAL_RE = regex.compile(r"^[（(](?P<organ>.+?)" + _RULES["proxy_seal_suffix"] + r"[）)]$")
_TITLE_START_RE = regex.compile(r"关于|^转发|^印发")
_TITLE_ISSUER_RE = regex.compile(r"^(?P<organ>[\p{Han}（）()]{4,60}?)(?:关于|转发|印发)")
_ORGAN_NAME_RE = regex.compile(r"^[\p{Han}（）()]{2,60}$")
_MAX_TITLE = _RULES["max_title_line_chars"]
# An opening paragraph that ends in ： (为…，现提出如下措施：) is not a list of recipients.
_RECIPIENTS_NOT_RE = regex.compile(r"。|^(?:为|根据|按照|依据|现将|现就|经|近年来|当前|目前|今年|以下)")
# …（代章） or …（国家卫生健康委代章） after the organ on the signature line.
SEAL_NOTE_RE = regex.compile(r"^(?P<issuer>.+?)[（(](?P<organ>[^（()）]*?)" + _RULES["proxy_seal_suffix"] + r"[）)]$")
_MAX_SIGNATURE = _RULES["max_signature_line_chars"]


def fold(text: str) -> str:
    """Key for comparing titles: width-folded (（ = (), spaces removed."""
    return compact(unicodedata.normalize("NFKC", text))


def _is_numbered(text: str) -> bool:
    body = text.strip()
    return bool(numbered(body) or NOTE_ENTRY_RE.match(body))


_SITE_LINES = [regex.compile(p) for p in _RULES["site_line_patterns"]]
_TITLE_STATUS_RE = regex.compile(r"^[（(](?:" + "|".join(_RULES["title_status_words"]) + r")[）)]$")
_PERSON_SIGNATURE_RE = regex.compile(
    "^(?:" + "|".join(map(regex.escape, _RULES["person_signature_titles"])) + r")\p{Han}{2,4}$"
)
_TITLE_ENDINGS = frozenset(_RULES["title_endings"])
_TITLE_STOP_RES = [regex.compile(p) for p in _RULES["title_stop_patterns"]]
_SPEAKER_RE = regex.compile(
    r"(?:^|\p{Han})(?:" + "|".join(map(regex.escape, _RULES["person_signature_titles"])) + r")[\s\u3000]+\p{Han}{2,4}$"
)
# 中华人民共和国国务院令 / 第707号 at the head of an order.
_ORDER_BANNER_RE = regex.compile(r"^(?P<organ>\p{Han}{2,30}?)令$")
# Joint issuers stand side by side on a line, separated by wide spaces.
# Joint issuers side by side: wide spaces, or the cells of a table row (a tab).
_SIGNATURE_GAP_RE = regex.compile(r"\s{2,}|\u3000+|\t")
_ORDER_SERIAL_RE = regex.compile(r"^第\d{1,5}号$")
_ANNOTATIONS = [regex.compile(p) for p in _RULES["annotation_patterns"]]


def _is_annotation(text: str) -> bool:
    """附注 such as （此件公开发布）."""
    return any(p.match(compact(text)) for p in _ANNOTATIONS)


def is_site_line(text: str) -> bool:
    """Web-page chrome kept in a copy of a page (发布日期：…, 浏览次数：): never a title, recipients or date."""
    s = text.strip()
    return any(p.match(s) for p in _SITE_LINES)


@dataclass
class _Part:
    label: str
    number: int | None
    first: int  # first line of the part's content (after its title)
    last: int
    title: str | None = None
    marker: int | None = None  # line of the 附件N marker, if any


@dataclass
class _Notice:
    """Where each element of the notice sits (line indexes)."""

    warnings: list[ParseWarning] = field(default_factory=list)
    parts: list[_Part] = field(default_factory=list)
    note: list[tuple[int | None, str]] = field(default_factory=list)
    title: str | None = None
    banner: str | None = None
    doc_number_index: int | None = None
    recipients: str | None = None
    signatories: list[str] = field(default_factory=list)
    proxy_seal: str | None = None
    date_index: int | None = None
    order_banner: tuple[int, int] | None = None  # lines of 中华人民共和国国务院令 / 第707号


def extract_document(
    source: SourceText,
    *,
    source_path: str,
    content_hash: str,
    dictionary: UnitDictionary | None = None,
    first_listed_leads: bool = False,
) -> Document:
    """Parse a notice's text into a `Document` (metadata, sections, tasks, units).

    Pure: reads nothing but its arguments (`dictionary` defaults to the one
    shipped in extractors/rules/units.tsv). Fields the text does not hold stay
    empty and a warning says so. `first_listed_leads` applies the convention
    that the first unit of a plain list leads, for issuing systems known to
    use it; a notice that states it (列第一位者为牵头单位) gets it from there on.
    """
    lines = split_lines(source.text)
    layout = _read_layout(lines)
    doc = Document(
        source_path=source_path,
        format=source.format,
        content_hash=content_hash,
        encoding=source.encoding,
        page_count=len(source.page_starts) or None,
        warnings=list(source.warnings) + layout.warnings,
    )
    _fill_metadata(doc, layout, lines)
    page_sources: list[str] = []
    if source.page is not None:
        page_sources = source_organs(apply_page(doc, source.page))
        if is_report(doc.title, _first_paragraph(lines, doc.title)):
            doc.warnings.append(
                ParseWarning(
                    field="genre",
                    message="a news report about a notice, not the notice itself: its metadata may be the report's",
                )
            )
    doc.jurisdiction = _read_jurisdiction(doc, lines, source.text, page_sources)
    # A forwarded document keeps its own context: 国家纲要办's national names stay national.
    forwarded_place = place_of_organ(doc.forwarded.issuer) if doc.forwarded and doc.forwarded.issuer else None
    notes = find_notes(source.text)
    if first_listed_leads:
        doc.first_listed_leads = "option"
    elif any(n.kind == "first_listed_leads" for n in notes):
        doc.first_listed_leads = "note"

    for part in layout.parts:
        if part.first > part.last:
            continue
        found = parse_part(lines, part.first, part.last, part.label, source.page_starts, has_clause, is_clause_line)
        doc.sections.extend(found.sections)
        doc.warnings.extend(found.warnings)
        place = forwarded_place if forwarded_place and part.label != BODY_PART else doc.jurisdiction
        for item in found.items:
            leads = first_listed_leads or any(n.kind == "first_listed_leads" and n.offset < item.span.end for n in notes)
            implied = [n for n in notes if n.kind == "implied_units" and n.offset < item.span.start]
            doc.items.append(
                with_units(item, place, dictionary, first_listed_leads=leads, implied=implied, organs=doc.issuers)
            )
    _fill_attachments(doc, layout, lines, source.page_starts)
    if source.page is not None:
        link_attachments(doc, source.page)
    _warn_missing(doc, layout)
    apply_recognition(doc, source)
    doc.passages = text_passages(doc, lines, source.page_starts)
    return doc


def _first_paragraph(lines: list[Line], title: str | None) -> str:
    """The first paragraph under the title (a news lead, or the notice's recipients)."""
    key = compact(title or "")
    for line in lines[:20]:
        text = compact(line.text)
        if len(text) >= 12 and text != key and text not in key:
            return line.text
    return ""


def _read_jurisdiction(doc: Document, lines: list[Line], text: str, page_sources: list[str]) -> str | None:
    """Where the notice speaks for: its issuers or number, else its title's organ, else the page's 来源 line.

    A signature without its place (省…联席会议, 省政府办公厅) takes the province
    the notice itself names when it names exactly one, and is written out in
    full (安徽省…), with a warning.
    """
    found = jurisdiction_of(doc.issuers, doc.doc_number)
    if found is None and doc.title:
        # The title's organ (…关于…), else the place a title opens with (宿州市进一步促进…若干措施).
        found = jurisdiction_of(_title_organs(doc.title), None) or jurisdiction_of(
            [regex.sub(r"^\d{4}\s*年(?:度)?", "", doc.title)], None
        )
    if found is None:
        sources = [m.group("organ") for line in lines[:80] if (m := _SOURCE_LINE_RE.match(line.stripped))]
        sources += page_sources
        found = jurisdiction_of(sources, None)
        if found is not None:
            doc.warnings.append(
                ParseWarning(field="jurisdiction", message=f"jurisdiction read from the page's 来源 line ({sources[0]})")
            )
    if found is None and not doc.issuers:
        found = only_city_named(text)
        if found is not None:
            doc.warnings.append(
                ParseWarning(field="jurisdiction", message=f"no issuer names a place; the notice names only {found}")
            )
    short = [i for i in doc.issuers if i.startswith(("省", "市"))]
    if found is None and short:
        # 省…: the one province the notice names; 市…: the one city.
        found = only_province_named(text) if short[0].startswith("省") else only_city_named(text)
        if found is not None:
            doc.warnings.append(
                ParseWarning(field="jurisdiction", message=f"the issuer names no place; the notice names only {found}")
            )
    place = place_named(found)
    if place is not None and short:
        expanded = []
        for issuer in doc.issuers:
            where = place.province if issuer.startswith("省") else place.city if issuer.startswith("市") else None
            built = rule_unit(issuer, place) if where else None
            full = built.canonical_name if built else (where + issuer[1:] if where else issuer)
            if full != issuer:
                doc.warnings.append(ParseWarning(field="issuers", message=f"short signature {issuer} read as {full}"))
            expanded.append(full)
        doc.issuers = expanded
    return found


_SOURCE_LINE_RE = regex.compile(r"^(?:.*\s)?(?:信息来源|来源)\s*[:：]\s*(?P<organ>[\p{Han}（）()]{4,40})")


def _title_organs(title: str) -> list[str]:
    m = _TITLE_ISSUER_RE.match(title)
    return [m.group("organ")] if m else []


# --- layout ------------------------------------------------------------------


def _read_layout(lines: list[Line]) -> _Notice:
    notice = _Notice()
    n = len(lines)
    markers = [(i, m) for i, line in enumerate(lines) if (m := ATTACHMENT_MARKER_RE.match(line.text))]
    first_marker = markers[0][0] if markers else n

    # The notice itself ends at its date; what follows it, before any 附件 marker,
    # is the document it issues or forwards.
    date_index = next((i for i in range(first_marker) if date_line(lines[i].text)), None)
    notice_last = date_index if date_index is not None else first_marker - 1
    # No date line: the notice still ends at its closing formula (特此通知), and what follows is enclosed.
    closing_at = None
    if date_index is None:
        closing_at = next((i for i in range(first_marker) if _CLOSING_FORMULA_RE.match(compact(lines[i].text))), None)
        if closing_at is not None:
            notice_last = closing_at
    if notice_last >= 0 and any(not lines[i].blank for i in range(notice_last + 1)):
        body_first = _read_header(lines, notice_last, notice)
        body_last = notice_last
        if date_index is not None:
            notice.date_index = date_index
            body_last = _read_signature(lines, date_index, notice) - 1
        body_last = _read_note(lines, body_first, body_last, notice)
        notice.parts.append(_Part(BODY_PART, None, body_first, body_last))

    # 附件2 名词解释: a numbered marker with its title on the same line, once the notice has ended.
    notice_end = date_index if date_index is not None else closing_at
    after = first_marker if markers else (notice_end if notice_end is not None else n)
    inline = [(i, m) for i in range(after + 1, n) if (m := ATTACHMENT_MARKER_TITLE_RE.match(lines[i].text))]
    if inline:
        markers = sorted(markers + inline, key=lambda pair: pair[0])
        first_marker = markers[0][0]
    enclosed_first = (notice_end + 1) if notice_end is not None else None
    enclosed_last = _before_imprint(lines, enclosed_first, first_marker - 1) if enclosed_first is not None else -1
    if enclosed_first is not None:
        # 附注 (（此件公开发布）) and a 版记 line (…2017年5月3日印发) right under the date come before the enclosure.
        while enclosed_first < first_marker and (
            lines[enclosed_first].blank
            or _is_annotation(lines[enclosed_first].text)
            or IMPRINT_RE.match(lines[enclosed_first].text)
        ):
            enclosed_first += 1
        enclosed_last = _before_imprint(lines, enclosed_first, first_marker - 1)
    if enclosed_first is not None and any(not lines[i].blank for i in range(enclosed_first, enclosed_last + 1)):
        title, content_first = _attachment_title(lines, enclosed_first, enclosed_last)
        number = _note_number_for(title, notice.note)
        label = f"附件{number}" if number is not None else "附件"
        notice.parts.append(_Part(label, number, min(content_first, enclosed_last), enclosed_last, title))

    for k, (i, m) in enumerate(markers):
        last = markers[k + 1][0] - 1 if k + 1 < len(markers) else n - 1
        last = _before_imprint(lines, i + 1, last)
        number = int(m.group("num")) if m.group("num") else None
        if "title" in m.groupdict() and m.group("title"):
            title, content_first = compact(m.group("title")), i + 1
        else:
            title, content_first = _attachment_title(lines, i + 1, last)
        label = f"附件{number}" if number is not None else "附件"
        notice.parts.append(_Part(label, number, content_first, last, title, marker=i))

    notice.parts = _split_issued_documents(lines, notice.parts)
    for part in notice.parts:
        while part.last > part.first and lines[part.last].blank:
            part.last -= 1
    # Part labels key every section and item: keep them unique.
    seen: dict[str, int] = {}
    for part in notice.parts:
        seen[part.label] = seen.get(part.label, 0) + 1
        if seen[part.label] > 1:
            part.label = f"{part.label}({seen[part.label]})"
    return notice


_CLOSING_FORMULA_RE = regex.compile(r"^特此(?:通知|通告|函告|批复|公告|函复)[。.]?$")
_FORWARDED_NUMBER_RE = regex.compile(r"《(?P<title>[^《》]{4,80})》\s*[（(](?P<number>[^（）()]{4,30}?号)[）)]")
_QUOTED_RE = regex.compile(r"《(?P<title>[^《》]{4,60})》")


def _split_issued_documents(lines: list[Line], parts: list[_Part]) -> list[_Part]:
    """现将《A》和《B》印发给你们: where B's title stands as a line inside A's part, B starts a part of its own."""
    body = next((p for p in parts if p.label == BODY_PART), None)
    if body is None:
        return parts
    named = {fold(m.group("title")) for m in _QUOTED_RE.finditer(lines_text(lines, body.first, body.last))}
    out: list[_Part] = []
    for part in parts:
        if part.label == BODY_PART or not named:
            out.append(part)
            continue
        current = part
        for i in range(part.first + 1, part.last + 1):
            title = fold(lines[i].text)
            if title not in named or title == fold(current.title or ""):
                continue
            previous = next((k for k in range(i - 1, current.first - 1, -1) if not lines[k].blank), None)
            if previous is None or not ends_sentence(lines[previous].text):
                continue
            out.append(_Part(current.label, current.number, current.first, previous, current.title, current.marker))
            current = _Part(current.label, None, i + 1, part.last, compact(lines[i].text))
        out.append(current)
    return out


def _read_header(lines: list[Line], last: int, notice: _Notice) -> int:
    """Banner, number, title and recipients; returns the first line of the body."""
    # The first 25 such lines, without reading a long body to its end.
    nonblank = list(islice((i for i in range(last + 1) if not lines[i].blank and not is_site_line(lines[i].text)), 25))
    recipients_at = next(
        (
            i
            for i in nonblank
            if lines[i].stripped.endswith(("：", ":"))
            and not ATTACHMENT_NOTE_RE.match(lines[i].text)
            and not _is_numbered(lines[i].text)
            and not _RECIPIENTS_NOT_RE.search(compact(lines[i].text))
            and i != nonblank[0]
        ),
        None,
    )
    if recipients_at is not None:
        # Recipients may wrap: earlier lines ending in ， or 、 belong to them.
        first = recipients_at
        while first - 1 >= 0 and (lines[first - 1].blank or lines[first - 1].stripped.endswith(("，", "、", ","))):
            if lines[first - 1].blank:
                if first - 2 >= 0 and lines[first - 2].stripped.endswith(("，", "、", ",")):
                    first -= 1
                    continue
                break
            first -= 1
        notice.recipients = compact("".join(lines[i].stripped for i in range(first, recipients_at + 1)))[:-1]
        header = [i for i in nonblank if i < first]
        body_first = recipients_at + 1
    else:
        # No recipients line: the header is the short lines before the first paragraph.
        header = []
        for i in nonblank:
            text = lines[i].stripped
            if len(compact(text)) > _MAX_TITLE or "。" in text or _is_numbered(text) or "\t" in text:
                break
            header.append(i)
            if fold(text).endswith(tuple(_RULES["title_endings"])):
                break
        following = [i for i in nonblank if header and i > header[-1]][:1]
        if following and _TITLE_STATUS_RE.match(compact(lines[following[0]].text)):
            header.append(following[0])  # 若干措施 / （试行）
        body_first = header[-1] + 1 if header else 0

    candidates = []
    banner_at: int | None = None
    for k, i in enumerate(header):
        text = compact(lines[i].text)
        if notice.order_banner and i == notice.order_banner[1]:
            continue
        if (
            k + 1 < len(header)
            and _ORDER_BANNER_RE.match(text)
            and _ORDER_SERIAL_RE.match(compact(lines[header[k + 1]].text))
        ):
            # An order's banner and serial above its promulgation sentence: not its title.
            notice.order_banner = (i, header[k + 1])
            continue
        number = doc_number_line(lines[i].text)
        if number is not None:
            notice.doc_number_index = i
            before = text[: text.find(number.raw)] if number.raw in text else ""
            if before.endswith(_RULES["banner_suffix"]) and len(before) > len(_RULES["banner_suffix"]) + 1:
                notice.banner = before[: -len(_RULES["banner_suffix"])]  # banner and number on one line
            continue
        if (
            text.endswith(_RULES["banner_suffix"])
            and len(text) > len(_RULES["banner_suffix"]) + 1
            and not _TITLE_START_RE.search(text)  # …关于全面推行行政规范性 / 文件合法性…: a title line, not a banner
        ):
            notice.banner = text[: -len(_RULES["banner_suffix"])]
            banner_at = k
            continue
        if len(text) <= 4 and not _TITLE_STATUS_RE.match(text) and not (candidates and text in _TITLE_ENDINGS):
            continue  # 公开, 特急, 机密 …; but 关于印发…的 / 通知 is a title wrapped before its 文种
        if "。" in text:
            continue  # a paragraph (a news page's lead) is never a title line
        candidates.append(i)
    if banner_at is not None and notice.doc_number_index is not None and header[banner_at] < notice.doc_number_index:
        notice.banner = _joint_banner(lines, header, banner_at, notice)
    start = next((k for k, i in enumerate(candidates) if _TITLE_START_RE.search(compact(lines[i].text))), 0)
    if start > 0 and compact(lines[candidates[start]].text).startswith("关于"):
        # 达州市人民政府办公室 / 关于印发…的通知: the organ opens the title (发文机关 + 关于 + 事由 + 文种);
        # joint issuers, one organ a line, all open it.
        title_at = candidates[start]
        while start > 0 and _title_organ_line(lines, candidates[start - 1], title_at, notice):
            start -= 1
    above = compact("".join(lines[i].text for i in candidates[:start]))
    if start > 0 and notice.banner is None and _ORGAN_NAME_RE.match(above):
        # Organ name printed above the title without 文件 (e.g. seed 001);
        # not a converter's header such as 【法宝引证码】… or a URL.
        notice.banner = above
    # Some exports print the title twice (a page's own title line, then the title as set):
    # keep each title line once, and one copy of a title repeated over other line breaks.
    title_at = candidates[start:]
    stop = next((k for k, i in enumerate(title_at) if k and _ends_title(lines[i].stripped)), len(title_at))
    title_lines = list(dict.fromkeys(compact(lines[i].text) for i in title_at[:stop]))
    if title_lines:
        notice.title = _once("".join(title_lines), title_lines)
    return body_first


def _joint_banner(lines: list[Line], header: list[int], banner_at: int, notice: _Notice) -> str:
    """A joint banner: organ lines stacked above and below the one that carries 文件, set beside them
    (长沙县住房和城乡建设局 / 长沙县财政局 文件 / 长沙县自然资源局), all above the number."""

    def organ(k: int) -> bool:
        i = header[k]
        return i < notice.doc_number_index and _is_organ_line(lines[i].text)

    first = banner_at
    while first > 0 and organ(first - 1):
        first -= 1
    last = banner_at
    while last + 1 < len(header) and organ(last + 1):
        last += 1
    names = [compact(lines[header[k]].text) for k in range(first, last + 1)]
    names[banner_at - first] = notice.banner or ""
    return "".join(names)


def _ends_title(text: str) -> bool:
    """A line under the title that is not part of it (a subtitle, dateline or speaker; see title_stop_patterns)."""
    return any(p.match(text) for p in _TITLE_STOP_RES) or bool(_SPEAKER_RE.search(text))


def _once(title: str, title_lines: list[str]) -> str:
    """`X` + `X` set over other lines → `X`."""
    for k in range(1, len(title_lines)):
        head = "".join(title_lines[:k])
        if head == "".join(title_lines[k:]):
            return head
    return title


def _title_organ_line(lines: list[Line], organ_at: int, title_at: int, notice: _Notice) -> bool:
    """Is the line above a 关于… title line the title's own first line (not a banner above the number)?"""
    text = compact(lines[organ_at].text)
    number_between = notice.doc_number_index is not None and organ_at < notice.doc_number_index < title_at
    organs = text.split("、")  # 国务院办公厅、中央军委办公厅 / 关于…: joint organs open the title
    return not number_between and all(_ORGAN_NAME_RE.match(o) and looks_like_unit(o) for o in organs)


def _read_signature(lines: list[Line], date_index: int, notice: _Notice) -> int:
    """Signature lines just above the date; returns the first line of the closing block."""
    i = date_index - 1
    while i >= 0 and lines[i].blank:
        i -= 1
    collected = []
    while i >= 0:
        if lines[i].blank:
            # Joint issuers printed one per paragraph: go on over a blank line to another organ's name.
            above = i - 1
            while above >= 0 and lines[above].blank:
                above -= 1
            if collected and above >= 0 and _is_organ_line(lines[above].stripped):
                i = above
                continue
            break
        text = lines[i].stripped
        if _NO_BODY_ON_PAGE_RE.match(compact(text)):
            break  # （此页无正文）: GB/T 9704's note above a signature set on a page of its own
        if (
            len(compact(text)) > _MAX_SIGNATURE
            or compact(text).endswith(("。", "，", "；", "：", ":", ",", ";"))
            or _is_numbered(text)
            or ATTACHMENT_NOTE_RE.match(text)
            # A table row is signed only when each of its cells is an organ (joint issuers in a
            # borderless table); a task row or 联系人 | 市发展改革委… ends the signature.
            or ("\t" in text and not all(_is_organ_line(cell) for cell in text.split("\t") if cell.strip()))
        ):
            break
        collected.append(i)
        i -= 1
    names_before = len(notice.signatories)
    rows: list[list[str]] = []
    for k in reversed(collected):
        text = lines[k].stripped
        seal = PROXY_SEAL_RE.match(compact(text))
        if seal:
            notice.proxy_seal = seal.group("organ")
            continue
        if _PERSON_SIGNATURE_RE.match(compact(text)):
            continue  # 总理 李克强: an order is signed by a person; the organ is its banner
        # Joint issuers stand side by side, separated by wide spaces.
        rows.append([compact(n) for n in _SIGNATURE_GAP_RE.split(text) if n.strip()])
    for name in _join_wrapped_columns(rows):
        inline = SEAL_NOTE_RE.match(name)
        if inline:
            # 省…联席会议（代章）: the organ is the issuer; the note says whose seal stands in.
            name = inline.group("issuer")
            notice.proxy_seal = inline.group("organ") or _RULES["proxy_seal_suffix"]
        notice.signatories.append(name)
    notice.signatories[names_before:] = _join_wrapped_names(notice.signatories[names_before:])
    notice.signatories = [piece for name in notice.signatories for piece in _split_joint(name)]
    return collected[-1] if collected else date_index


def _join_wrapped_columns(rows: list[list[str]]) -> list[str]:
    """Names side by side, some wrapped onto the next row under themselves:

        长沙县住房      长沙县财政局      长沙县
        和城乡建设局                      自然资源局

    The second row's pieces go, in order, to the names above that they complete (a name that is
    no unit alone, or only a place: 长沙县); without such a match the rows stay as they are."""
    out: list[str] = []
    k = 0
    while k < len(rows):
        row = rows[k]
        below = rows[k + 1] if k + 1 < len(rows) else []
        if 1 < len(row) and 0 < len(below) < len(row):
            joined, j = [], 0
            for name in row:
                if j < len(below) and (not looks_like_unit(name) or _PLACE_ONLY_RE.match(name)) and looks_like_unit(
                    name + below[j]
                ):
                    joined.append(name + below[j])
                    j += 1
                else:
                    joined.append(name)
            if j == len(below):
                out.extend(joined)
                k += 2
                continue
        out.extend(row)
        k += 1
    return out


_PLACE_ONLY_RE = regex.compile(r"^\p{Han}{1,6}[省市县区州旗]$")
_NO_BODY_ON_PAGE_RE = regex.compile(r"^[（(]此页无正文[）)]$")


def _join_wrapped_names(names: list[str]) -> list[str]:
    """国务院应对新型冠状病毒肺炎 / 疫情联防联控机制综合组: a long name set over two lines is one organ."""
    out: list[str] = []
    for name in names:
        if out and not looks_like_unit(out[-1]) and looks_like_unit(out[-1] + name):
            out[-1] += name
        else:
            out.append(name)
    return out


# A signature of several organs run together: …厅 + 海南省…, …委 + 市房屋管理局.
_JOINT_BOUNDARY_RE = regex.compile(r"(?<=[委局厅办室会院部署府])(?=(?:省|市|区|县|\p{Han}{2,4}[省市]))")


def _split_joint(name: str) -> list[str]:
    """海南省住房和城乡建设厅海南省住房公积金管理局 → the two organs, when every piece reads as one."""
    cuts = [m.start() for m in _JOINT_BOUNDARY_RE.finditer(name)]
    for size in range(len(cuts), 0, -1):
        pieces = [name[a:b] for a, b in zip([0, *cuts[:size]], [*cuts[:size], len(name)])]
        if len(pieces) > 1 and all(len(p) >= 4 and looks_like_unit(p) and _ORGAN_START_RE.match(p) for p in pieces):
            return pieces
    return [name]


_ORGAN_START_RE = regex.compile(r"^(?:省|市|区|县|\p{Han}{2,4}[省市县区])")


def _is_organ_line(text: str) -> bool:
    """A line that is only organ names (沈阳市房产局      沈阳市自然资源局)."""
    names = [compact(n) for n in _SIGNATURE_GAP_RE.split(text) if n.strip()]
    return bool(names) and len(compact(text)) <= _MAX_SIGNATURE and all(
        _ORGAN_NAME_RE.match(n) and looks_like_unit(n) and not is_collective(n) for n in names
    )


def _read_note(lines: list[Line], first: int, last: int, notice: _Notice) -> int:
    """The 附件说明 (附件：1. … 2. …); returns the last body line before it."""
    for i in range(first, last + 1):
        m = ATTACHMENT_NOTE_RE.match(lines[i].text)
        if m is None:
            continue
        entry = NOTE_ENTRY_RE.match(m.group("rest"))
        entries: list[list] = [[int(entry.group("num")), entry.group("title")]] if entry else [[None, m.group("rest")]]
        for j in range(i + 1, last + 1):
            if lines[j].blank or _NO_BODY_ON_PAGE_RE.match(compact(lines[j].text)):
                break
            nxt = NOTE_ENTRY_RE.match(lines[j].text)
            if nxt and entries[-1][0] is not None and int(nxt.group("num")) == entries[-1][0] + 1:
                entries.append([int(nxt.group("num")), nxt.group("title")])
            else:
                entries[-1][1] += lines[j].stripped  # a long title wraps
        notice.note = [(num, compact(title)) for num, title in entries]
        return i - 1
    return last


def _before_imprint(lines: list[Line], first: int, last: int) -> int:
    """Last line of a part that ends where the 版记 (抄送… / …印发) begins."""
    for i in range(first, last + 1):
        if IMPRINT_RE.match(lines[i].text):
            return i - 1
    return last


def _attachment_title(lines: list[Line], first: int, last: int) -> tuple[str | None, int]:
    """Title lines at the top of an attachment; returns (title, first content line).

    A title may be set over lines with a blank between them; a line ending in
    ：(购房人…需提供以下材料：) opens the content, it is not the title.
    """
    i = first
    while i <= last and lines[i].blank:
        i += 1
    while i <= last and (lines[i].blank or _is_annotation(lines[i].text)):
        i += 1  # （本文有删减） above the title
    first = i
    taken: list[int] = []
    while i <= last and len(taken) < 3:
        text = lines[i].stripped
        if lines[i].blank:
            if taken and not _title_complete(lines[taken[-1]].text) and _next_is_title_line(lines, i, last):
                i += 1
                continue
            if taken:
                break
            i += 1
            continue
        if (
            len(compact(text)) > _MAX_TITLE
            or "。" in text
            or "\t" in lines[i].text
            or _is_numbered(text)
            or compact(text).endswith(("：", ":"))
        ):
            break
        taken.append(i)
        i += 1
    if not taken:
        return None, first
    return compact("\n".join(lines[k].text for k in taken)), taken[-1] + 1


def _title_complete(text: str) -> bool:
    return fold(text).endswith(tuple(_RULES["title_endings"])) or compact(text).endswith(("）", ")"))


def _next_is_title_line(lines: list[Line], i: int, last: int) -> bool:
    j = i
    while j <= last and lines[j].blank:
        j += 1
    if j > last:
        return False
    text = compact(lines[j].text)
    return len(text) <= _MAX_TITLE and "。" not in text and "，" not in text and not _is_numbered(text) and (
        _title_complete(text)
    )


def _note_number_for(title: str | None, note: list[tuple[int | None, str]]) -> int | None:
    if title is None:
        return None
    for number, listed in note:
        if fold(listed) == fold(title):
            return number
    return None


# --- assembling the document -------------------------------------------------


def _fill_metadata(doc: Document, layout: _Notice, lines: list[Line]) -> None:
    doc.issuer_banner = layout.banner
    doc.signatories = layout.signatories
    doc.proxy_seal = layout.proxy_seal
    doc.recipients = layout.recipients or None
    issuers = layout.signatories or ([layout.banner] if layout.banner else [])
    doc.issuers = list(dict.fromkeys(issuers))
    if layout.doc_number_index is not None:
        doc.doc_number = doc_number_line(lines[layout.doc_number_index].text)
    if layout.date_index is not None:
        doc.date, doc.date_text = date_line(lines[layout.date_index].text)

    doc.title = layout.title
    if layout.order_banner is not None:
        _read_order_banner(doc, [lines[i] for i in layout.order_banner])
    body = next((p for p in layout.parts if p.label == BODY_PART), None)
    if body is not None:
        _read_order_banner(doc, [ln for ln in lines[body.first : body.last + 1] if not ln.blank][:3])
        # A regulation's promulgation note under its title gives its order number, organ and date.
        for line in [ln for ln in lines[body.first : body.last + 1] if not ln.blank][:3]:
            found = promulgation_line(line.text)
            if found is None:
                continue
            date, date_text, number, organ = found
            if doc.date is None:
                doc.date, doc.date_text = date, date_text
            if doc.doc_number is None:
                doc.doc_number = number
            if not doc.issuers:
                doc.issuers = [organ]
            break
    if doc.title is None:
        doc.title = next((p.title for p in layout.parts if p.label != BODY_PART and p.title), None)
    if not doc.issuers and doc.doc_number is not None and doc.doc_number.year is None:
        # An order's number names its organ: 重庆市人民政府令第361号.
        organ = doc.doc_number.organ_code.removesuffix("令")
        doc.issuers = [_order_organ(organ)]
        doc.warnings.append(ParseWarning(field="issuers", message="no signature; issuer taken from the order's number"))
    if not doc.issuers and doc.title:
        # GB/T 9704 titles read 发文机关 + 关于 + 事由 + 文种: the organ is stated there.
        m = _TITLE_ISSUER_RE.match(doc.title)
        if m:
            doc.issuers = _split_joint(m.group("organ"))
            doc.warnings.append(
                ParseWarning(field="issuers", message="no banner or signature; issuer taken from the title")
            )

    forwarded = forwarded_from_title(doc.title) if doc.title else None
    if forwarded is not None:
        issuer, title = forwarded
        body = next((p for p in layout.parts if p.label == BODY_PART), None)
        numbers = []
        if body is not None:
            text = lines_text(lines, body.first, body.last)
            own = doc.doc_number.raw if doc.doc_number else None
            # The forwarded document's number stands with its title (《…》（纲要办发〔2020〕1号）), not
            # anywhere in the body: a notice also cites other documents.
            numbers = [
                n
                for m in _FORWARDED_NUMBER_RE.finditer(text)
                if title and fold(m.group("title")) == fold(title)
                for n in find_doc_numbers(m.group("number"))
                if n.raw != own
            ]
        doc.forwarded = ForwardedDocument(
            title=title, issuer=issuer, doc_number=numbers[0] if numbers else None
        )


def _order_organ(organ: str) -> str:
    """The organ of an order: 中华人民共和国国务院 → 国务院, a local government as printed."""
    return organ.removeprefix("中华人民共和国") if "国务院" in organ else organ


def _read_order_banner(doc: Document, first_lines: list[Line]) -> None:
    """中华人民共和国国务院令 / 第707号: an order's banner gives its organ and number."""
    for k in range(len(first_lines) - 1):
        banner = _ORDER_BANNER_RE.match(compact(first_lines[k].text))
        if banner is None or not _ORDER_SERIAL_RE.match(compact(first_lines[k + 1].text)):
            continue
        organ = banner.group("organ")
        doc.issuer_banner = doc.issuer_banner or compact(first_lines[k].text)
        if doc.doc_number is None:
            doc.doc_number = doc_number_line(organ + "令" + compact(first_lines[k + 1].text))
        if not doc.issuers:
            doc.issuers = [_order_organ(organ)]
        return


def _fill_attachments(doc: Document, layout: _Notice, lines: list[Line], page_starts: list[int]) -> None:
    attachments: dict[str, Attachment] = {}
    for number, title in layout.note:
        label = f"附件{number}" if number is not None else "附件"
        attachments[label] = Attachment(part=label, number=number, title=title, listed=True)
    for part in layout.parts:
        if part.label == BODY_PART:
            continue
        first = part.marker if part.marker is not None else part.first
        span = make_span(lines, first, max(first, part.last), page_starts)
        known = attachments.get(part.label)
        if known is not None:
            known.found, known.span = True, span
            if known.title is None:
                known.title = part.title
        else:
            attachments[part.label] = Attachment(
                part=part.label, number=part.number, title=part.title, found=True, span=span
            )
    doc.attachments = list(attachments.values())


def with_units(
    item: Item,
    jurisdiction: str | None,
    dictionary: UnitDictionary | None = None,
    *,
    first_listed_leads: bool = False,
    implied: list[Note] | None = None,
    organs: list[str] | None = None,
) -> Item:
    """The item with its responsibility clauses read, split and resolved in `jurisdiction`.

    A table row's unit cell is its clause; a task's clauses are found in each
    of its paragraphs (`paragraph` on each mention says which). Units a note
    assigns to later tasks (`implied`) are added with `implied=True` unless
    the task names them itself. `organs`, the notice's issuers, settle names
    that abbreviate one of them.
    """
    mentions: list[UnitMention] = []
    tails: list[str] = []
    if item.units_text is not None:
        found, tail = mentions_from_list(item.units_text, first_listed_leads=first_listed_leads)
        mentions.extend(found)
        tails += [tail] if tail else []
        units_text = item.units_text
    else:
        clause_texts = []
        for number, paragraph in enumerate(item.text.split("\n"), start=1):
            for clause in find_clauses(paragraph):
                reading = read_clause(clause.text, first_listed_leads=first_listed_leads)
                if reading is None or not reading.mentions:
                    continue
                clause_texts.append(clause.text)
                tails += [reading.tail] if reading.tail else []
                mentions.extend(m.model_copy(update={"paragraph": number}) for m in reading.mentions)
        units_text = "\n".join(clause_texts) or None
    written = {m.raw_text for m in mentions}
    for note in implied or []:
        reading = read_clause(note.units or "")
        for m in reading.mentions if reading else []:
            if m.raw_text not in written:
                written.add(m.raw_text)
                mentions.append(m.model_copy(update={"implied": True, "role": "responsible", "read_as": None}))
    mentions = [m.model_copy(update={"position": k}) for k, m in enumerate(mentions, start=1)]
    return item.model_copy(
        update={
            "units_text": units_text,
            "units_tail": tails[0] if tails else None,
            "jurisdiction": jurisdiction,
            "responsible_units": resolve_mentions(mentions, jurisdiction, dictionary, organs) if mentions else [],
        }
    )


def _warn_missing(doc: Document, layout: _Notice) -> None:
    has_notice = any(p.label == BODY_PART for p in layout.parts)
    header = "the notice's header" if has_notice else "the file (it holds attachments only, no notice header)"
    where = "the notice" if has_notice else header

    def warn(field_name: str, message: str) -> None:
        doc.warnings.append(ParseWarning(field=field_name, message=message))

    if doc.title is None:
        warn("title", "no title found")
    if doc.doc_number is None:
        warn("doc_number", f"no 发文字号 (doc number) in {header}")
    if not doc.issuers:
        warn("issuers", f"no issuer: no 发文机关标志 (banner) or 发文机关署名 (signature) in {where}")
    if doc.date is None:
        warn("date", f"no 成文日期 (date) in {where}")
    if doc.recipients is None and has_notice:
        warn("recipients", "no 主送机关 (recipients) line ending in '：' before the body")
    for attachment in doc.attachments:
        if attachment.listed and not attachment.found:
            warn("attachments", f"{attachment.part} is listed in the 附件说明 but its body is not in the file")
    if not doc.items:
        warn("items", "no numbered items or task-table rows found")
