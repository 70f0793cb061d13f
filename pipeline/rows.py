"""A parsed notice as the rows it gives each table of the database.

What an ingest's worker hands the writer, and what the Ray engine writes as Parquet: plain tuples in
the column order of `ROW_COLUMNS` (schemas/tables.py defines the columns). Tuples of str, int and
date pickle and unpickle several times faster than the pydantic Document, and the writer appends
them as they are, so the one serial step of an ingest (the writer) does no conversion and no word
splitting. Pure: no file, no database (workers never load DuckDB).

    >>> from pipeline.ingest import parse_file
    >>> rows = document_rows(parse_file("data/raw/000_69453124e71ca7c9.txt"))
    >>> rows.tables["items"][0][1:4]          # item_key, part, section_key
    ('附件/1', '附件', None)
"""

from __future__ import annotations

import hashlib
import operator
from dataclasses import dataclass, field
from typing import Any, Iterable

from extractors.normalize import units_built_by_rules
from extractors.tokens import search_words
from pipeline.links import citation_rows, document_pieces
from schemas import Document, UnitMention
from schemas.tables import DOCUMENT_TABLES, TABLES

# documents columns the writer fills when it stores the rows (not known where the file is parsed)
WRITER_COLUMNS = ("run_id", "ingested_at")
# Every column of each table one document fills, in table order, but WRITER_COLUMNS.
ROW_COLUMNS: dict[str, list[str]] = {
    table: [c.name for c in TABLES[table] if not (table == "documents" and c.name in WRITER_COLUMNS)]
    for table in DOCUMENT_TABLES
}
# `units` rows a jurisdiction rule builds (市科协 read in 唐山 → 唐山市科学技术协会).
UNIT_COLUMNS = ["canonical_name", "level", "kind", "jurisdiction", "note", "source"]


def document_id(content_hash: str) -> str:
    """Stable id of one content: the same bytes get the same id wherever they are (moved, copied,
    found by one worker or another, or parsed on another machine), so a document is stored once
    and its id does not drift."""
    return hashlib.sha256(f"document\0{content_hash}".encode()).hexdigest()[:16]


@dataclass
class DocumentRows:
    """One parsed document version as rows: table → tuples in ROW_COLUMNS[table] order."""

    source_path: str
    content_hash: str
    document_id: str
    tables: dict[str, list[tuple]]
    rule_units: list[tuple] = field(default_factory=list)  # UNIT_COLUMNS rows its mentions' rules built
    page_count: int = 0

    @property
    def items(self) -> int:
        return len(self.tables["items"])

    @property
    def unit_mentions(self) -> int:
        return len(self.tables["unit_mentions"])


def document_rows(doc: Document, item_words: dict[str, str] | None = None) -> DocumentRows:
    """The rows `doc` gives every table, its search words split here (jieba) unless `item_words`
    (item key → space-separated words) are given."""
    doc_id = document_id(doc.content_hash)
    words = item_words if item_words is not None else {i.key: search_words(i.text) for i in doc.items}
    dicts: dict[str, list[dict[str, Any]]] = {
        "documents": [_document_row(doc, doc_id)],
        "document_issuers": [
            {"document_id": doc_id, "position": n, "issuer": name, "in_signature": name in doc.signatories}
            for n, name in enumerate(doc.issuers, start=1)
        ],
        "attachments": [_attachment_row(a, doc_id) for a in doc.attachments],
        "sections": [_section_row(s, doc_id) for s in doc.sections],
        "items": [_item_row(i, doc_id, words.get(i.key)) for i in doc.items],
        "unit_mentions": [mention_row(m, i.key, doc_id) for i in doc.items for m in i.responsible_units],
        "document_warnings": [{"document_id": doc_id, "field": w.field, "message": w.message} for w in doc.warnings],
        "passages": [_passage_row(p, n, doc_id, search_words(p.text)) for n, p in enumerate(doc.passages, start=1)],
        "citations": citation_rows(
            doc_id, document_pieces(doc), doc.forwarded.title if doc.forwarded else None,
            doc.forwarded.doc_number.raw if doc.forwarded and doc.forwarded.doc_number else None,
            doc.title, doc.doc_number.raw if doc.doc_number else None),
    }
    tables = {table: as_tuples(table, rows) for table, rows in dicts.items()}
    mentions = [(m, i.jurisdiction) for i in doc.items for m in i.responsible_units]
    return DocumentRows(doc.source_path, doc.content_hash, doc_id, tables, rule_unit_rows(mentions),
                        doc.page_count or 0)


def as_tuples(table: str, rows: list[dict[str, Any]]) -> list[tuple]:
    """Rows as dicts → tuples in ROW_COLUMNS[table] order."""
    names = ROW_COLUMNS[table]
    values = operator.itemgetter(*names)
    return [values(row) for row in rows]


def rule_unit_rows(mentions: Iterable[tuple[UnitMention, str | None]]) -> list[tuple]:
    """`units` rows (UNIT_COLUMNS) for the names jurisdiction rules built, from (mention, the
    jurisdiction it was read in) pairs."""
    return [(e.canonical_name, e.level, e.kind, e.jurisdiction, e.note or None, "jurisdiction_rule")
            for e in units_built_by_rules(mentions)]


def _document_row(doc: Document, doc_id: str) -> dict[str, Any]:
    number = doc.doc_number
    forwarded = doc.forwarded
    year = doc.date.year if doc.date else (number.year if number else None)
    return {
        "document_id": doc_id,
        "source_path": doc.source_path,
        "content_hash": doc.content_hash,
        "is_current": True,
        "format": doc.format,
        "encoding": doc.encoding,
        "page_count": doc.page_count,
        "title": doc.title,
        "doc_number": number.raw if number else None,
        "doc_number_organ": number.organ_code if number else None,
        "doc_number_year": number.year if number else None,
        "doc_number_serial": number.serial if number else None,
        "issuer": "、".join(doc.issuers) or None,
        "issuer_banner": doc.issuer_banner,
        "proxy_seal": doc.proxy_seal,
        "issued_date": doc.date,
        "year": year,
        "recipients": doc.recipients,
        "jurisdiction": doc.jurisdiction,
        "forwarded_title": forwarded.title if forwarded else None,
        "forwarded_issuer": forwarded.issuer if forwarded else None,
        "forwarded_doc_number": forwarded.doc_number.raw if forwarded and forwarded.doc_number else None,
        "warning_count": len(doc.warnings),
        "first_listed_leads": doc.first_listed_leads,
        "url": doc.url,
        "index_number": doc.index_number,
        "posted_date": doc.posted_date,
        "text_indexed": True,
        "ocr_pages": len(doc.ocr.pages) if doc.ocr else 0,
        "ocr_confidence": doc.ocr.mean_confidence if doc.ocr else None,
    }


def _attachment_row(a, doc_id: str) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "part": a.part,
        "number": a.number,
        "title": a.title,
        "listed": a.listed,
        "found": a.found,
        "first_line": a.span.first_line if a.span else None,
        "last_line": a.span.last_line if a.span else None,
        "url": a.url,
    }


def _section_row(s, doc_id: str) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "section_key": s.key,
        "part": s.part,
        "level": s.level,
        "number": s.number,
        "label": s.label,
        "title": s.title,
        "parent_key": s.parent_key,
        "first_line": s.span.first_line,
        "pages": s.span.pages,
    }


def _item_row(i, doc_id: str, words: str | None = None) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "item_key": i.key,
        "part": i.part,
        "section_key": i.section_key,
        "number": i.number,
        "label": i.label,
        "category": i.category,
        "text": i.text,
        "raw_text": i.raw_text,
        "marks": i.marks,
        "units_text": i.units_text,
        "units_tail": i.units_tail,
        "jurisdiction": i.jurisdiction,
        **_span_and_words(i.span, words),
        "ocr_confidence": i.ocr_confidence,
    }


def word_count(words: str | None) -> int:
    """Words in a search_words string (single spaces, no empty words: see extractors/tokens.py)."""
    return words.count(" ") + 1 if words else 0


def _passage_row(p, number: int, doc_id: str, words: str) -> dict[str, Any]:
    return {
        "document_id": doc_id,
        "passage_no": number,
        "kind": p.kind,
        "part": p.part,
        "section_key": p.section_key,
        "text": p.text,
        **_span_and_words(p.span, words),
    }


def _span_and_words(span, words: str | None) -> dict[str, Any]:
    """Where a task or passage stands in the source text, and its search words (items and passages alike)."""
    return {
        "first_line": span.first_line if span else None,
        "last_line": span.last_line if span else None,
        "start_offset": span.start if span else None,
        "end_offset": span.end if span else None,
        "pages": span.pages if span else [],
        "search_words": words,
        "word_count": word_count(words),
    }


def mention_row(m, item_key: str, doc_id: str) -> dict[str, Any]:
    """A unit_mentions row (also written when stored mentions are resolved again)."""
    return {
        "document_id": doc_id,
        "item_key": item_key,
        "position": m.position,
        "raw_text": m.raw_text,
        "role": m.role,
        "is_collective": m.is_collective,
        "canonical_name": m.canonical_name,
        "resolution": m.resolution,
        "split_from": m.split_from,
        "read_as": m.read_as,
        "implied": m.implied,
        "paragraph": m.paragraph,
    }
