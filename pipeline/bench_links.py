"""Benchmark resolving links (citations and task links) on 100,000 documents.

    python -m pipeline.bench_links [--documents 100000] [--batch 1000] [--rebuild]   (or: make bench-links)

data/raw/ is ingested, then its documents are copied inside DuckDB (every row of every
document table, as pipeline/bench_search.py does) until there are --documents documents. Each
copy k gets other numbers: every 发文字号 serial, stored and cited, has k appended (国发〔2019〕5号
→ 国发〔2019〕50042号 in copy 42: four digits), so a copy's citations name the documents of its own copy, and
its titles' year moves by k mod 20 (2023 → 2023 + k mod 20), so a local plan pairs with the
national plan of its own year group. Citations are left unresolved and task_links empty.

Reports: the full resolve (every citation, every document pair: Store.resolve_links(full=True)),
then --batch more documents copied in the same way and resolved incrementally
(Store.resolve_links() with those as the new ones). Targets (issue 19): full ≤ 60 s,
incremental ≤ 5 s per 1,000 new documents. The large database is cached under
/tmp/policy-notices-bench-links/ (remade when the layout version changes, or --rebuild).
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

import duckdb

from pipeline.bench_search import seed_database

CACHE = Path("/tmp/policy-notices-bench-links")
# The tables copied (task_links are computed by the resolve being measured).
_COPIED_CHILDREN = ["document_issuers", "attachments", "sections", "items", "unit_mentions", "document_warnings",
                    "item_tokens", "passages", "passage_tokens"]


def _copy(con: duckdb.DuckDBPyConnection, first: int, last: int, base_ids: str) -> list[str]:
    """Copies first..last (inclusive) of the documents in temp table `base_ids`; their new ids."""
    con.execute("DROP TABLE IF EXISTS id_map")
    con.execute(
        f"CREATE TEMP TABLE id_map AS SELECT b.document_id AS old, k, left(sha256(b.document_id || '/' || k), 16) AS new "
        f"FROM {base_ids} b, range(?, ?) r(k)", [first, last + 1])
    con.execute("BEGIN")
    con.execute(
        "INSERT INTO documents SELECT d.* REPLACE ("
        "m.new AS document_id, regexp_replace(d.source_path, '^(.*)/', '\\1/copy' || m.k || '/') AS source_path, "
        "sha256(d.content_hash || '/' || m.k) AS content_hash, "
        "(d.doc_number_serial::VARCHAR || lpad(m.k::VARCHAR, 4, '0'))::BIGINT::INTEGER AS doc_number_serial, "
        "regexp_replace(d.doc_number, '(\\d+)(\\s*号)', '\\1' || lpad(m.k::VARCHAR, 4, '0') || '\\2') AS doc_number, "
        "CASE WHEN regexp_matches(d.title, '20\\d\\d年') THEN regexp_replace(d.title, '(20\\d\\d)年', "
        "(2000 + (TRY_CAST(regexp_extract(d.title, '20(\\d\\d)年', 1) AS INTEGER) + m.k % 20) % 100)::VARCHAR || '年') "
        "ELSE d.title END AS title, "
        "d.year + m.k % 20 AS year) "
        "FROM documents d JOIN id_map m ON d.document_id = m.old"
    )
    for table in _COPIED_CHILDREN:
        con.execute(f"INSERT INTO {table} SELECT t.* REPLACE (m.new AS document_id) FROM {table} t "
                    "JOIN id_map m ON t.document_id = m.old")
    con.execute(
        "INSERT INTO citations SELECT c.* REPLACE (m.new AS document_id, "
        "regexp_replace(c.number_key, '(\\d+)号$', '\\1' || lpad(m.k::VARCHAR, 4, '0') || '号') AS number_key, "
        "NULL AS cited_document_id, NULL AS resolved_by) FROM citations c JOIN id_map m ON c.document_id = m.old"
    )
    con.execute("COMMIT")
    return [r[0] for r in con.execute("SELECT new FROM id_map").fetchall()]


def large_database(seed: Path, documents: int, rebuild: bool) -> Path:
    from pipeline.store import STORE_VERSION

    db = CACHE / f"docs{documents}-v{STORE_VERSION}.duckdb"
    if db.exists() and not rebuild:
        return db
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    shutil.copy(seed, partial)
    started = time.perf_counter()
    with duckdb.connect(str(partial)) as con:
        con.execute("CREATE TABLE bench_base AS SELECT document_id FROM documents WHERE is_current")
        base = con.execute("SELECT count(*) FROM bench_base").fetchone()[0]
        copies = -(-documents // base) - 1
        _copy(con, 1, copies, "bench_base")
        surplus = con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0] - documents
        if surplus > 0:  # retire the surplus of the last copy: exactly `documents` current
            con.execute("UPDATE documents SET is_current = false WHERE document_id IN (SELECT new FROM id_map "
                        "ORDER BY new LIMIT ?)", [surplus])
        con.execute("UPDATE citations SET cited_document_id = NULL, resolved_by = NULL")
        con.execute("DELETE FROM task_links")
        con.execute("INSERT INTO meta VALUES ('bench_copies', ?)", [str(copies)])
        con.execute("CHECKPOINT")
    partial.replace(db)
    print(f"built {db} ({documents:,} documents) in {time.perf_counter() - started:.1f} s")
    return db


def main(argv: list[str] | None = None) -> int:
    from pipeline.store import Store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=100_000, metavar="N")
    parser.add_argument("--batch", type=int, default=1_000, metavar="N")
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args(argv)
    large = large_database(seed_database(args.rebuild), args.documents, args.rebuild)
    work = CACHE / "work.duckdb"
    shutil.copy(large, work)
    Path(f"{work}.wal").unlink(missing_ok=True)
    with Store.open(work) as store:
        con = store.con
        counts = con.execute("SELECT (SELECT count(*) FROM documents WHERE is_current), (SELECT count(*) FROM items), "
                             "(SELECT count(*) FROM citations)").fetchone()
        print(f"database: {counts[0]:,} documents, {counts[1]:,} tasks, {counts[2]:,} citations")
        t = time.perf_counter()
        full = store.resolve_links(full=True)
        full_s = time.perf_counter() - t
        print(f"full resolve: {full_s:.1f} s ({full['resolved']:,} of {full['citations']:,} citations name a stored "
              f"document; {full['task_links']:,} task links)  target <= 60 s")
        copies = int(con.execute("SELECT value FROM meta WHERE key = 'bench_copies'").fetchone()[0])
        con.execute("CREATE TEMP TABLE batch_base AS SELECT document_id FROM bench_base "
                    "ORDER BY document_id")
        base = con.execute("SELECT count(*) FROM batch_base").fetchone()[0]
        extra = -(-args.batch // base)
        new_ids = _copy(con, copies + 1, copies + extra, "batch_base")
        store._written = new_ids  # as the writer leaves them after an ingest batch
        t = time.perf_counter()
        inc = store.resolve_links()
        inc_s = time.perf_counter() - t
        per_1000 = inc_s * 1000 / len(new_ids)
        print(f"incremental resolve of {len(new_ids):,} new documents: {inc_s:.2f} s ({per_1000:.2f} s per 1,000; "
              f"{inc['task_links']:,} task links in all)  target <= 5 s per 1,000")
    work.unlink(missing_ok=True)
    shutil.rmtree(f"{work}.tmp", ignore_errors=True)  # DuckDB's spill folder
    ok = full_s <= 60 and per_1000 <= 5
    print("targets: " + ("met" if ok else "missed"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
