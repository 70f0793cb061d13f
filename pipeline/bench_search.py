"""Benchmark `notices search`: query latency on the seed database and on 10,000 documents.

    python -m pipeline.bench_search [--documents 10000] [--runs 5] [--rebuild]   (or: make bench-search)

The seed database is data/raw/ ingested as it is. The large one is made from it inside DuckDB:
every current document's rows (documents, items, unit mentions, passages, tokens …) copied with
new ids and paths until there are --documents documents, so it has the seeds' text, words and
units at 400 times the volume (the same word frequencies, scaled). Both are cached under
/tmp/policy-notices-bench-search/ and remade when the layout version changes (or --rebuild).

Reports, for each database: the in-process latency of pipeline.search.search on an open
read-only connection (median and p95 over the queries below, each run --runs times), the first
query after opening, and the wall time of the whole `notices search` command in a subprocess
(Python start-up, imports, opening the file, the query, printing: median of --runs).
Targets: a query ≤ 0.3 s on the seed database, ≤ 0.5 s on 10,000 documents.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path("/tmp/policy-notices-bench-search")
# Real questions of the seeds' and corpus' subjects: one word, two words, a phrase to cut, a unit's full name.
QUERIES = ["应急科普", "科普 老年人", "限购", "房地产市场", "公积金贷款", "北京市科学技术协会", "消费扶贫",
           "青少年科技教育", "住房公积金", "促进就业", "市场监管", "安全生产", "减税降费", "人才引进",
           "农村 科普", "取消限购政策", "科学素质", "2023年"]
# The same queries narrowed by filters (the filter's SQL runs too).
FILTERED = [("科普", {"jurisdiction": "北京"}), ("科普", {"unit": "市科协"}), ("房地产", {"since": "2022-06"}),
            ("消费", {"issuer": "人民政府"})]


def seed_database(rebuild: bool) -> Path:
    """data/raw/ ingested, cached while the layout version is the same."""
    from pipeline.ingest import ingest
    from pipeline.store import STORE_VERSION

    db = CACHE / f"seed-v{STORE_VERSION}.duckdb"
    if rebuild or not db.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        db.unlink(missing_ok=True)
        report = ingest([ROOT / "data" / "raw"], db, workers=2)
        if report.exit_code:
            raise SystemExit(f"ingesting data/raw failed: {report.failures}")
    return db


def large_database(seed: Path, documents: int, rebuild: bool) -> Path:
    """The seed database's documents copied inside DuckDB until there are `documents` of them."""
    from pipeline.store import _CHILD_TABLES, STORE_VERSION

    db = CACHE / f"docs{documents}-v{STORE_VERSION}.duckdb"
    if db.exists() and not rebuild:
        return db
    partial = db.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    shutil.copy(seed, partial)
    started = time.perf_counter()
    with duckdb.connect(str(partial)) as con:
        base = con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0]
        copies = -(-documents // base) - 1  # the originals are the first copy
        con.execute(
            "CREATE TEMP TABLE id_map AS SELECT d.document_id AS old, k, "
            "left(sha256(d.document_id || '/' || k), 16) AS new "
            "FROM documents d, range(1, ?) r(k) WHERE d.is_current",
            [copies + 1],
        )
        # Exactly `documents`: drop the surplus of the last copy.
        con.execute("DELETE FROM id_map WHERE (k, old) IN (SELECT k, old FROM id_map ORDER BY k DESC, old "
                    "LIMIT (SELECT count(*) FROM id_map) - ? + ?)", [documents, base])
        con.execute("BEGIN")
        con.execute(
            "INSERT INTO documents SELECT d.* REPLACE (m.new AS document_id, "
            "regexp_replace(d.source_path, '^(.*)/', '\\1/copy' || m.k || '/') AS source_path, "
            "sha256(d.content_hash || '/' || m.k) AS content_hash) "
            "FROM documents d JOIN id_map m ON d.document_id = m.old"
        )
        for table in reversed(_CHILD_TABLES):  # parents first
            con.execute(
                f"INSERT INTO {table} SELECT t.* REPLACE (m.new AS document_id) "
                f"FROM {table} t JOIN id_map m ON t.document_id = m.old"
            )
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        total = con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0]
    partial.replace(db)
    print(f"built {db} ({total:,} documents) in {time.perf_counter() - started:.1f} s")
    return db


def measure(db: Path, runs: int) -> dict[str, float]:
    from cli import document_filter
    from pipeline.search import search

    timings: list[float] = []
    cpu: list[float] = []  # CPU seconds of this process (DuckDB's threads included): what other load does not inflate
    filtered: list[float] = []
    started = time.perf_counter()
    con = duckdb.connect(str(db), read_only=True)
    search(con, QUERIES[0], limit=10)
    first = time.perf_counter() - started
    for _ in range(runs):
        for query in QUERIES:
            t, c = time.perf_counter(), time.process_time()
            search(con, query, limit=10)
            timings.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        for query, options in FILTERED:
            t = time.perf_counter()
            search(con, query, document_filter(**options), limit=10)
            filtered.append(time.perf_counter() - t)
    sizes = con.execute(
        "SELECT (SELECT count(*) FROM documents WHERE is_current), (SELECT count(*) FROM items), "
        "(SELECT count(*) FROM passages), (SELECT count(*) FROM item_tokens) + (SELECT count(*) FROM passage_tokens)"
    ).fetchone()
    con.close()
    walls = []
    notices = Path(sys.executable).with_name("notices")
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run([str(notices), "search", "应急科普", "--db", str(db)], check=True, capture_output=True)
        walls.append(time.perf_counter() - t)
    return {
        "documents": sizes[0], "items": sizes[1], "passages": sizes[2], "token_rows": sizes[3],
        "median": statistics.median(timings), "p95": _p95(timings), "cpu": statistics.median(cpu), "filtered_median": statistics.median(filtered),
        "filtered_p95": _p95(filtered), "first": first, "command": statistics.median(walls),
    }


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=10_000, metavar="N")
    parser.add_argument("--runs", type=int, default=5, metavar="N")
    parser.add_argument("--rebuild", action="store_true", help="Make the cached databases again.")
    args = parser.parse_args(argv)
    seed = seed_database(args.rebuild)
    large = large_database(seed, args.documents, args.rebuild)
    print(f"{len(QUERIES)} queries and {len(FILTERED)} filtered ones, {args.runs} runs each, in-process "
          "(pipeline.search.search, open read-only connection); command: `notices search 应急科普` in a subprocess")
    for name, db, target in (("seed", seed, 0.3), (f"{args.documents:,} docs", large, 0.5)):
        m = measure(db, args.runs)
        verdict = "ok" if m["p95"] <= target else "OVER"
        print(f"{name:>12}: {m['documents']:,} documents, {m['items']:,} items, {m['passages']:,} passages, "
              f"{m['token_rows']:,} token rows")
        print(f"{'':>12}  query median {m['median'] * 1000:.0f} ms, p95 {m['p95'] * 1000:.0f} ms "
              f"(target {target * 1000:.0f} ms: {verdict}), CPU median {m['cpu'] * 1000:.0f} ms; filtered median {m['filtered_median'] * 1000:.0f} ms, "
              f"p95 {m['filtered_p95'] * 1000:.0f} ms; first query after opening {m['first'] * 1000:.0f} ms; "
              f"whole command {m['command']:.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
