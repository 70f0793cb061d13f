"""Reading the links between notices: who cites a document and what it cites (`notices cites`), a
task's chain of implementing and implemented tasks (`notices trace`). Read-only; nothing prints."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from extractors.citations import number_key, title_key
from extractors.metadata import doc_number_line
from pipeline.errors import NoticeError
from pipeline.lookup import LookupFailed, matching_documents, resolve_document

_CITATION_COLUMNS = (
    "c.document_id, d.title, d.doc_number, regexp_extract(d.source_path, '[^/]*$'), "
    "coalesce(c.item_key, CASE WHEN c.passage_no IS NOT NULL THEN '段' || c.passage_no END, '转发'), "
    "c.cited_number, c.cited_title, c.cited_document_id, t.title, t.doc_number, c.resolved_by, c.how"
)


@dataclass(frozen=True)
class CitationRow:
    citing_id: str
    citing_title: str | None
    citing_number: str | None
    citing_file: str
    where: str  # item key, 段N (a passage) or 转发 (the forwarded document)
    cited_number: str | None
    cited_title: str | None
    cited_id: str | None
    cited_stored_title: str | None
    cited_stored_number: str | None
    resolved_by: str | None
    how: str


@dataclass
class Citations:
    """What `notices cites REF` shows: the stored documents REF names, the citations of REF (by
    number, title, or of those documents), and what those documents cite."""

    ref: str
    documents: list[tuple[str, str, str | None, str | None]]  # (id, path, number, title)
    cited_by: list[CitationRow] = field(default_factory=list)
    cites: list[CitationRow] = field(default_factory=list)


def _rows(con: duckdb.DuckDBPyConnection, where: str, params: dict) -> list[CitationRow]:
    rows = con.execute(
        f"SELECT {_CITATION_COLUMNS} FROM citations c JOIN documents d ON d.document_id = c.document_id "
        f"AND d.is_current LEFT JOIN documents t ON t.document_id = c.cited_document_id WHERE {where} "
        "ORDER BY d.source_path, c.citation_no",
        params,
    ).fetchall()
    return [CitationRow(*r) for r in rows]


def citations_of(con: duckdb.DuckDBPyConnection, ref: str) -> Citations:
    """Citations of the document `ref` names (a 发文字号 as written in any bracket style, a title with
    or without 《》, or anything lookup.matching_documents takes), and what it cites. A NoticeError
    when neither a stored document nor a citation matches."""
    ref = ref.strip().strip("《》")
    parsed = doc_number_line(ref)
    nkey = number_key(parsed) if parsed else None
    tkey = title_key(ref)
    documents = matching_documents(con, ref)
    exact = [d for d in documents if title_key(d[3]) == tkey]
    documents = exact or documents  # a whole title: that document, not the others containing it
    ids = [d[0] for d in documents]
    cited_by = _rows(
        con,
        "(c.cited_document_id IN (SELECT unnest($ids::VARCHAR[])) OR c.number_key = $n OR c.title_key = $t) "
        "AND c.cited_document_id IS DISTINCT FROM c.document_id",
        {"ids": ids, "n": nkey, "t": tkey},
    )
    cites = _rows(con, "c.document_id IN (SELECT unnest($ids::VARCHAR[]))", {"ids": ids}) if ids else []
    if not documents and not cited_by:
        raise LookupFailed(
            f"no stored document matches {ref!r} and no notice cites it (a 发文字号 such as 国办发〔2024〕49号, "
            "or a title); list documents with: notices docs"
        )
    return Citations(ref, documents, cited_by, cites)


@dataclass(frozen=True)
class TraceStep:
    depth: int  # < 0: upper tasks (the task carries them out), > 0: local tasks carrying it out
    document_id: str
    document: str  # title, else file name
    item_key: str
    text: str
    score: float | None
    rank: int | None
    via: str | None


def _task_document(con: duckdb.DuckDBPyConnection, item_key: str, doc: str | None) -> str:
    if doc:
        doc_id = resolve_document(con, doc)
        found = con.execute("SELECT 1 FROM items WHERE document_id = ? AND item_key = ?", [doc_id, item_key]).fetchone()
        if found is None:
            raise LookupFailed(f"the document {doc!r} has no task {item_key!r}; list its tasks with: notices show {doc}")
        return doc_id
    rows = con.execute(
        "SELECT i.document_id, coalesce(d.title, d.source_path) FROM items i JOIN documents d USING (document_id) "
        "WHERE d.is_current AND i.item_key = ? ORDER BY d.source_path", [item_key]).fetchall()
    if not rows:
        raise LookupFailed(f"no task has the key {item_key!r} (keys look like 附件1/2.1/4); see: notices show DOC")
    if len(rows) > 1:
        shown = "; ".join(f"{r[0]} {r[1]}" for r in rows[:5])
        raise LookupFailed(f"{len(rows)} documents have a task {item_key!r}: {shown}; say which with --doc DOC")
    return rows[0][0]


def trace(con: duckdb.DuckDBPyConnection, item_key: str, doc: str | None = None, depth: int = 4) -> list[TraceStep]:
    """The task and its chain: up, the upper tasks it carries out (the best link of each upper
    notice, and on up from there); down, the local tasks whose links name it (and on down). Steps
    in display order: the uppermost first, the task itself at depth 0."""
    doc_id = _task_document(con, item_key, doc)

    def step(d: int, document_id: str, key: str, score=None, rank=None, via=None) -> TraceStep:
        title, text = con.execute(
            "SELECT coalesce(d.title, regexp_extract(d.source_path, '[^/]*$')), i.text FROM items i "
            "JOIN documents d USING (document_id) WHERE i.document_id = ? AND i.item_key = ?",
            [document_id, key]).fetchone()
        return TraceStep(d, document_id, title, key, text, score, rank, via)

    up: list[TraceStep] = []
    frontier, seen = [(doc_id, item_key)], {(doc_id, item_key)}
    for level in range(1, depth + 1):
        nxt = []
        for d_id, key in frontier:
            for u_doc, u_key, score, rank, via in con.execute(
                "SELECT upper_document_id, upper_item_key, score, rank, via FROM task_links "
                "WHERE document_id = ? AND item_key = ? ORDER BY upper_document_id, rank", [d_id, key]).fetchall():
                if (u_doc, u_key) in seen:
                    continue
                seen.add((u_doc, u_key))
                up.append(step(-level, u_doc, u_key, score, rank, via))
                if rank == 1:
                    nxt.append((u_doc, u_key))
        frontier = nxt
    down: list[TraceStep] = []

    def below(d_id: str, key: str, level: int) -> None:
        if level > depth:
            return
        for l_doc, l_key, score, rank, via in con.execute(
            "SELECT document_id, item_key, score, rank, via FROM task_links WHERE upper_document_id = ? "
            "AND upper_item_key = ? ORDER BY rank, score DESC, document_id, item_key", [d_id, key]).fetchall():
            if (l_doc, l_key) in seen:
                continue
            seen.add((l_doc, l_key))
            down.append(step(level, l_doc, l_key, score, rank, via))
            below(l_doc, l_key, level + 1)

    below(doc_id, item_key, 1)
    return sorted(up, key=lambda s: s.depth) + [step(0, doc_id, item_key)] + down


def no_links_hint(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why a database has no links at all, when it has none."""
    if con.execute("SELECT count(*) FROM task_links").fetchone()[0]:
        return None
    return ("no task links in this database: a notice's tasks are linked to those of a notice it cites, forwards "
            "or shares its title root with, when both are stored")


__all__ = ["Citations", "CitationRow", "TraceStep", "citations_of", "trace", "no_links_hint", "NoticeError"]
