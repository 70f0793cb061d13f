"""`make bench-report`: size and time of `notices report` on data/raw/ and on the real corpus.

    python -m pipeline.bench_report [FOLDER ...]

Ingests each folder (default: data/raw and ../shared/corpus/real where present) into a fresh
database, then times gather (queries and network layout) and render (page, with the inlined
Vega bundle), and prints the page's size: total, the inlined script, the rest. Also the installed
size of the chart library (vl_convert) for the comparison in the README.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from pipeline.ingest import ingest
from pipeline.report import gather, render
from pipeline.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _installed_mb(module: str) -> float | None:
    try:
        package = __import__(module)
    except ImportError:
        return None
    folder = Path(package.__file__).parent
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main(argv: list[str]) -> None:
    import vl_convert

    folders = [Path(a) for a in argv] or [p for p in (ROOT / "data" / "raw", ROOT.parent / "shared" / "corpus" / "real")
                                          if p.is_dir()]
    bundle = vl_convert.javascript_bundle()
    print(f"vl_convert {vl_convert.__version__ if hasattr(vl_convert, '__version__') else ''} installed: "
          f"{_installed_mb('vl_convert'):.1f} MB; inlined Vega bundle: {len(bundle.encode()) / 1e6:.2f} MB")
    for name in ("plotly", "matplotlib"):
        size = _installed_mb(name)
        print(f"{name}: " + (f"{size:.1f} MB installed (package folder only)" if size else "not installed"))
    for folder in folders:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            ingest(sorted(p for p in folder.rglob("*") if p.is_file()), db)
            with Store.open(db, read_only=True) as store:
                start = time.perf_counter()
                data = gather(store)
                gathered = time.perf_counter() - start
            start = time.perf_counter()
            page = render(data, script=bundle)
            rendered = time.perf_counter() - start
        size = len(page.encode())
        print(f"{folder}: {len(data.documents)} documents, {sum(len(p.tasks) for p in data.documents)} tasks, "
              f"network {len(data.network_nodes)} of {data.network_units_total} units, {len(data.network_edges)} links; "
              f"gather {gathered:.2f} s, render {rendered:.2f} s; page {size / 1e6:.2f} MB "
              f"(script {len(bundle.encode()) / 1e6:.2f} MB, data and tables {(size - len(bundle.encode())) / 1e6:.2f} MB)")


if __name__ == "__main__":
    main(sys.argv[1:])
