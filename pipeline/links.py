"""Links between stored notices: citations (which documents a notice cites, resolved to stored
documents) and task links (which task of an upper notice a local task carries out).

The writer stores each document's citations with its other rows (`citation_rows`); `resolve`
runs after each ingest and on `notices renormalize`: it points citations at the documents now
stored (by normalized 发文字号, else by title) and links the tasks of each local notice to the
most similar tasks of every notice it implements (cited, forwarded, or of the same title root),
by BM25 over the stored jieba words (item_tokens), abstaining where no upper task stands out. Incremental: given the new documents, only
their citations, the citations that may name them, and the document pairs they take part in
are computed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:  # citation_rows runs in an ingest's workers, which never load DuckDB
    import duckdb

from extractors.citations import find_citations, number_key, title_key, title_root
from extractors.metadata import doc_number_line

# Tasks of an upper notice kept for each local task (recall@3 is measured on them).
LINKS_PER_TASK = 3
# Notices of the same title root an item is compared with at most (a corpus of copies would
# otherwise pair every local copy with every national one).
ROOT_UPPERS = 1
BM25_K1, BM25_B = 1.2, 0.75
# Units of the same function: an upper task whose responsible units include one of the local task's
# (北京市教育委员会 and 教育部 are both 教育; 中共北京市委宣传部 and 中共中央宣传部 both 宣传) gets this added to its
# BM25 score (of upper tasks that share a word with it: the bonus alone links nothing).
UNIT_BONUS = 4.0
# A local task whose best upper task is not ahead of its second best by this much gets no link (no
# counterpart, or no upper task that stands out). The gap, not the best score itself: a long local
# task scores high against many upper tasks, so the best score says little about whether the first
# one is right. UNIT_BONUS and MIN_MARGIN were chosen on one half of the reviewed links,
# data/parsed/task_links.json (北京 附件1, 45 tasks: of the bonuses 0, 2, 4, 6, 8 and gaps 3 to 5, the
# pair putting the most tasks right first there with precision@1 >= 0.85: 17/19) and checked on the
# other half (北京 附件2 + 唐山, 71 tasks: 30/37 = 0.81); all 116: 47/56 = 0.84, recall@3 48/98
# (make eval). The former floor, best score >= 15 (set on 15 tasks), gave 39/56 = 0.70 on all.
MIN_MARGIN = 4.0
# Words left out of the comparison: single characters of the local task (jieba's search mode
# splits words into pieces too), and words in more than this share of the upper notice's tasks
# (科普 in a 科普 plan: they weigh little in BM25 and multiply the rows to compare).
MIN_WORD_LENGTH = 2
# (local task, upper task) pairs compared per statement, at most (a local document's pairs are never
# split). A statement holds every such pair's sum, and scans items once: 500 local documents at a
# time (the former chunk) outgrew the writer's 64 MB on the make-bench mix (94 tasks each, paired
# with a 94-task national plan: DuckDB spilled, then raised its limit to 244 MB) and took 6.2 s
# CPU; chunks of this size take 1.8 s within 64 MB, the same links. On make bench-links (100,000
# documents of ~33 tasks) they are about the former 500 documents; 4x smaller chunks were 3x slower.
TASK_PAIRS_PER_STATEMENT = 1_000_000
MAX_DF_SHARE = 0.2  # 0.1 loses recall@3 (0.85) on the same set; 1.0 is 1.6x slower, no better
# Jurisdictions of a national notice (an unnamed one: a national ledger without a banner).
NATIONAL = ("全国",)


@dataclass(frozen=True)
class TextPiece:
    """A piece of a document's text citations are read from, and where it stands."""

    part: str | None
    item_key: str | None
    section_key: str | None
    passage_no: int | None
    text: str
    start_offset: int | None


def citation_rows(doc_id: str, pieces: Iterable[TextPiece], forwarded_title: str | None,
                  forwarded_number: str | None, own_title: str | None = None,
                  own_number: str | None = None) -> list[dict[str, Any]]:
    """The citations rows of one document: every citation in its tasks and passages, and the
    document a 转发/印发 notice forwards (how = 'forwarded'). The document's own number (printed
    under the banner) and own title, and the document a 印发 notice issues (关于印发《X》的通知: X is
    the notice's own content) are not citations."""
    rows: list[dict[str, Any]] = []
    seen: set[tuple] = set()
    aliases: dict[str, str] = {}  # 以下简称 given in one paragraph hold in the others
    own = doc_number_line(own_number) if own_number else None
    own_key = number_key(own) if own else None
    own_title_key = title_key(own_title) or ""
    # 关于印发《X》的通知 issues X: X is this document
    issued = own_title_key.split("印发", 1)[1].removesuffix("的通知") if "印发" in own_title_key and "转发" not in own_title_key else None
    for piece in pieces:
        for c in find_citations(piece.text, aliases):
            if own_key and c.number_key == own_key:
                continue
            if c.title_key and c.title_key in (own_title_key, issued):
                continue
            start = piece.start_offset + c.start if piece.start_offset is not None else None
            where = (piece.item_key, piece.passage_no, c.start)
            if where in seen:
                continue
            seen.add(where)
            rows.append(_row(doc_id, len(rows) + 1, piece, start,
                             piece.start_offset + c.end if piece.start_offset is not None else None,
                             c.number, c.title, c.number_key, c.title_key, "text"))
    if forwarded_title or forwarded_number:
        parsed = doc_number_line(forwarded_number) if forwarded_number else None
        key = number_key(parsed) if parsed else None
        rows.append(_row(doc_id, len(rows) + 1, TextPiece(None, None, None, None, "", None), None, None,
                         forwarded_number, forwarded_title, key, title_key(forwarded_title), "forwarded"))
    return rows


def _row(doc_id, number, piece, start, end, cited_number, cited_title, nkey, tkey, how) -> dict[str, Any]:
    return {"document_id": doc_id, "citation_no": number, "how": how, "part": piece.part,
            "item_key": piece.item_key, "section_key": piece.section_key, "passage_no": piece.passage_no,
            "start_offset": start, "end_offset": end, "cited_number": cited_number, "cited_title": cited_title,
            "number_key": nkey, "title_key": tkey, "cited_document_id": None, "resolved_by": None}


def document_pieces(doc) -> list[TextPiece]:
    """A parsed Document's tasks and passages (the writer's view)."""
    pieces = [TextPiece(i.part, i.key, i.section_key, None, i.raw_text, i.span.start if i.span else None)
              for i in doc.items]
    pieces += [TextPiece(p.part, None, p.section_key, n, p.text, p.span.start if p.span else None)
               for n, p in enumerate(doc.passages, start=1)]
    return _in_text_order(pieces)


def _in_text_order(pieces: list[TextPiece]) -> list[TextPiece]:
    """Pieces in the order they are written (a short name 以下简称 is given before it is used)."""
    return sorted(pieces, key=lambda p: -1 if p.start_offset is None else p.start_offset)


def stored_citation_rows(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Citations of every current document read from what is stored (items.raw_text, passages.text,
    the forwarded document): the version-7 migration."""
    pieces: dict[str, list[TextPiece]] = {}
    for doc_id, part, key, section, text, start in con.execute(
        "SELECT i.document_id, i.part, i.item_key, i.section_key, i.raw_text, i.start_offset FROM items i "
        "JOIN documents d USING (document_id) WHERE d.is_current ORDER BY i.document_id, i.start_offset, i.item_key"
    ).fetchall():
        pieces.setdefault(doc_id, []).append(TextPiece(part, key, section, None, text, start))
    for doc_id, part, number, section, text, start in con.execute(
        "SELECT p.document_id, p.part, p.passage_no, p.section_key, p.text, p.start_offset FROM passages p "
        "JOIN documents d USING (document_id) WHERE d.is_current ORDER BY p.document_id, p.passage_no"
    ).fetchall():
        pieces.setdefault(doc_id, []).append(TextPiece(part, None, section, number, text, start))
    rows = []
    for doc_id, title, number, fwd_title, fwd_number in con.execute(
        "SELECT document_id, title, doc_number, forwarded_title, forwarded_doc_number FROM documents WHERE is_current "
        "ORDER BY document_id"
    ).fetchall():
        own = pieces.get(doc_id, [])
        if title and not any(p.passage_no is not None for p in own):  # stored before passages had titles
            own = [TextPiece("正文", None, None, None, title, None), *own]
        rows += citation_rows(doc_id, _in_text_order(own), fwd_title, fwd_number, title, number)
    return rows


# The stored documents a citation can name: normalized number (from the stored organ code, year and
# serial, as extractors.citations.number_key writes it), title, and the title a 印发 notice issues.
_NUMBER_KEY_SQL = (
    "CASE WHEN doc_number_serial IS NULL OR doc_number_organ IS NULL THEN NULL "
    "WHEN doc_number_year IS NULL THEN doc_number_organ || '第' || doc_number_serial || '号' "
    "ELSE doc_number_organ || '〔' || doc_number_year || '〕' || doc_number_serial || '号' END"
)
_TITLE_KEY_SQL = (
    "nullif(translate(regexp_replace({col}, '[\\s《》〈〉<>“”\"''‘’]', '', 'g'), '—–－（）', '---()'), '')"
)


def resolve(con: duckdb.DuckDBPyConnection, new_ids: list[str] | None = None) -> dict[str, int]:
    """Point citations at stored documents and link tasks, inside the caller's transaction.

    `new_ids`: documents written since the last resolve (None: everything again). Returns counts."""
    full = new_ids is None
    reopened = {r[0] for r in con.execute(
        "UPDATE citations SET cited_document_id = NULL, resolved_by = NULL WHERE cited_document_id IS NOT NULL "
        "AND cited_document_id NOT IN (SELECT document_id FROM documents WHERE is_current) RETURNING document_id"
    ).fetchall()}
    reopened |= {r[0] for r in con.execute(
        "DELETE FROM task_links WHERE upper_document_id NOT IN (SELECT document_id FROM documents WHERE is_current) "
        "RETURNING document_id").fetchall()}
    if full:
        con.execute("UPDATE citations SET cited_document_id = NULL, resolved_by = NULL")
        _resolve_pass(con, None, None)
    else:
        again = sorted(set(new_ids) | reopened)
        if again:
            _resolve_pass(con, again, None)  # new documents' citations and reopened ones, against every document
        if new_ids:
            _resolve_pass(con, None, new_ids)  # open citations that may name a new document
        new_ids = again
    linked = _link_tasks(con, new_ids)
    counts = con.execute(
        "SELECT count(*), count(cited_document_id) FROM citations c JOIN documents d USING (document_id) "
        "WHERE d.is_current"
    ).fetchone()
    return {"citations": counts[0], "resolved": counts[1], "task_links": linked}


def _resolve_pass(con: duckdb.DuckDBPyConnection, citing: list[str] | None, cited: list[str] | None) -> None:
    """Resolve open citations (of `citing` documents, or all) against `cited` documents (or all
    current ones): by number first, else by title, else by the title a 印发 notice issues; never
    to the citing document itself; one document per key (the first id: copies are alike)."""
    targets = "SELECT * FROM documents WHERE is_current" + (
        " AND document_id IN (SELECT unnest($cited::VARCHAR[]))" if cited is not None else "")
    open_rows = "SELECT * FROM citations WHERE cited_document_id IS NULL" + (
        " AND document_id IN (SELECT unnest($citing::VARCHAR[]))" if citing is not None else "")
    params = {k: v for k, v in (("cited", cited), ("citing", citing)) if v is not None}
    title_sql = _TITLE_KEY_SQL.format(col="title")
    issued_sql = _TITLE_KEY_SQL.format(col="forwarded_title")
    con.execute(
        f"""
        WITH t AS ({targets}),
        keys AS (
            SELECT {_NUMBER_KEY_SQL} AS k, 1 AS rank, 'number' AS via, document_id FROM t
            UNION ALL SELECT {title_sql}, 2, 'title', document_id FROM t
            UNION ALL SELECT {issued_sql}, 3, 'title', document_id FROM t WHERE starts_with(title, '关于印发')
        ),
        -- two ids per key, so a citation of its own document's key still finds another one
        firsts AS (SELECT k, rank, via, min(document_id) AS a, max(document_id) AS b FROM keys WHERE k IS NOT NULL
                   GROUP BY ALL),
        c AS ({open_rows}),
        m AS (
            SELECT c.document_id, c.citation_no, f.rank, f.via,
                   CASE WHEN f.a <> c.document_id THEN f.a WHEN f.b <> c.document_id THEN f.b END AS target
            FROM c JOIN firsts f ON f.rank = 1 AND f.k = c.number_key
            UNION ALL
            SELECT c.document_id, c.citation_no, f.rank, f.via,
                   CASE WHEN f.a <> c.document_id THEN f.a WHEN f.b <> c.document_id THEN f.b END
            FROM c JOIN firsts f ON f.rank > 1 AND f.k = c.title_key
        ),
        best AS (SELECT document_id, citation_no, arg_min(target, rank) AS target, arg_min(via, rank) AS via
                 FROM m WHERE target IS NOT NULL GROUP BY ALL)
        UPDATE citations SET cited_document_id = best.target, resolved_by = best.via FROM best
        WHERE citations.document_id = best.document_id AND citations.citation_no = best.citation_no
        """,
        params,
    )


def _implementing_pairs(con: duckdb.DuckDBPyConnection, new_ids: list[str] | None) -> list[tuple[str, str, str]]:
    """(local document, upper document, via) pairs whose tasks are to be linked: the documents a
    notice cites or forwards, and national notices of the same title root and year
    (extractors.citations.title_root). With `new_ids`: every pair of each local document that
    takes part in a pair with one of them (its other pairs too, so the caller can replace all its
    links: a new national plan with a smaller id takes an older local plan's pair over)."""
    pairs: dict[tuple[str, str], str] = {}
    for local, upper, how in con.execute(
        "SELECT DISTINCT c.document_id, c.cited_document_id, c.how FROM citations c "
        "JOIN documents d ON d.document_id = c.document_id AND d.is_current "
        "WHERE c.cited_document_id IS NOT NULL AND c.cited_document_id <> c.document_id ORDER BY ALL"
    ).fetchall():
        if pairs.get((local, upper)) != "forwarded":
            pairs[(local, upper)] = "forwarded" if how == "forwarded" else "citation"
    roots: dict[tuple[str, int], list[str]] = {}
    locals_: list[tuple[str, tuple[str, int]]] = []
    for doc_id, title, fwd_title, jurisdiction, year in con.execute(
        "SELECT document_id, title, forwarded_title, jurisdiction, year FROM documents WHERE is_current "
        "ORDER BY document_id"
    ).fetchall():
        root, title_year = title_root(fwd_title or title, jurisdiction)
        if root is None or (title_year or year) is None:
            continue
        key = (root, title_year or year)
        if jurisdiction is None or jurisdiction in NATIONAL:
            roots.setdefault(key, []).append(doc_id)
        else:
            locals_.append((doc_id, key))
    for doc_id, key in locals_:
        for upper in roots.get(key, [])[:ROOT_UPPERS]:
            pairs.setdefault((doc_id, upper), "title_root")
    out = [(l, u, via) for (l, u), via in pairs.items()]
    if new_ids is not None:
        new = set(new_ids)
        touched = {p[0] for p in out if p[0] in new or p[1] in new}
        out = [p for p in out if p[0] in touched]
    return out


def _link_tasks(con: duckdb.DuckDBPyConnection, new_ids: list[str] | None) -> int:
    """task_links of the implementing pairs (all of them, or those a new document takes part in):
    for each task of the local document, the LINKS_PER_TASK best tasks of the upper one by BM25
    (the upper notice's tasks are the corpus; the local task's words the query; UNIT_BONUS added
    where the two share a unit's function), none for a task whose best is not MIN_MARGIN ahead of
    its second best."""
    pairs = _implementing_pairs(con, new_ids)
    if new_ids is None:
        con.execute("DELETE FROM task_links")
    elif pairs:
        # Every link of these local documents is made again: one whose upper document changed (an
        # earlier run paired it with another) keeps none of the old pair, so the links do not
        # depend on the order documents came in.
        con.execute(
            "DELETE FROM task_links WHERE document_id IN (SELECT unnest(?::VARCHAR[]))",
            [sorted({p[0] for p in pairs})],
        )
    # In chunks of local documents: one statement over 10,000 plans would hold every (local task,
    # upper task) sum at once (20 GB on 100,000 documents).
    tasks = dict(con.execute(
        "SELECT document_id, count(*) FROM items WHERE document_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY ALL",
        [sorted({d for p in pairs for d in p[:2]})],
    ).fetchall())
    by_local: dict[str, list[tuple[str, str, str]]] = {}
    for pair in sorted(pairs):
        by_local.setdefault(pair[0], []).append(pair)
    chunk: list[tuple[str, str, str]] = []
    size = 0
    for local, its in by_local.items():
        compared = tasks.get(local, 0) * sum(tasks.get(upper, 0) for _, upper, _ in its)
        if chunk and size + compared > TASK_PAIRS_PER_STATEMENT:
            _link_pairs(con, chunk)
            chunk, size = [], 0
        chunk += its
        size += compared
    if chunk:
        _link_pairs(con, chunk)
    return con.execute("SELECT count(*) FROM task_links").fetchone()[0]


# Name prefixes that say where a unit is, not what it does (the local jurisdiction's are added per document).
_NATIONAL_PREFIXES = "中共中央|中华全国|中国|国家"
_FUNCTION_SUFFIXES = "管理委员会|委员会|总局|局|部|联合会"


def _unit_function_sql(name: str, jurisdiction: str) -> str:
    """SQL for what a unit does, from its canonical name: without the jurisdiction (中共北京市委, 北京市)
    or national prefix and its kind (委员会, 局, 部, ...): 北京市教育委员会 and 教育部 are both 教育."""
    prefix = (f"'^(' || CASE WHEN {jurisdiction} IS NULL THEN '' ELSE '中共' || {jurisdiction} || '委|' || "
              f"{jurisdiction} || '|' END || '{_NATIONAL_PREFIXES})'")
    return (f"CASE WHEN starts_with({name}, '共青团') OR contains({name}, '共产主义青年团') THEN '共青团' ELSE "
            f"regexp_replace(regexp_replace({name}, {prefix}, ''), '^(.{{2,}}?)({_FUNCTION_SUFFIXES})$', '\\1') END")


def _link_pairs(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str, str]]) -> None:
    con.execute(
        f"""
        INSERT INTO task_links
        WITH pairs AS (SELECT unnest($l::VARCHAR[]) AS l, unnest($u::VARCHAR[]) AS u, unnest($v::VARCHAR[]) AS via),
        -- words split from items.search_words of the paired documents only (item_tokens is ~40 rows a
        -- task, not clustered by document: scanning it costs more than splitting these few)
        ut AS (SELECT document_id, item_key, token, count(*) AS tf FROM (
                   SELECT document_id, item_key, unnest(string_split(search_words, ' ')) AS token FROM items
                   WHERE document_id IN (SELECT u FROM pairs) AND search_words <> '')
               WHERE token <> '' GROUP BY ALL),
        ulen AS (SELECT document_id, item_key, sum(tf) AS len FROM ut GROUP BY ALL),
        ustat AS (SELECT document_id, count(*) AS n, avg(len) AS avg_len FROM ulen GROUP BY ALL),
        udf AS (SELECT document_id, token, count(*) AS df FROM ut GROUP BY ALL),
        w AS (
            SELECT ut.document_id AS u, hash(ut.document_id, ut.item_key) AS uh, ut.token,
                   ln(1 + (s.n - f.df + 0.5) / (f.df + 0.5))
                   * ut.tf * ({BM25_K1} + 1) / (ut.tf + {BM25_K1} * (1 - {BM25_B} + {BM25_B} * l.len / s.avg_len)) AS w
            FROM ut JOIN ulen l USING (document_id, item_key) JOIN ustat s USING (document_id)
            JOIN udf f USING (document_id, token)
            WHERE f.df <= {MAX_DF_SHARE} * s.n
        ),
        lt AS (SELECT DISTINCT hash(document_id, item_key) AS lh, document_id AS l, token FROM (
                   SELECT document_id, item_key, unnest(string_split(search_words, ' ')) AS token FROM items
                   WHERE document_id IN (SELECT l FROM pairs) AND search_words <> '')
               WHERE length(token) >= {MIN_WORD_LENGTH} AND token IN (SELECT token FROM w)),
        -- what each unit does, worked out once per distinct name (a few hundred), not per mention
        mentions AS (SELECT hash(m.document_id, m.item_key) AS h, m.document_id, m.canonical_name AS name,
                            coalesce(d.jurisdiction, '') AS jur
                     FROM unit_mentions m JOIN documents d USING (document_id)
                     WHERE (m.document_id IN (SELECT l FROM pairs) OR m.document_id IN (SELECT u FROM pairs))
                       AND NOT m.is_collective AND m.canonical_name IS NOT NULL),
        functions AS (SELECT name, jur, {_unit_function_sql('name', "nullif(jur, '')")} AS fn
                      FROM (SELECT DISTINCT name, jur FROM mentions)),
        unit_fns AS (SELECT DISTINCT h, document_id, fn FROM mentions JOIN functions USING (name, jur)),
        -- (local task, upper task) of a pair that share a unit's function: one UNIT_BONUS row each
        shared AS (SELECT DISTINCT lf.h AS lh, uf.h AS uh, p.u FROM pairs p JOIN unit_fns lf ON lf.document_id = p.l
                   JOIN unit_fns uf ON uf.document_id = p.u AND uf.fn = lf.fn),
        -- integer keys (hashes) for the big join and grouping; names joined back for the kept rows
        scores AS (
            SELECT lh, uh, any_value(u) AS u, sum(w) + CASE WHEN count(w) < count(*) THEN {UNIT_BONUS} ELSE 0 END AS score FROM (
                SELECT lt.lh, w.uh, w.u, w.w FROM pairs p JOIN lt ON lt.l = p.l JOIN w ON w.u = p.u AND w.token = lt.token
                UNION ALL SELECT lh, uh, u, NULL FROM shared)
            GROUP BY lh, uh
            -- the bonus where a word is shared too (a unit alone links nothing)
            HAVING sum(w) > 0
        ),
        best AS (
            -- ties (copies; sums in another order differ in the last bits) broken by the task's hash
            SELECT lh, u, max_by(uh, (round(score, 9), uh), {LINKS_PER_TASK}) AS uhs,
                   max_by(score, (round(score, 9), uh), {LINKS_PER_TASK}) AS ss
            FROM scores GROUP BY lh, u
        ),
        -- ss is best first; a task that matches one upper task only has 0 as its second best
        ranked AS (SELECT lh, u, unnest(uhs) AS uh, unnest(ss) AS score, unnest(range(1, len(uhs) + 1)) AS rank
                   FROM best WHERE ss[1] - coalesce(ss[2], 0) >= {MIN_MARGIN}),
        lkeys AS (SELECT hash(document_id, item_key) AS lh, document_id, item_key FROM items
                  WHERE document_id IN (SELECT l FROM pairs)),
        ukeys AS (SELECT hash(document_id, item_key) AS uh, item_key FROM items
                  WHERE document_id IN (SELECT u FROM pairs))
        SELECT k.document_id, k.item_key, r.u, uk.item_key, r.rank, r.score, 'bm25_units', p.via
        FROM ranked r JOIN lkeys k USING (lh) JOIN ukeys uk USING (uh) JOIN pairs p ON p.l = k.document_id AND p.u = r.u
        """,
        {"l": [p[0] for p in pairs], "u": [p[1] for p in pairs], "v": [p[2] for p in pairs]},
    )
