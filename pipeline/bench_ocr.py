"""Seconds per page of scanned PDFs read by OCR, and the peak memory of the process doing it: `make bench-ocr`.

    python -m pipeline.bench_ocr [FILE ...] [--repeat N]

Default file: the 6-page 200-dpi scan ../shared/corpus/real/bc62040f….pdf. Each configuration is a
fresh `notices ingest FILE --force` into a new database, in its own interpreter (the engine's
start is part of the time, as in a real batch):

- `1 worker, 1 thread`: one process, pages one after the other (NOTICES_OCR_THREADS=1);
- `1 worker, 2 threads`: the same process recognizing pages two at a time (the default on 2 cores);
- `2 workers`: the ingest's worker processes (`--workers 2`); a single file is read by one of them,
  its pages spread over the cores by threads.

Peak RSS is the highest VmHWM among the ingest's processes (the one doing OCR), sampled every 0.2 s.
Also prints the machine's load average: on a shared machine the times are inflated by it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT.parent / "shared" / "corpus" / "real" / "bc62040f08261b1491db7950d5b83b992a53edfe07f94d15b93d75adb1c4777a.pdf"
CONFIGS = [("1 worker, 1 thread", 1, "1"), ("1 worker, 2 threads", 1, "2"), ("2 workers", 2, "")]


def _descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            out.append(child)
            todo.append(child)
    return out


def _hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_once(file: Path, workers: int, threads: str) -> tuple[float, float]:
    """(seconds, peak RSS MB of the ingest's processes) of one ingest of `file`."""
    env = dict(os.environ)
    env.pop("NOTICES_OCR_THREADS", None)
    if threads:
        env["NOTICES_OCR_THREADS"] = threads
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "cli", "ingest", str(file), "--db", str(Path(tmp) / "b.duckdb"),
                   "--workers", str(workers), "--force", "--json"]
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True)
        peak = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                for pid in [process.pid, *_descendants(process.pid)]:
                    peak = max(peak, _hwm_mb(pid))
                time.sleep(0.2)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        out, err = process.communicate()
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
    report = json.loads(out)
    if report["files"]["new"] != 1:
        raise SystemExit(f"{file}: not ingested: {report['failures'] or err}")
    return seconds, peak


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each configuration (the best is kept)")
    args = parser.parse_args(argv)
    files = args.files or [DEFAULT]
    import pypdfium2 as pdfium

    for file in files:
        if not file.exists():
            raise SystemExit(f"{file}: no such file (the default needs ../shared beside the project)")
        pages = len(pdfium.PdfDocument(str(file)))
        print(f"{file.name[:24]}…: {pages} pages; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        for name, workers, threads in CONFIGS:
            runs = [run_once(file, workers, threads) for _ in range(args.repeat)]
            best = min(s for s, _ in runs)
            rss = max(r for _, r in runs)
            spread = f" (runs {', '.join(f'{s:.1f}' for s, _ in runs)})" if len(runs) > 1 else ""
            print(f"  {name:20} {best:6.1f} s  {best / pages:5.2f} s/page  peak RSS {rss:5.0f} MB{spread}")
        print(f"  load average after: {os.getloadavg()[0]:.1f}; median of the last: "
              f"{statistics.median(s for s, _ in runs):.1f} s")


if __name__ == "__main__":
    main()
