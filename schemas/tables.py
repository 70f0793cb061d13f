"""The tables of the notices database: every column with its type and its comment (Chinese, then
English), the keys, and which tables one document version fills.

The one definition of the stored records: pipeline/store.py creates the tables from it, pipeline/rows.py
turns a parsed Document into rows in this column order (in the workers, which never load DuckDB), and the
Ray engine writes Parquet with these columns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str  # Chinese, then English


def _c(name: str, type_: str, comment: str) -> Column:
    return Column(name, type_, comment)


TABLES: dict[str, list[Column]] = {
    "documents": [
        _c("document_id", "VARCHAR", "文档版本标识 / id of this file version (hash of path and content)"),
        _c("source_path", "VARCHAR NOT NULL", "来源文件 / absolute path of the file (symlinks resolved)"),
        _c("content_hash", "VARCHAR NOT NULL", "内容哈希 / SHA-256 of the file's bytes"),
        _c(
            "is_current",
            "BOOLEAN NOT NULL",
            "是否当前版本 / true for the latest version of this path; false once replaced, or removed (ingest --prune)",
        ),
        _c("format", "VARCHAR", "文件格式 / txt, pdf, docx or html"),
        _c("encoding", "VARCHAR", "文本编码 / encoding of a text file"),
        _c("page_count", "INTEGER", "页数 / pages, for paged formats"),
        _c("title", "VARCHAR", "标题 / title"),
        _c("doc_number", "VARCHAR", "发文字号 / document number, e.g. 京纲要办发〔2023〕2号"),
        _c("doc_number_organ", "VARCHAR", "机关代字 / issuing-organ code of the number, e.g. 京纲要办发"),
        _c("doc_number_year", "INTEGER", "年份 / year in the number"),
        _c("doc_number_serial", "INTEGER", "序号 / serial in the number"),
        _c("issuer", "VARCHAR", "发文机关 / issuing organs, joined with 、 (one row each in document_issuers)"),
        _c("issuer_banner", "VARCHAR", "发文机关标志 / issuer banner as printed"),
        _c("proxy_seal", "VARCHAR", "代章机关 / organ whose seal stands in (代章)"),
        _c("issued_date", "DATE", "成文日期 / date of the document"),
        _c("year", "INTEGER", "年度 / year of the date, else of the number"),
        _c("recipients", "VARCHAR", "主送机关 / recipients"),
        _c("jurisdiction", "VARCHAR", "行政区域 / 全国, province or city the notice speaks for"),
        _c("forwarded_title", "VARCHAR", "被转发文件标题 / title of the forwarded document"),
        _c("forwarded_issuer", "VARCHAR", "被转发文件发文机关 / issuer of the forwarded document"),
        _c("forwarded_doc_number", "VARCHAR", "被转发文件字号 / number of the forwarded document"),
        _c("warning_count", "INTEGER", "警告数 / warnings raised while parsing"),
        _c("run_id", "INTEGER", "导入批次 / ingest run that wrote this version"),
        _c("ingested_at", "TIMESTAMP", "导入时间 / when this version was written"),
        _c(
            "first_listed_leads",
            "VARCHAR",
            "首列牵头 / the first unit of a plain list leads: note (the notice says so, 列第一位者为牵头单位), "
            "option (--first-listed-leads), empty: a plain list names no lead",
        ),
        _c("url", "VARCHAR", "网址 / the web page's own address, when the page states it"),
        _c("index_number", "VARCHAR", "索引号 / index number of a 政府信息公开 page"),
        _c("posted_date", "DATE", "发布日期 / when the web page was posted (not the 成文日期)"),
        _c(
            "text_indexed",
            "BOOLEAN",
            "全文已索引 / its text outside tasks is in passages; false: stored before version 6, only its title and "
            "headings are (notices ingest PATH --force reads the rest)",
        ),
        # A count, not a list: documents rows are updated in place, and DuckDB cannot update a
        # LIST column of a row other tables reference (the pages are in document_warnings, field ocr).
        _c("ocr_pages", "INTEGER", "识别页数 / pages read by OCR (a scan, or a text layer that was garbage); 0: none"),
        _c(
            "ocr_confidence",
            "DOUBLE",
            "识别置信度 / mean confidence of the OCR engine over the recognized lines (0–1), weighted by length",
        ),
    ],
    # Issuers in their own table: a document row is updated in place on
    # --force, and DuckDB cannot update a LIST column of a row other tables reference.
    "document_issuers": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("position", "INTEGER NOT NULL", "位次 / order, 1 first"),
        _c("issuer", "VARCHAR NOT NULL", "发文机关 / issuing organ (from the signature, else the banner)"),
        _c("in_signature", "BOOLEAN NOT NULL", "见于署名 / named in the 发文机关署名"),
    ],
    "attachments": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("part", "VARCHAR NOT NULL", "部分 / label of the attachment, e.g. 附件1"),
        _c("number", "INTEGER", "附件序号 / attachment number"),
        _c("title", "VARCHAR", "附件名称 / attachment title"),
        _c("listed", "BOOLEAN", "列于附件说明 / named in the attachment note"),
        _c("found", "BOOLEAN", "正文存在 / body present in the file"),
        _c("first_line", "INTEGER", "起始行 / first line"),
        _c("last_line", "INTEGER", "结束行 / last line"),
        _c("url", "VARCHAR", "链接 / where a web page links the file (not downloaded)"),
    ],
    "sections": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("section_key", "VARCHAR NOT NULL", "章节键 / part and heading numbers, e.g. 附件1/2.3"),
        _c("part", "VARCHAR NOT NULL", "部分 / 正文 or an attachment label"),
        _c("level", "INTEGER NOT NULL", "层级 / depth in the heading tree, 1 top (第一章 or 一、), 2 below it …"),
        _c("number", "INTEGER NOT NULL", "序号 / number of the heading"),
        _c("label", "VARCHAR", "编号原文 / numeral as written"),
        _c("title", "VARCHAR", "标题 / heading text"),
        _c("parent_key", "VARCHAR", "上级章节 / key of the parent heading"),
        _c("first_line", "INTEGER", "行号 / line in the source text"),
        _c("pages", "INTEGER[]", "页码 / pages"),
    ],
    "items": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("item_key", "VARCHAR NOT NULL", "条目键 / section key and number, e.g. 附件1/2.1/4"),
        _c("part", "VARCHAR NOT NULL", "部分 / 正文 or an attachment label"),
        _c("section_key", "VARCHAR", "所属章节 / section the item is under"),
        _c("number", "INTEGER NOT NULL", "序号 / item number"),
        _c("label", "VARCHAR", "编号原文 / number as written"),
        _c("category", "VARCHAR", "任务类别 / category column of a task table"),
        _c("text", "VARCHAR NOT NULL", "任务内容 / clean text of the item"),
        _c("raw_text", "VARCHAR NOT NULL", "原文 / exact source text"),
        _c("marks", "VARCHAR[]", "标记 / marks before the number, e.g. ✓"),
        _c("units_text", "VARCHAR", "责任单位原文 / unit list as written"),
        _c("units_tail", "VARCHAR", "单位尾注 / tail such as 等部门"),
        _c("jurisdiction", "VARCHAR", "解析区域 / where its unit names are read (市科协 in 北京市)"),
        _c("first_line", "INTEGER", "起始行 / first line"),
        _c("last_line", "INTEGER", "结束行 / last line"),
        _c("start_offset", "INTEGER", "起始字符 / character offset"),
        _c("end_offset", "INTEGER", "结束字符 / end offset (exclusive)"),
        _c("pages", "INTEGER[]", "页码 / pages"),
        _c("search_words", "VARCHAR", "分词 / words of the text for search (jieba), space-separated"),
        _c("word_count", "INTEGER", "词数 / number of search words (the item's length for BM25)"),
        _c(
            "ocr_confidence",
            "DOUBLE",
            "识别置信度 / lowest OCR confidence of the item's lines (0–1); empty: not read by OCR. Below 0.85 the item "
            "has a warning (document_warnings, field ocr): check it against the page",
        ),
    ],
    "unit_mentions": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("item_key", "VARCHAR NOT NULL", "条目键 / item"),
        _c("position", "INTEGER NOT NULL", "位次 / order in the unit list, 1 first"),
        _c("raw_text", "VARCHAR NOT NULL", "单位原文 / unit name as written"),
        _c(
            "role",
            "VARCHAR NOT NULL",
            "角色 / lead 牵头, responsible 负责 (or a plain list), cooperating 配合, participant 参与, guiding 指导",
        ),
        _c("is_collective", "BOOLEAN NOT NULL", "集体指称 / 各成员单位, 各区 …"),
        _c("canonical_name", "VARCHAR", "规范名称 / canonical unit, if resolved"),
        _c("resolution", "VARCHAR NOT NULL", "解析方式 / exact, alias, jurisdiction_rule, fuzzy, collective, unresolved"),
        _c("split_from", "VARCHAR", "拆分来源 / run-together text this name was cut from"),
        _c("read_as", "VARCHAR", "按上下文读作 / name as read in context (省公安厅、发展改革委 → 省发展改革委)"),
        _c("implied", "BOOLEAN", "隐含 / assigned by an earlier note (以下均需…落实，不再一一列出), not written at the task"),
        _c("paragraph", "INTEGER", "段落 / paragraph of the item text whose clause names the unit, 1 first"),
    ],
    "item_tokens": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("item_key", "VARCHAR NOT NULL", "条目键 / item"),
        _c("token", "VARCHAR NOT NULL", "词 / word of the item text (jieba, search mode, lower-cased)"),
        _c("tf", "INTEGER NOT NULL", "词频 / times the word occurs in the item"),
    ],
    "passages": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("passage_no", "INTEGER NOT NULL", "段序 / order in the document, 1 first"),
        _c("kind", "VARCHAR NOT NULL", "类别 / title 标题, section (a heading that is no task) or paragraph (a line outside tasks)"),
        _c("part", "VARCHAR NOT NULL", "部分 / 正文 or an attachment label"),
        _c("section_key", "VARCHAR", "所属章节 / heading it stands under (a heading: its own key)"),
        _c("text", "VARCHAR NOT NULL", "文本 / clean text"),
        _c("first_line", "INTEGER", "起始行 / first line (empty: a title the file does not print)"),
        _c("last_line", "INTEGER", "结束行 / last line"),
        _c("start_offset", "INTEGER", "起始字符 / character offset"),
        _c("end_offset", "INTEGER", "结束字符 / end offset (exclusive)"),
        _c("pages", "INTEGER[]", "页码 / pages"),
        _c("search_words", "VARCHAR", "分词 / words of the text for search (jieba), space-separated"),
        _c("word_count", "INTEGER", "词数 / number of search words (the passage's length for BM25)"),
    ],
    "passage_tokens": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("passage_no", "INTEGER NOT NULL", "段序 / passage"),
        _c("token", "VARCHAR NOT NULL", "词 / word of the passage (jieba, search mode, lower-cased)"),
        _c("tf", "INTEGER NOT NULL", "词频 / times the word occurs in the passage"),
    ],
    "units": [
        _c("canonical_name", "VARCHAR", "规范名称 / canonical unit name"),
        _c("level", "VARCHAR", "层级 / central, provincial, municipal, district"),
        _c("kind", "VARCHAR", "类别 / party, government, people_organization, public_institution, …"),
        _c("jurisdiction", "VARCHAR", "所属区域 / empty for central units"),
        _c("note", "VARCHAR", "备注 / note"),
        _c("source", "VARCHAR", "来源 / dictionary (reviewed entry), jurisdiction_rule (built from a short name) "
           "or notice (a name the notice itself gives, e.g. its issuer's)"),
    ],
    "unit_aliases": [
        _c("alias", "VARCHAR NOT NULL", "简称 / short or informal name"),
        _c("canonical_name", "VARCHAR NOT NULL", "规范名称 / canonical unit"),
        _c("jurisdiction", "VARCHAR", "适用区域 / where the alias holds; empty: everywhere"),
    ],
    "document_warnings": [
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / document version"),
        _c("field", "VARCHAR NOT NULL", "字段 / element concerned"),
        _c("message", "VARCHAR NOT NULL", "说明 / what is missing or wrong"),
    ],
    "duplicate_files": [
        _c("source_path", "VARCHAR NOT NULL", "重复文件 / another file with the same bytes as a stored document"),
        _c("document_id", "VARCHAR NOT NULL", "文档版本标识 / the document it repeats (stored once, at documents.source_path)"),
        _c("content_hash", "VARCHAR NOT NULL", "内容哈希 / SHA-256 of the file's bytes"),
        _c("run_id", "INTEGER", "导入批次 / ingest run that found it"),
        _c("seen_at", "TIMESTAMP", "时间 / when"),
    ],
    "custom_units": [
        _c("position", "INTEGER NOT NULL", "序号 / order given (a later entry for the same name replaces an earlier one)"),
        _c("canonical_name", "VARCHAR NOT NULL", "规范名称 / canonical unit name"),
        _c("level", "VARCHAR", "层级 / central, provincial, municipal, district, township"),
        _c("kind", "VARCHAR", "类别 / party, government, people_organization, public_institution, …"),
        _c("jurisdiction", "VARCHAR", "所属区域 / empty for central units"),
        _c("aliases", "VARCHAR[]", "简称 / short or informal names"),
        _c("note", "VARCHAR", "备注 / note"),
        _c("origin", "VARCHAR", "来源文件 / the --dictionary file it came from"),
        _c("added_at", "TIMESTAMP", "时间 / when it was added"),
    ],
    "ingest_runs": [
        _c("run_id", "INTEGER", "批次 / run number"),
        _c("started_at", "TIMESTAMP", "开始 / start"),
        _c("finished_at", "TIMESTAMP", "结束 / end (null if interrupted)"),
        _c("paths", "VARCHAR[]", "路径 / paths given"),
        _c("files_new", "INTEGER", "新增 / new files"),
        _c("files_unchanged", "INTEGER", "未变 / unchanged, skipped"),
        _c("files_replaced", "INTEGER", "替换 / changed files replaced"),
        _c("files_failed", "INTEGER", "失败 / files that failed"),
        _c("files_skipped", "INTEGER", "跳过 / files of unsupported types"),
        _c("files_duplicate", "INTEGER", "重复 / files with the same content as a stored document (duplicate_files)"),
        _c("files_moved", "INTEGER", "移动 / stored documents found at a new path (their old path gone)"),
        _c("files_removed", "INTEGER", "移除 / documents retired because their file is gone (--prune) or removed"),
    ],
    "ingest_errors": [
        _c("run_id", "INTEGER", "批次 / run"),
        _c("source_path", "VARCHAR NOT NULL", "文件 / file"),
        _c("stage", "VARCHAR NOT NULL", "阶段 / read, extract, normalize or store"),
        _c("error_class", "VARCHAR NOT NULL", "错误类型 / kind of error"),
        _c("message", "VARCHAR NOT NULL", "说明 / what happened and what to do"),
        _c("occurred_at", "TIMESTAMP", "时间 / when"),
        _c(
            "content_hash",
            "VARCHAR",
            "内容哈希 / SHA-256 of the file that failed: not parsed again while unchanged (ingest --retry-failed)",
        ),
    ],
    # Version 7 (issue 19): links between notices, last (the file keeps the older tables' layout).
    "citations": [
        _c("document_id", "VARCHAR NOT NULL", "引用文档 / the citing document version"),
        _c("citation_no", "INTEGER NOT NULL", "序号 / order in the document, 1 first"),
        _c("how", "VARCHAR NOT NULL", "方式 / text (written in the notice) or forwarded (the document a 转发/印发 notice forwards)"),
        _c("part", "VARCHAR", "部分 / 正文 or an attachment label"),
        _c("item_key", "VARCHAR", "条目键 / the task it is written in (empty: outside tasks)"),
        _c("section_key", "VARCHAR", "所属章节 / heading it stands under"),
        _c("passage_no", "INTEGER", "段序 / the passage it is written in (empty: in a task)"),
        _c("start_offset", "INTEGER", "起始字符 / character offset in the source text"),
        _c("end_offset", "INTEGER", "结束字符 / end offset (exclusive)"),
        _c("cited_number", "VARCHAR", "被引字号 / 发文字号 as written, e.g. 国办发〔2024〕49号"),
        _c("cited_title", "VARCHAR", "被引标题 / title as written in 《》 (a short name 以下简称: the full title)"),
        _c("number_key", "VARCHAR", "规范字号 / normalized 发文字号: organ〔year〕serial号, or organ第serial号 for an order"),
        _c("title_key", "VARCHAR", "规范标题 / title without spaces, 《》 or quotes"),
        _c("cited_document_id", "VARCHAR", "被引文档 / the cited document when it is in the database (resolved after each ingest)"),
        _c("resolved_by", "VARCHAR", "匹配方式 / number (发文字号) or title"),
    ],
    "task_links": [
        _c("document_id", "VARCHAR NOT NULL", "本地文档 / document of the local task"),
        _c("item_key", "VARCHAR NOT NULL", "本地条目 / the local task"),
        _c("upper_document_id", "VARCHAR NOT NULL", "上级文档 / the notice it implements"),
        _c("upper_item_key", "VARCHAR NOT NULL", "上级条目 / a task of that notice"),
        _c("rank", "INTEGER NOT NULL", "名次 / 1: the most similar upper task"),
        _c("score", "DOUBLE NOT NULL", "得分 / similarity (BM25 of the local task's words over the upper notice's tasks)"),
        _c("method", "VARCHAR NOT NULL", "方法 / bm25_units: BM25 over the tasks' words, + 4 when both name a unit of the same function"),
        _c("via", "VARCHAR NOT NULL", "依据 / why the notices are paired: citation, forwarded or title_root (same title, year)"),
    ],
}

CONSTRAINTS = {
    "documents": "PRIMARY KEY (document_id)",
    "document_issuers": "PRIMARY KEY (document_id, position), "
    "FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    "attachments": "PRIMARY KEY (document_id, part), FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    "sections": "PRIMARY KEY (document_id, section_key), FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    "items": "PRIMARY KEY (document_id, item_key), FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    # Not a foreign key to items: DuckDB checks foreign keys against the state
    # before the transaction, so items could not be deleted in the same
    # transaction as their mentions, and a document could not be replaced atomically.
    "unit_mentions": "PRIMARY KEY (document_id, item_key, position), "
    "FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    "document_warnings": "FOREIGN KEY (document_id) REFERENCES documents (document_id)",
    # passages and passage_tokens have no keys for the same reason as item_tokens: derived rows,
    # written and deleted with their document in one transaction.
    # item_tokens has no keys on purpose: it is derived from items.search_words
    # inside the same transaction, and a three-column key over ~13 rows per
    # item costs a third of the write time.
    "ingest_runs": "PRIMARY KEY (run_id)",
    "units": "PRIMARY KEY (canonical_name)",
}

# The tables one document version writes rows to, parents first: the order
# they are inserted in (item_tokens is then derived from items in SQL).
DOCUMENT_TABLES = ["documents", "document_issuers", "attachments", "sections", "items", "unit_mentions",
                   "document_warnings", "passages", "citations"]
# Children first: the order rows of one document version are deleted in.
CHILD_TABLES = ["task_links", "citations", "passage_tokens", "passages", "item_tokens", "unit_mentions", "items", "sections", "attachments", "document_warnings", "document_issuers"]
