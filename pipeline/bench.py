"""Benchmark a batch ingest: 1 vs 2 workers, an unchanged re-run, and peak memory.

    python -m pipeline.bench [--files 2000] [--rounds 1] [--keep DIR]      (or: make bench)

Builds a corpus of distinct notices from the seeds in data/raw/ and, where
../shared/corpus/generated/ is present, their PDF and DOCX renderings (each
copy is made unique: a line added to text, a trailing comment in a PDF, an
archive comment in a DOCX, so every file has its own content hash). Then it
runs `notices ingest` as a separate process three times and prints files/s,
pages/s, the 2-worker speed-up, the unchanged re-run as a fraction of the
first run, and the peak resident memory of the whole process tree (sampled
from /proc: the sum of PSS, each shared page once, and the sum of RSS).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT.parent / "shared" / "corpus" / "generated"


def build_corpus(folder: Path, count: int) -> dict[str, int]:
    """Write `count` distinct notices into `folder`; returns files per format."""
    sources = sorted((ROOT / "data" / "raw").glob("00[0-4]_*.txt"))  # the five seeds: the same mix as before
    if GENERATED.is_dir():
        sources += sorted(GENERATED.glob("*.pdf")) + sorted(GENERATED.glob("*.docx"))
    folder.mkdir(parents=True, exist_ok=True)
    per_format: dict[str, int] = {}
    for n in range(count):
        source = sources[n % len(sources)]
        data = source.read_bytes()
        suffix = source.suffix
        if suffix == ".txt":
            data = data + f"\n\n抄送：基准测试副本{n}\n".encode()
        elif suffix == ".pdf":
            data = data + f"\n%bench copy {n}\n".encode()  # after %%EOF: ignored by readers
        else:
            data = _with_zip_comment(data, f"bench copy {n}".encode())
        (folder / f"{n:05d}_{source.stem}{suffix}").write_bytes(data)
        per_format[suffix] = per_format.get(suffix, 0) + 1
    return per_format


def _with_zip_comment(data: bytes, comment: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.comment = comment
    return out.getvalue()


def _tree(root_pid: int) -> list[int]:
    """A process and all its descendants, from each thread's /proc children list."""
    pids, todo = [], [root_pid]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        try:
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as children:
                    todo.extend(int(c) for c in children.read().split())
        except OSError:
            continue  # it ended meanwhile
    return pids


def _tree_memory(root_pid: int, with_pss: bool = True) -> tuple[int, int]:
    """(RSS, PSS) in bytes summed over a process and all its descendants, from /proc.

    RSS counts pages shared between processes (libraries, what the workers
    inherit from the fork server) once per process; PSS splits them,
    so its sum is the memory the tree really holds. Reading PSS walks every
    page table, so the sampler asks for it less often (`with_pss`).
    """
    total_rss = total_pss = 0
    for pid in _tree(root_pid):
        try:
            with open(f"/proc/{pid}/statm") as statm:
                total_rss += int(statm.read().split()[1]) * 4096
        except OSError:
            continue
        if with_pss:
            total_pss += _pss(pid)
    return total_rss, total_pss


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def run_ingest(folder: Path, db: Path, workers: int) -> dict:
    """Run `notices ingest` in its own process; return its JSON summary plus peak tree memory."""
    return run_notices(["ingest", str(folder), "--db", str(db), "--workers", str(workers)])


def run_notices(args: list[str]) -> dict:
    """Run a `notices` command with --json in its own process; its summary (the last line it prints),
    wall time and the peak memory of its process tree (RSS and PSS sums, in MB)."""
    command = [sys.executable, "-m", "cli", *args, "--json"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    peak = peak_pss = 0

    def sample() -> None:
        # Every 50 ms, cheaply: on two cores busy with the 2-worker run, a
        # heavier sampler would slow that run and not the 1-worker one.
        nonlocal peak, peak_pss
        count = 0
        while process.poll() is None:
            rss, pss = _tree_memory(process.pid, with_pss=count % 10 == 0)
            peak, peak_pss = max(peak, rss), max(peak_pss, pss)
            count += 1
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    started = time.perf_counter()
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    sampler.join()
    if process.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args[:2])} failed ({process.returncode}): {err.strip()}")
    summary = json.loads(out.strip().splitlines()[-1])
    summary.update(wall_seconds=seconds, peak_rss_mb=peak / 2**20, peak_pss_mb=peak_pss / 2**20)
    return summary


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=2000, help="notices in the corpus (default 2000)")
    parser.add_argument("--keep", type=Path, help="build the corpus and databases here and keep them")
    parser.add_argument("--rounds", type=int, default=1, metavar="N",
                        help="run 1 and 2 workers N times, alternating, and take the median of each "
                             "(a shared machine's noise is far above the differences measured)")
    args = parser.parse_args(argv)

    work = args.keep or Path(tempfile.mkdtemp(prefix="notices-bench-"))
    try:
        corpus = work / "corpus"
        if corpus.exists():
            shutil.rmtree(corpus)
        formats = build_corpus(corpus, args.files)
        print(f"corpus: {args.files} files ({', '.join(f'{n} {k}' for k, n in sorted(formats.items()))}) in {corpus}")
        if not GENERATED.is_dir():
            print("note: ../shared/corpus/generated is absent: text files only")
        runs = {}
        plan = [("1 worker", 1, "one.duckdb"), ("2 workers", 2, "two.duckdb")] * args.rounds
        plan.append(("unchanged re-run (2 workers)", 2, "two.duckdb"))
        for label, workers, db in plan:
            if label != "unchanged re-run (2 workers)":
                for stale in work.glob(db + "*"):
                    stale.unlink()
            summary = run_ingest(corpus, work / db, workers)
            runs.setdefault(label, []).append(summary)
            files = summary["files"]
            pages = summary["pages"]
            print(
                f"{label:30} {summary['wall_seconds']:7.1f} s  {args.files / summary['wall_seconds']:7.1f} files/s  "
                f"{pages / summary['wall_seconds']:7.1f} pages/s ({pages} pages)  peak RSS {summary['peak_rss_mb']:.0f} MB (PSS {summary['peak_pss_mb']:.0f})  "
                f"[new {files['new']}, unchanged {files['unchanged']}, failed {files['failed']}]"
            )
        one, two, again = (statistics.median(r["wall_seconds"] for r in runs[k]) for k in runs)
        if args.rounds > 1:
            print(f"medians of {args.rounds} rounds: 1 worker {one:.1f} s, 2 workers {two:.1f} s")
        peak = max(r["peak_rss_mb"] for rs in runs.values() for r in rs)
        peak_pss = max(r["peak_pss_mb"] for rs in runs.values() for r in rs)
        print(f"\nspeed-up with 2 workers: {one / two:.2f}x   (target ≥ 1.7x)")
        print(f"unchanged re-run: {again / two:.1%} of the first 2-worker run   (target ≤ 5%)")
        # The tree's resident memory is the sum of PSS: each resident page counted once, split among the
        # processes that share it. The sum of RSS counts the pages the workers share with their fork
        # server (the parsing code, jieba's table: pipeline/worker_preload.py) once per process.
        print(f"peak resident memory of the process tree: {peak_pss:.0f} MB (sum of PSS)   (target ≤ 400 MB)")
        print(f"  (sum of each process's RSS, shared pages counted once per process: {peak:.0f} MB)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
