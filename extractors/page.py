"""A web page's own account of its notice (网页元数据), read and checked against the body.

Government pages state the notice's title, 发文字号, 发文机关, 成文日期 and
索引号 twice: in the article and in <meta> tags or a metadata header table
above it. The article is the document, so it wins: the page fills only what
the article lacks, and a disagreement is a warning. The page's 发布日期 is
when it was posted, never the 成文日期. Labels and meta names are data
(rules/page.json). Pure: text and models in, fields out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import regex

from extractors.metadata import find_doc_numbers, parse_date
from extractors.rules import load
from extractors.text import compact
from schemas import Attachment, Document, ParseWarning, WebPage

_RULES = load("page")
_LABEL_FIELD = {label: name for name, labels in _RULES["labels"].items() for label in labels}
# A label may be spread with spaces (标　　题：); longest first so 发布日期 is not read as 发布.
_OTHER_LABELS = set(_RULES["other_labels"])
# A label may be spread with spaces (标　　题：); longest first so 发布日期 is not read as 发布. It ends
# in a colon, or fills a cell of its own (a header table without colons: 发文机关 | 北京市…).
_LABEL_ALTERNATIVES = "|".join(
    r"\s*".join(map(regex.escape, label)) for label in sorted({*_LABEL_FIELD, *_OTHER_LABELS}, key=len, reverse=True)
)
_LABEL_RE = regex.compile(
    rf"(?<![\p{{Han}}])(?P<label>{_LABEL_ALTERNATIVES})\s*[:：]\s*|(?:^|(?<=\t))(?P<cell>{_LABEL_ALTERNATIVES})\s*(?=\t)"
)
_REPORT = [regex.compile(p) for p in _RULES["report_patterns"]]
_STATUS_RE = regex.compile(r"^\s*[\[【]\s*(?P<mark>" + "|".join(_RULES["status_marks"]) + r")\s*[\]】]")
_ISO_DATE = regex.compile(r"(?P<y>(?:19|20)\d\d)\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})")
_BRACKETS = regex.compile(r"[《》〈〉<>“”\"'‘’\s]")


@dataclass
class PageFacts:
    """The labelled values a page states, first occurrence of each, as written."""

    values: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)


def page_facts(page: WebPage) -> PageFacts:
    """Values of the page's header table and <meta> tags, by Document field name."""
    facts = PageFacts()
    for line in page.around_lines:
        for name, value in labelled_values(line):
            if value and name not in facts.values:
                facts.values[name] = value
    for name, metas in _RULES["meta"].items():
        if name in facts.values:
            continue
        value = next((page.meta[m] for m in metas if page.meta.get(m)), None)
        if value:
            facts.values[name] = value
    if "title" not in facts.values and page.heading:
        facts.values["title"] = page.heading
    return facts


def labelled_values(line: str) -> list[tuple[str, str]]:
    """`label：value` pairs of one line of a header table (cells tab-separated, or several on a line)."""
    found = list(_LABEL_RE.finditer(line))
    pairs = []
    for n, m in enumerate(found):
        label = compact(m.group("label") or m.group("cell"))
        if label not in _LABEL_FIELD:
            continue  # another label: it only ends the value before it
        end = found[n + 1].start() if n + 1 < len(found) else len(line)
        cells = [c.strip() for c in line[m.end() : end].split("\t")]
        value = next((c for c in cells if c), "")
        pairs.append((_LABEL_FIELD[label], value))
    return pairs


def page_date(text: str) -> dt.date | None:
    """A date as pages write it: 2023-09-11, 2023/9/11 09:41, 2023年9月11日."""
    found = parse_date(text)
    if found is not None:
        return found[0]
    m = _ISO_DATE.search(text)
    if m is None:
        return None
    try:
        return dt.date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    except ValueError:
        return None


def apply_page(doc: Document, page: WebPage) -> PageFacts:
    """Fill what the article lacks from the page and warn where the two disagree (the body wins)."""
    facts = page_facts(page)
    doc.url = page.url
    doc.index_number = facts.get("index_number")
    posted = facts.get("posted")
    doc.posted_date = page_date(posted) if posted else None

    def warn(field_name: str, message: str) -> None:
        doc.warnings.append(ParseWarning(field=field_name, message=message))

    title = facts.get("title")
    if title:
        status = _STATUS_RE.match(title)
        if status:
            warn("status", f"the page marks the notice {status.group('mark')}")
        title = _STATUS_RE.sub("", title).strip()
        if doc.title is None:
            doc.title = title
            warn("title", "title taken from the page (the article does not print it)")
        elif _same_title(doc.title, title) is False:
            warn("title", f"the page's title ({title}) differs from the notice's; the notice's is kept")

    number_text = facts.get("doc_number")
    numbers = find_doc_numbers(number_text) if number_text else []
    if numbers:
        if doc.doc_number is None:
            doc.doc_number = numbers[0]
            warn("doc_number", "发文字号 taken from the page's header (the article does not print it)")
        elif compact(doc.doc_number.raw) != compact(numbers[0].raw):
            warn("doc_number", f"the page's 发文字号 ({numbers[0].raw}) differs from the notice's; the notice's is kept")

    issuer = facts.get("issuer")
    if issuer:
        names = [n for n in regex.split(r"[、，,；;\s]+", issuer) if n]
        if not doc.issuers:
            doc.issuers = names
            warn("issuers", "发文机关 taken from the page's header (the article has no signature)")
        elif not any(compact(n) in compact("".join(doc.issuers)) or compact("".join(doc.issuers)) in compact(n)
                     for n in names):
            warn("issuers", f"the page's 发文机关 ({issuer}) differs from the notice's; the notice's is kept")

    written = facts.get("written")
    written_date = page_date(written) if written else None
    if written_date is not None:
        if doc.date is None:
            doc.date = written_date
            doc.date_text = written
            warn("date", "成文日期 taken from the page's header (the article does not print it)")
        elif doc.date != written_date:
            warn("date", f"the page's 成文日期 ({written_date}) differs from the notice's; the notice's is kept")
    return facts


def _same_title(body: str, page: str) -> bool | None:
    """Whether two titles name the same document, ignoring quotes, spaces and a site's tag."""
    a, b = _BRACKETS.sub("", body), _BRACKETS.sub("", regex.sub(r"^[【\[][^】\]]{1,16}[】\]]", "", page))
    return a == b or a in b or b in a


def link_attachments(doc: Document, page: WebPage) -> None:
    """Links to 附件 files give their attachment a URL (not downloaded); unlisted ones become attachments.

    A link is matched to the attachment of its number (附件1：…), else of exactly its title. Link
    lines after the date, which the text reads as an enclosed part titled by the links, are the
    links, not a part. A link whose text holds the notice's own title is the notice as a file.
    """
    if not page.links:
        return
    texts = [compact(link.text) for link in page.links if link.text.strip()]
    doc.attachments = [a for a in doc.attachments if not _only_link_text(doc, a, texts)]
    title = compact(doc.title or "")
    for link in page.links:
        text = compact(link.text)
        number = regex.match(r"^附件\s*(\d+)", text)
        n = int(number.group(1)) if number else None
        stem = compact(_stem(link.text))
        target = next((a for a in doc.attachments if n is not None and a.number == n), None) or next(
            (a for a in doc.attachments if stem and a.title and compact(a.title) == stem), None
        )
        if target is not None:
            if target.url is None:
                target.url = link.url
            elif target.url != link.url:  # the same attachment in another format (.pdf and .doc)
                doc.warnings.append(
                    ParseWarning(field="attachments", message=f"{target.part} is also linked as {link.url}")
                )
            continue
        if title and not text.startswith("附件") and title in text:
            doc.warnings.append(
                ParseWarning(field="attachments", message=f"the page links the notice itself as a file: {link.url}")
            )
            continue
        taken = {a.part for a in doc.attachments}
        part = f"附件{n}" if n is not None and f"附件{n}" not in taken else next(
            label for k in range(1, len(taken) + 2) if (label := f"链接{k}") not in taken
        )
        doc.attachments.append(Attachment(part=part, number=n, title=_stem(link.text) or None, url=link.url))


def _only_link_text(doc: Document, attachment: Attachment, texts: list[str]) -> bool:
    """An enclosed part that is nothing but link lines (附件1：任务清单.pdf after the date)."""
    if not attachment.found or not attachment.title or _has_content(doc, attachment.part):
        return False
    rest = compact(attachment.title)
    for text in sorted(texts, key=len, reverse=True):
        rest = rest.replace(text, "")
    return rest == ""


def _has_content(doc: Document, part: str) -> bool:
    return any(i.part == part for i in doc.items) or any(s.part == part for s in doc.sections)


def _stem(text: str) -> str:
    """Link text without the 附件N label and the file extension."""
    text = regex.sub(r"^附件\s*\d*\s*[:：.、]?\s*", "", text.strip())
    return regex.sub(r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|zip|rar)$", "", text, flags=regex.I).strip()


def source_organs(facts: PageFacts) -> list[str]:
    """The organ the page names as its source (来源：宿州市房管中心), for where the notice speaks for."""
    source = facts.get("source")
    if not source:
        return []
    m = regex.match(r"[\p{Han}（）()]{4,40}", source.strip())
    return [m.group(0)] if m else []


def is_report(title: str | None, first_paragraph: str) -> bool:
    """A news page about a notice: a headline for a title and a first paragraph that tells what was issued."""
    if title and _ends_as_document(title):
        return False
    head = compact(first_paragraph)[:120]
    return any(p.search(head) for p in _REPORT) or bool(title and any(p.search(compact(title)) for p in _REPORT[3:]))


def _ends_as_document(title: str) -> bool:
    core = regex.sub(r"[（(][^（）()]{1,12}[）)]$", "", compact(title)).rstrip("》”\"")
    return core.endswith(tuple(_RULES["document_title_endings"]))
