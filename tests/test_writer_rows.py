"""Issue 18: workers hand the writer rows (pipeline/rows.py), not parsed Documents.

The rows a worker makes are exactly what the database then holds, for every table and every file of
data/raw (dates, lists, NULLs through DuckDB's appender); the writer of a multi-worker ingest never
loads jieba (the search words come split); and the workers load the tokenizer's table before their
memory cap, on top of it, so a low --max-memory-mb still parses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb

from pipeline.ingest import ingest, parse_file, source_key
from pipeline.limits import WorkerLimits
from pipeline.rows import ROW_COLUMNS, document_rows
from tests.conftest import RAW, ROOT

FILES = sorted(p for p in RAW.iterdir() if p.is_file())
LINKED_LATER = {"cited_document_id", "resolved_by"}


def _ingest_in_a_process(db: Path, workers: int, *extra: str) -> str:
    """`ingest` in a process of its own; prints whether the process that wrote loaded jieba's table."""
    script = (
        "from pipeline.ingest import ingest\n"
        "from pipeline.limits import WorkerLimits\n"
        "from extractors.tokens import _jieba\n"
        "if __name__ == '__main__':\n"
        f"    report = ingest([{str(RAW)!r}], {str(db)!r}, workers={workers}{''.join(extra)})\n"
        "    print(report.counts['new'], report.counts['failed'], _jieba.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode in (0, 1), done.stderr
    return done.stdout.split()


def test_the_rows_a_worker_makes_are_what_the_database_holds(tmp_path):
    db = tmp_path / "two.duckdb"
    new, failed, jieba_in_writer = _ingest_in_a_process(db, 2)
    assert (int(new), int(failed)) == (len(FILES), 0)
    assert jieba_in_writer == "0"  # the words came split from the workers
    compared = 0
    with duckdb.connect(str(db), read_only=True) as con:
        for path in FILES:
            made = document_rows(parse_file(path, source_path=source_key(path)))
            for table, columns in ROW_COLUMNS.items():
                # What a citation names is found after the rows are stored (links.resolve): not compared.
                kept = [k for k, c in enumerate(columns) if c not in LINKED_LATER]
                stored = con.execute(
                    f"SELECT {', '.join(columns[k] for k in kept)} FROM {table} WHERE document_id = ?",
                    [made.document_id],
                ).fetchall()
                sent = [tuple(row[k] for k in kept) for row in made.tables[table]]
                assert sorted(map(repr, stored)) == sorted(map(repr, sent)), (path.name, table)
                compared += len(stored)
            # Search words are there, split as the query side splits them.
            assert all(row[ROW_COLUMNS["items"].index("search_words")] for row in made.tables["items"]
                       if row[ROW_COLUMNS["items"].index("text")].strip())
    assert compared > 3000  # data/raw: 24 files, ~3,400 rows


def test_a_low_worker_memory_cap_leaves_files_their_room_beside_the_tokenizer(tmp_path):
    # 160 MB a worker: what the limits tests give a worker; the tokenizer's table (~40 MB of
    # address space) comes on top, so every notice of data/raw still parses.
    report = ingest([RAW], tmp_path / "capped.duckdb", workers=2, limits=WorkerLimits(memory_mb=160))
    assert report.counts["failed"] == 0, [f.message for f in report.failures]
    assert report.counts["new"] == len(FILES)
