"""The records policy-notices produces: the one definition of each.

Every stage fills these models; nothing else defines the shape of a notice.
Names follow GB/T 9704-2012 (党政机关公文格式) where it names the element.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

SCHEMA_VERSION = 3

SourceFormat = Literal["txt", "pdf", "docx", "html"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ParseWarning(_Record):
    """Something the document lacks or that could not be read as expected.

    `field` names the element concerned (e.g. ``doc_number``), so a reader can
    tell an absent value (the document has none) from an extraction failure.
    """

    field: str
    message: str


class Span(_Record):
    """Where a record comes from in the text the extractor read.

    Offsets are character offsets into `SourceText.text` (end exclusive),
    lines are 1-based and inclusive; `pages` is filled when the reader knows
    page boundaries (PDF).
    """

    start: int
    end: int
    first_line: int
    last_line: int
    pages: list[int] = Field(default_factory=list)


class PageLink(_Record):
    """A link on a web page to a file (an attachment's PDF/DOC/XLS), not downloaded."""

    text: str
    url: str


class WebPage(_Record):
    """What a web page carries besides the article: its own account of the notice.

    Kept as written; extractors/page.py reads the fields and checks them
    against the notice's body, which wins where they disagree.
    """

    url: str | None = None  # the page's own address (canonical link, og:url, <meta name="Url">)
    title: str | None = None  # <title>
    heading: str | None = None  # the page's heading above the article
    meta: dict[str, str] = Field(default_factory=dict)  # <meta name=…> as written (ArticleTitle, PubDate, …)
    around_lines: list[str] = Field(default_factory=list)  # page text outside the article (header tables …)
    links: list[PageLink] = Field(default_factory=list)  # links to attachment files
    container: str = ""  # how the article was found: a site template, or text density


class RecognizedLine(_Record):
    """A line of a page read by OCR: where it is in `SourceText.text`, its page and the engine's confidence (0–1)."""

    start: int
    end: int
    page: int
    confidence: float


class OcrReading(_Record):
    """How much of a document was read by OCR, and how sure the engine was."""

    engine: str
    pages: list[int]  # 1-based pages read by OCR
    mean_confidence: float  # over the recognized lines, weighted by their length
    low_confidence_items: int = 0  # items with a line below the threshold (each has a warning, field `ocr`)


class SourceText(_Record):
    """The text a reader produced from one file, with what is needed to cite it."""

    text: str
    format: SourceFormat
    encoding: str | None = None
    # Offset in `text` where page N+1 starts; empty when the format has no pages.
    page_starts: list[int] = Field(default_factory=list)
    warnings: list[ParseWarning] = Field(default_factory=list)
    page: WebPage | None = None  # a web page's metadata, for HTML
    # Lines read by OCR (PDF pages without a usable text layer), in text order; empty otherwise.
    recognized_lines: list[RecognizedLine] = Field(default_factory=list)
    ocr_engine: str | None = None


class DocNumber(_Record):
    """发文字号: issuing-organ code, year and serial, e.g. 京纲要办发〔2023〕2号.

    A government order (令) is numbered without a year: 北京市人民政府令第307号.
    """

    raw: str
    organ_code: str
    year: int | None
    serial: int


class ForwardedDocument(_Record):
    """The document a 转发…的通知 passes on, as the wrapper names it."""

    title: str | None = None
    issuer: str | None = None
    doc_number: DocNumber | None = None
    date: dt.date | None = None


class Attachment(_Record):
    """An attachment (附件) as listed in the 附件说明 and/or found in the body.

    `part` is the label its sections and items carry (``附件1``, or ``附件`` when
    the document does not number it).
    """

    part: str
    number: int | None = None
    title: str | None = None
    listed: bool = False  # named in the 附件说明
    found: bool = False  # its body is present in the file
    span: Span | None = None
    url: str | None = None  # where a web page links the file (not downloaded)


class Section(_Record):
    """A numbered heading: 第一章, 一、, （一）/㈠, （1）.

    `level` is its depth in the heading tree (1 at the top, whatever its
    numbering). `key` is unique within the document: part, then the numbers
    of the heading and its ancestors, e.g. ``附件1/2.3``. A heading that
    carries work is also a task (`Item`) with the same key.
    """

    key: str
    part: str
    level: int
    number: int
    label: str  # the numeral as written, e.g. "（一）"
    title: str
    parent_key: str | None = None
    span: Span


Role = Literal["lead", "participant", "responsible", "cooperating", "guiding"]
Resolution = Literal["exact", "alias", "jurisdiction_rule", "fuzzy", "collective", "unresolved"]


class UnitMention(_Record):
    """One responsible unit named in a task's responsibility clause (责任单位).

    `role`, from the clause's own words: lead (牵头), responsible (负责, or a
    plain list that names no lead), cooperating (配合/协助), participant
    (参与, or responsible beside a lead), guiding (指导). The first listed
    leads only under the first-listed convention (`Document.first_listed_leads`).
    """

    position: int  # 1-based order among the task's mentions
    raw_text: str
    role: Role
    is_collective: bool = False  # 各成员单位, 各区 …
    canonical_name: str | None = None
    resolution: Resolution = "unresolved"
    split_from: str | None = None  # the run-together text it was cut from (市科委中关村管委会)
    # The name as read in context, when the list's level carries over (省公安厅、发展改革委 → 省发展改革委).
    read_as: str | None = None
    # Not written at this task: a note earlier in the notice assigns it (以下均需各市、县人民政府落实，不再一一列出).
    implied: bool = False
    # 1-based paragraph of the task's text whose clause names it (a measure of several paragraphs).
    paragraph: int | None = None


class Item(_Record):
    """A task (measure): a numbered paragraph that carries work, or a row of a task table.

    Tasks sit at whatever level the notice numbers them: `1.` items and
    `第X条` articles, or headings (`一、` `（一）`) with body text. A heading
    that is a task is also a `Section` with the same key, so the section tree
    keeps its level, label and title; `section_key` is then its own key.
    Identity within a document is `key`: the section key plus the number.
    `text` holds one line per paragraph of the task.
    `text` is clean (joined across line breaks, markup removed); `raw_text`
    is the exact source slice the item was read from.
    """

    key: str
    part: str
    section_key: str | None = None
    number: int
    label: str  # the number as written, e.g. "4." or "7"
    text: str
    raw_text: str
    marks: list[str] = Field(default_factory=list)  # e.g. "✓" before the number
    category: str | None = None  # 任务类别 of a table row
    units_text: str | None = None  # the responsibility clause(s) as written, without brackets (one per line)
    units_tail: str | None = None  # 等部门 / 按职责分工负责 … stripped from the list
    jurisdiction: str | None = None  # where its unit names are read (市科协 in 北京市 …)
    responsible_units: list[UnitMention] = Field(default_factory=list)
    span: Span
    # Read by OCR: the lowest confidence of the recognized lines it spans (None: not read by OCR).
    ocr_confidence: float | None = None


class Passage(_Record):
    """A piece of the notice's text outside its tasks, kept for full-text search: the title, a
    heading that is no task (一、总体要求), or a paragraph (a line: recipients, preamble, a closing
    paragraph, the signature …), with where it stands. Tasks are searched as `Item`s."""

    kind: Literal["title", "section", "paragraph"]
    part: str  # 正文 or an attachment label
    section_key: str | None = None  # the heading it stands under (a heading: its own key)
    text: str
    span: Span | None = None  # None for a title the file does not print (a web page's)


class Document(_Record):
    """One notice (公文) as read from one file."""

    schema_version: int = SCHEMA_VERSION
    source_path: str
    format: SourceFormat
    content_hash: str
    encoding: str | None = None
    page_count: int | None = None
    title: str | None = None
    doc_number: DocNumber | None = None
    issuers: list[str] = Field(default_factory=list)
    issuer_banner: str | None = None  # 发文机关标志 as printed
    signatories: list[str] = Field(default_factory=list)  # 发文机关署名
    proxy_seal: str | None = None  # 代章: the organ whose seal stands in
    date: dt.date | None = None  # 成文日期
    jurisdiction: str | None = None  # 全国, a province or a city: from the issuer, else the number
    date_text: str | None = None
    # A web page's: its address, 索引号 (index number of 政府信息公开) and 发布日期 (posting date, not 成文日期).
    url: str | None = None
    index_number: str | None = None
    posted_date: dt.date | None = None
    recipients: str | None = None  # 主送机关
    forwarded: ForwardedDocument | None = None
    # The first unit of a plain list leads: "note" when the notice says so (列第一位者为牵头单位),
    # "option" when the analyst applied that convention (--first-listed-leads); None otherwise.
    first_listed_leads: Literal["note", "option"] | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    items: list[Item] = Field(default_factory=list)
    warnings: list[ParseWarning] = Field(default_factory=list)
    ocr: OcrReading | None = None  # set when pages were read by OCR
    # The text outside the tasks, for search (the database's `passages`). Not part of the parse's JSON
    # (`notices parse`, the reviewed outputs): it is the file's text again, not something read from it.
    passages: SkipJsonSchema[list[Passage]] = Field(default_factory=list, exclude=True)
