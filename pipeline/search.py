"""Full-text search over the whole text of the current documents, and the document list.

Two kinds of hit, each ranked by BM25 (k1 = 1.2, b = 0.75) among its own kind, then merged by
score: tasks (items, over item_tokens: the same scores as the search_items macro) and the text
outside tasks (passages: titles, headings, paragraphs, over passage_tokens). Lengths come from the
stored word counts, so a query reads only the rows of the words it names.

The query is not segmented with jieba (loading its dictionary takes ~2 s): a query word matches
every indexed word equal to it or, for indexed words of two or more characters, contained in it,
which is what search_items does after jieba's split. So each run of Han characters (and each run
of letters and digits) in the query is turned into its substrings of 2 to MAX_WORD characters,
and those are looked up as they are: `应急科普` finds 应急, 科普 (and 应急科普 where indexed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from pipeline.lookup import DocumentFilter

# Longest indexed word a query run is cut into (jieba's words are shorter; a longer run still
# matches a word equal to the whole run).
MAX_WORD = 16
K1, B = 1.2, 0.75

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# Runs of Han characters, and runs of other letters and digits (the index lower-cases them).
_RUN = re.compile(rf"[{_HAN}]+|(?:(?![{_HAN}])[^\W_])+")


def query_words(query: str) -> list[str]:
    """The index words a query can match: each run, and its substrings of 2 to MAX_WORD characters."""
    words: dict[str, None] = {}
    for run in _RUN.findall(query.lower()):
        words.setdefault(run, None)
        for size in range(2, min(len(run), MAX_WORD) + 1):
            for start in range(len(run) - size + 1):
                words.setdefault(run[start : start + size], None)
    return list(words)


def _matches(name: str, tokens: str, key: str) -> str:
    """A CTE of the rows of `tokens` whose word is one bound to its `?` (read once: scoring needs
    them twice, for the words' document frequencies and for the scores)."""
    return f"{name} AS MATERIALIZED (SELECT document_id, {key}, token, tf FROM {tokens} " \
           f"WHERE token IN (SELECT unnest(?::VARCHAR[])))"


def _bm25(matches: str, rows: str, key: str, extra: str = "") -> str:
    """BM25 of the `rows` (items or passages) whose words are in the CTE `matches`. df, N and the
    average length are over the whole current corpus of that kind (filters do not change the scores)."""
    return f"""
        SELECT t.document_id, t.{key},
               sum(ln(1 + (c.n - f.df + 0.5) / (f.df + 0.5))
                   * t.tf * ({K1} + 1) / (t.tf + {K1} * (1 - {B} + {B} * r.word_count / c.avg_len))) AS score,
               any_value(r.start_offset) AS start_offset{extra}
        FROM {matches} t
        JOIN (SELECT token, count(*) AS df FROM {matches} GROUP BY token) f USING (token)
        JOIN {rows} r USING (document_id, {key}),
             (SELECT count(*) AS n, avg(word_count) AS avg_len FROM {rows} WHERE word_count > 0) c
        GROUP BY t.document_id, t.{key}"""


@dataclass
class Hit:
    """One search result: a task (kind item) or a piece of the other text (title, section, paragraph)."""

    score: float
    kind: str  # item, title, section, paragraph
    document_id: str
    source_path: str
    title: str | None
    doc_number: str | None
    issued_date: object
    jurisdiction: str | None
    item_key: str | None
    section_key: str | None
    line: int | None
    pages: list[int]
    text: str
    matched_words: list[str]
    units: list[tuple[str, str]]  # (unit, role) in the order written; items only

    @property
    def location(self) -> str:
        """Where the hit is: the item key, 标题, 章节 key, or the heading and line of a paragraph."""
        if self.kind == "item":
            return self.item_key or ""
        if self.kind == "title":
            return "标题"
        if self.kind == "section":
            return f"章节 {self.section_key}"
        where = f"{self.section_key} " if self.section_key else ""
        return f"{where}第{self.line}行" if self.line else where.strip() or "正文"

    @property
    def lead_unit(self) -> str | None:
        return next((name for name, role in self.units if role == "lead"), None)

    def as_dict(self) -> dict:
        return {
            "score": round(self.score, 4), "kind": self.kind, "location": self.location,
            "document_id": self.document_id, "issued_date": self.issued_date.isoformat() if self.issued_date else None,
            "jurisdiction": self.jurisdiction, "doc_number": self.doc_number, "title": self.title,
            "source_path": self.source_path, "item_key": self.item_key, "section_key": self.section_key,
            "line": self.line, "pages": self.pages, "text": self.text, "matched_words": self.matched_words,
            "units": [{"unit": name, "role": role} for name, role in self.units],
        }

    def as_row(self) -> dict:
        """as_dict with the units as `name (role)` strings, for a CSV cell."""
        return {**self.as_dict(), "units": [f"{name} ({role})" for name, role in self.units]}


def search(
    con: duckdb.DuckDBPyConnection,
    query: str,
    flt: DocumentFilter | None = None,
    *,
    limit: int = 10,
    items_only: bool = False,
) -> list[Hit]:
    """The best `limit` hits for `query` among the current documents `flt` selects, best first
    (ties: by file, then place in it). With --unit (flt.unit) or `items_only`, tasks only: the
    text outside tasks names no unit."""
    words = query_words(query)
    if not words:
        return []
    flt = flt or DocumentFilter()
    # Each part joins its rows once (in _bm25, for their lengths), then only the documents.
    item_where, item_params = flt.where(con, "d", item_alias="h")
    parts = [
        f"SELECT 'item' AS kind, h.document_id, h.item_key, NULL::INTEGER AS passage_no, h.score, "
        f"d.source_path, h.start_offset FROM ({_bm25('item_matches', 'items', 'item_key')}) h "
        f"JOIN documents d USING (document_id) WHERE {item_where}"
    ]
    ctes = [_matches("item_matches", "item_tokens", "item_key")]
    params = list(item_params)
    if not (items_only or flt.unit):
        doc_where, doc_params = flt.where(con, "d")
        parts.append(
            f"SELECT h.kind, h.document_id, NULL, h.passage_no, h.score, d.source_path, h.start_offset "
            f"FROM ({_bm25('passage_matches', 'passages', 'passage_no', ', any_value(r.kind) AS kind')}) h "
            f"JOIN documents d USING (document_id) WHERE {doc_where}"
        )
        ctes.append(_matches("passage_matches", "passage_tokens", "passage_no"))
        params += doc_params
    sql = " UNION ALL ".join(f"({p})" for p in parts)
    params = [words] * len(ctes) + params  # the CTEs' words come first in the text
    rows = con.execute(
        f"WITH {', '.join(ctes)} "
        f"SELECT h.kind, h.document_id, h.item_key, h.passage_no, h.score, coalesce(i.search_words, p.search_words), "
        f"d.title, d.doc_number, "
        f"d.issued_date, d.jurisdiction, d.source_path, coalesce(i.section_key, p.section_key), "
        f"coalesce(i.first_line, p.first_line), coalesce(i.pages, p.pages), coalesce(i.text, p.text) "
        f"FROM ({sql} ORDER BY score DESC, source_path, start_offset NULLS FIRST LIMIT ?) h "
        f"JOIN documents d USING (document_id) "
        f"LEFT JOIN items i ON h.kind = 'item' AND i.document_id = h.document_id AND i.item_key = h.item_key "
        f"LEFT JOIN passages p ON h.kind <> 'item' AND p.document_id = h.document_id AND p.passage_no = h.passage_no "
        f"ORDER BY h.score DESC, h.source_path, h.start_offset NULLS FIRST",
        params + [limit],
    ).fetchall()
    units = _units(con, [(r[1], r[2]) for r in rows if r[0] == "item"])
    wanted = set(words)
    return [
        Hit(score=score, kind=kind, document_id=doc_id, source_path=path, title=title, doc_number=number,
            issued_date=date, jurisdiction=place, item_key=item_key, section_key=section, line=line,
            pages=list(pages or []), text=text, units=units.get((doc_id, item_key), []),
            # The hit's indexed words the query named (found after ranking: a list per row costs ~30%).
            matched_words=sorted(wanted.intersection((indexed or "").split())))
        for kind, doc_id, item_key, _, score, indexed, title, number, date, place, path, section, line, pages, text in rows
    ]


def _units(con: duckdb.DuckDBPyConnection, keys: list[tuple[str, str]]) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(unit, role) of each of these items, in the order written."""
    if not keys:
        return {}
    rows = con.execute(
        "SELECT m.document_id, m.item_key, coalesce(m.canonical_name, m.raw_text), m.role FROM unit_mentions m "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS document_id, unnest(?::VARCHAR[]) AS item_key) k "
        "USING (document_id, item_key) ORDER BY m.document_id, m.item_key, m.position",
        [[k[0] for k in keys], [k[1] for k in keys]],
    ).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for doc_id, item_key, name, role in rows:
        out.setdefault((doc_id, item_key), []).append((name, role))
    return out


def unindexed_documents(con: duckdb.DuckDBPyConnection) -> int:
    """Current documents stored before version 6, whose text outside tasks is not searchable yet."""
    return con.execute("SELECT count(*) FROM documents WHERE is_current AND NOT coalesce(text_indexed, false)").fetchone()[0]


def snippet(text: str, words: list[str], width: int = 80, mark=lambda word: word) -> str:
    """The part of `text` around its first matched word, each match passed through `mark` (the
    longest word where they overlap)."""
    text = " ".join(text.split())
    found = [w for w in sorted(words, key=len, reverse=True) if w]
    pattern = re.compile("|".join(re.escape(w) for w in found), re.IGNORECASE) if found else None
    first = pattern.search(text) if pattern else None
    start = 0
    if first and len(text) > width:
        start = max(0, min(first.start() - width // 4, len(text) - width))
    piece = text[start : start + width]
    if pattern:
        piece = pattern.sub(lambda m: mark(m.group(0)), piece)
    return ("…" if start > 0 else "") + piece + ("…" if start + width < len(text) else "")


SEARCH_COLUMNS = ["rank", "score", "kind", "location", "issued_date", "jurisdiction", "doc_number", "title",
                  "source_path", "item_key", "section_key", "line", "pages", "text", "matched_words", "units",
                  "document_id"]


DOCUMENT_COLUMNS = ["document_id", "issued_date", "doc_number", "jurisdiction", "title", "items", "unit_mentions",
                    "source_path"]


def documents(con: duckdb.DuckDBPyConnection, flt: DocumentFilter | None = None) -> list[dict]:
    """The current documents `flt` selects, by date (undated last), then path: DOCUMENT_COLUMNS."""
    where, params = (flt or DocumentFilter()).where(con, "d")
    cursor = con.execute(
        "SELECT d.document_id, d.issued_date, d.doc_number, d.jurisdiction, d.title, "
        "(SELECT count(*) FROM items i WHERE i.document_id = d.document_id) AS items, "
        "(SELECT count(*) FROM unit_mentions m WHERE m.document_id = d.document_id) AS unit_mentions, d.source_path "
        f"FROM documents d WHERE {where} ORDER BY d.issued_date NULLS LAST, d.source_path",
        params,
    )
    return [dict(zip(DOCUMENT_COLUMNS, row)) for row in cursor.fetchall()]
