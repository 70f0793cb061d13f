"""Benchmark the Ray engine against a local ingest on the bench corpus (issue 18).

    python -m pipeline.bench_ray [--files 2000] [--keep DIR]      (or: make bench-ray)
    python -m pipeline.bench_ray --corpus ../shared/corpus/real    (any folder, as it is)

Builds pipeline/bench.py's corpus (distinct notices: the seeds' text files and, where
../shared/corpus/generated is present, their PDF and DOCX renderings), then runs, each as its own
process, on the same CPUs (2 workers, Ray local mode with 2 CPUs):

1. `notices ingest CORPUS --db local.duckdb --workers 2`                 (local: parse and write at once)
2. `notices ingest CORPUS --engine ray --out parts --workers 2`          (Ray: start-up, parse, Parquet)
3. `notices load parts --db ray.duckdb`                                   (write the parts into DuckDB)

and prints files/s of each, Ray's start-up, the parsing time summed over Ray's workers against the
wall time of Ray's part (the rest is Ray's overhead: scheduling, moving the files' bytes through the
object store, the driver's streaming), the peak memory of each process tree, the machine's load
average before each run, and whether the two databases hold the same rows (pipeline.load.table_fingerprints).
The machine should be quiet: each run waits (up to --max-wait seconds) for a 1-minute load average
below --quiet-load.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from pipeline.bench import GENERATED, build_corpus, run_notices


def _wait_for_quiet(limit: float, max_wait: float) -> float:
    """Wait until the 1-minute load average is below `limit` (at most `max_wait` s); return it."""
    deadline = time.monotonic() + max_wait
    while os.getloadavg()[0] >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()[0]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000, help="notices in the corpus (default 2000)")
    parser.add_argument("--keep", type=Path, help="build the corpus, parts and databases here and keep them")
    parser.add_argument("--corpus", type=Path, help="ingest this folder instead of building the bench corpus")
    parser.add_argument("--quiet-load", type=float, default=1.2, help="wait for a load average below this")
    parser.add_argument("--max-wait", type=float, default=600, help="seconds to wait for it at most, each run")
    args = parser.parse_args(argv)

    from pipeline.load import table_fingerprints

    work = args.keep or Path(tempfile.mkdtemp(prefix="notices-bench-ray-"))
    try:
        for old in ("corpus", "parts", "local.duckdb", "ray.duckdb"):
            target = work / old
            shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        if args.corpus:
            corpus = args.corpus.resolve()
            args.files = sum(1 for f in corpus.rglob("*") if f.is_file() and not f.name.startswith("."))
            print(f"corpus: {corpus} ({args.files} files, notices or not); {os.cpu_count()} cores")
        else:
            corpus = work / "corpus"
            formats = build_corpus(corpus, args.files)
            print(f"corpus: {args.files} files ({', '.join(f'{n} {k}' for k, n in sorted(formats.items()))}); "
                  f"{os.cpu_count()} cores")
            if not GENERATED.is_dir():
                print("note: ../shared/corpus/generated is absent: text files only")

        loads = []
        loads.append(_wait_for_quiet(args.quiet_load, args.max_wait))
        local = run_notices(["ingest", str(corpus), "--db", str(work / "local.duckdb"), "--workers", "2"])
        loads.append(_wait_for_quiet(args.quiet_load, args.max_wait))
        on_ray = run_notices(["ingest", str(corpus), "--engine", "ray", "--out", str(work / "parts"), "--workers", "2"])
        loads.append(_wait_for_quiet(args.quiet_load, args.max_wait))
        loaded = run_notices(["load", str(work / "parts"), "--db", str(work / "ray.duckdb")])

        n = args.files
        ray_total = on_ray["wall_seconds"] + loaded["wall_seconds"]
        executing = on_ray["seconds"] - on_ray["startup_seconds"]  # Ray's part after ray.init
        cpus = on_ray["workers"] or 2
        print(f"load average (1 min) before each run: {', '.join(f'{x:.2f}' for x in loads)}")
        print(f"{'local ingest, 2 workers':34} {local['wall_seconds']:7.1f} s  {n / local['wall_seconds']:6.1f} files/s  "
              f"peak PSS {local['peak_pss_mb']:.0f} MB")
        print(f"{'Ray local mode, 2 CPUs: ingest':34} {on_ray['wall_seconds']:7.1f} s  "
              f"{n / on_ray['wall_seconds']:6.1f} files/s  peak PSS {on_ray['peak_pss_mb']:.0f} MB")
        print(f"{'  then notices load':34} {loaded['wall_seconds']:7.1f} s  {n / loaded['wall_seconds']:6.1f} files/s  "
              f"peak PSS {loaded['peak_pss_mb']:.0f} MB")
        print(f"{'Ray + load, end to end':34} {ray_total:7.1f} s  {n / ray_total:6.1f} files/s  "
              f"({local['wall_seconds'] / ray_total:.2f}x the local ingest's speed)")
        print("where Ray's time goes:")
        print(f"  start-up (ray.init, a local Ray)           {on_ray['startup_seconds']:7.1f} s")
        print(f"  executing (read, parse, rows, Parquet)     {executing:7.1f} s wall on {cpus} CPUs")
        print(f"    parsing + rows, summed over workers      {on_ray['parse_seconds']:7.1f} s  "
              f"(= {on_ray['parse_seconds'] / cpus:.1f} s wall if perfectly spread)")
        print(f"    Parquet writing, summed over workers     {on_ray['write_seconds']:7.1f} s")
        overhead = executing - (on_ray["parse_seconds"] + on_ray["write_seconds"]) / cpus
        print(f"    the rest: Ray's scheduling, object store, workers starting, the driver  {overhead:5.1f} s")
        print(f"  process start and Python imports           {on_ray['wall_seconds'] - on_ray['seconds']:7.1f} s")
        print(f"  notices load (one writer, after parsing)   {loaded['wall_seconds']:7.1f} s")
        local_tables, ray_tables = table_fingerprints(work / "local.duckdb"), table_fingerprints(work / "ray.duckdb")
        differing = [table for table in local_tables if local_tables[table] != ray_tables.get(table)]
        same = not differing
        print(f"the two databases hold the same rows (every table): {'yes' if same else 'NO: ' + ', '.join(differing)}")
        return 0 if same else 1
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
