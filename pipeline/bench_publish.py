"""Benchmark what publishing the staging file costs (pipeline/staging.py).

    python -m pipeline.bench_publish [--files 300] [--rounds 5]      (or: make bench-publish)

Ingests `--files` notices made from the seeds (as pipeline.bench builds them) into a new
database, then opens it for writing as a command that writes does and times: the start (the copy
of the database to its staging file), a publish in the middle of a run (CHECKPOINT, close,
fsync, copy for the rest of the run, replace, reopen), and the final publish (no copy).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pipeline.bench import build_corpus


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=300, help="notices in the database (default 300)")
    parser.add_argument("--rounds", type=int, default=5, help="publishes to time (default 5)")
    args = parser.parse_args(argv)

    from pipeline.ingest import ingest
    from pipeline.staging import writing

    work = Path(tempfile.mkdtemp(prefix="notices-bench-publish-"))
    try:
        build_corpus(work / "corpus", args.files)
        db = work / "notices.duckdb"
        report = ingest([work / "corpus"], db)
        size = db.stat().st_size / 2**20
        print(f"database: {report.counts['new']} documents, {report.items_added:,} items, {size:.1f} MB")
        starts, middles, finals = [], [], []
        for _ in range(args.rounds):
            started = time.perf_counter()
            with writing(db, publish_every=float("inf")) as staged:
                starts.append(time.perf_counter() - started)
                staged.store.con.execute("UPDATE meta SET value = value WHERE key = 'schema_version'")
                started = time.perf_counter()
                staged.publish(keep_writing=True)
                middles.append(time.perf_counter() - started)
                started = time.perf_counter()
            finals.append(time.perf_counter() - started)  # the final publish, on leaving the block

        def ms(values: list[float]) -> str:
            return f"median {statistics.median(values) * 1000:6.0f} ms (min {min(values) * 1000:.0f})"

        print(f"start (copy to the staging file)   {ms(starts)}")
        print(f"publish during a run               {ms(middles)}")
        print(f"final publish (no copy)            {ms(finals)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
