"""A second reading of issue 18's writer changes: where the new write path meets the rest.

Each test reproduces a bug found in that reading (it failed before its fix)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _in_a_process(script: str) -> list[str]:
    """Run `script` in a Python process of its own (address-space caps are for the whole process)."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_ocr_memory_cap_leaves_the_tokenizer_table_on_top():
    """A worker now holds jieba's table (pipeline/worker_preload.py), and its --max-memory-mb cap is
    raised by the table's size; OCR raises the cap to what the engine needs, and must raise it by the
    table too, or a scan gets less room than OCR_MEMORY_MB_PER_WORKER says (the table used to live in
    the writer, not in the workers)."""
    held, cap = map(int, _in_a_process(
        "import resource\n"
        "from pipeline.worker_preload import WORDS_MB\n"
        "from pipeline import ingest, ocr\n"
        "ingest._limit_memory(2048, WORDS_MB)  # as _worker_main does\n"
        "ocr._allow_ocr_memory()  # as a worker does before it loads the OCR engine\n"
        "print(WORDS_MB, resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)\n"
    ))
    from pipeline.limits import OCR_MEMORY_MB_PER_WORKER

    assert held > 0  # the table takes room: the test says something
    assert cap == OCR_MEMORY_MB_PER_WORKER + held


def test_ctrl_c_while_a_batch_is_written_keeps_the_parsed_documents(tmp_path, seeds_dir, monkeypatch):
    """ingest's promise: on Ctrl-C the documents already parsed are written, then the run closes.
    A Ctrl-C that lands while a batch is being written (its transaction rolled back) dropped that
    batch: _Writer.flush had already taken it out of `pending`, so the final flush wrote nothing.
    With 64 documents a transaction (was 16) a write is where the writer spends its time, and a
    batch is up to 64 parsed notices lost (parsed again on the next run, but not kept as promised)."""
    import os
    import signal

    import duckdb
    import pytest

    from pipeline import store as store_module
    from pipeline.ingest import ingest

    real_fill, calls = store_module.fill_item_tokens, []

    def fill_then_ctrl_c(con, ids):  # inside the batch's transaction, after its rows are appended
        calls.append(len(ids))
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
        return real_fill(con, ids)

    monkeypatch.setattr(store_module, "fill_item_tokens", fill_then_ctrl_c)
    outcomes = []
    with pytest.raises(KeyboardInterrupt):
        ingest([seeds_dir], tmp_path / "x.duckdb", workers=1, on_file=outcomes.append)
    assert calls[0] == len(list(seeds_dir.iterdir()))  # the interrupted batch held every seed
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        stored = {p for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
        runs = con.execute("SELECT count(*), count(finished_at), max(files_new) FROM ingest_runs").fetchone()
    assert stored == {o.path for o in outcomes if o.status == "new"}
    assert calls == [len(stored), len(stored)]  # every seed, written once more after the Ctrl-C
    assert runs == (1, 1, len(stored))


def test_a_small_batch_is_shared_between_the_workers(tmp_path, seeds_dir, monkeypatch):
    """Each worker now holds up to 8 files (was 2), and the supervisor filled them in turn: the first
    worker took the first 8 files, so a run of 8 or fewer changed files (a day's new notices) was
    parsed by one worker while the others stood idle, and files queued behind a slow one waited for
    its time limit although another worker had nothing to do."""
    from pipeline import ingest as ingest_module

    parsed_by: dict[str, int] = {}
    real_collect = ingest_module._Supervisor._collect

    def collect(self, worker, deliver):
        def noted(result):
            parsed_by[result.path] = worker.process.pid
            deliver(result)

        return real_collect(self, worker, noted)

    monkeypatch.setattr(ingest_module._Supervisor, "_collect", collect)
    report = ingest_module.ingest([seeds_dir], tmp_path / "x.duckdb", workers=2)
    files = len(list(seeds_dir.iterdir()))
    assert report.counts["new"] == files == len(parsed_by) > 2
    per_worker = sorted(list(parsed_by.values()).count(pid) for pid in set(parsed_by.values()))
    assert per_worker == [files // 2, files - files // 2]


def test_links_after_an_ingest_with_a_new_dictionary_are_those_of_a_fresh_ingest(tmp_path):
    """Task links weigh the units two tasks share (UNIT_BONUS, by the canonical names of their
    mentions). `ingest --dictionary` resolves every stored mention again (Store.renormalize), but
    its links were then resolved for the new documents only: the stored documents kept links
    computed from the old names, unlike a fresh ingest with the same dictionary."""
    import shutil
    from pathlib import Path

    import duckdb

    from pipeline.dictionary import read_dictionary_files
    from pipeline.ingest import ingest
    from tests.conftest import RAW

    folder = tmp_path / "notices"
    folder.mkdir()
    # A 宿州 notice and the 宿州 plan it cites; the local one names 市房管中心, no dictionary knows it.
    for name in ("html_215c41a7559ce16e.html", "html_6668dad6cec0908a.html"):
        shutil.copy(RAW / name, folder / name)
    entry = tmp_path / "units.tsv"
    entry.write_text("宿州市住房和城乡建设局\tmunicipal\tgovernment\t宿州市\t市房管中心\t\n", encoding="utf-8")
    entries = read_dictionary_files([entry])

    def links(db: Path) -> list[tuple]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("SELECT document_id, item_key, upper_document_id, upper_item_key, rank, "
                               "round(score, 9), via FROM task_links ORDER BY ALL").fetchall()

    later, fresh = tmp_path / "later.duckdb", tmp_path / "fresh.duckdb"
    ingest([folder], later, workers=1)
    before = links(later)
    again = ingest([folder], later, workers=1, dictionary_entries=entries)
    assert again.renormalized and again.counts["unchanged"] == 2
    ingest([folder], fresh, workers=1, dictionary_entries=entries)
    assert links(fresh) != before  # the entry changes the links: the test can tell
    assert links(later) == links(fresh)


def _cpu_ticks(pid: int) -> int:
    from pathlib import Path

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def test_ctrl_c_keeps_what_the_workers_have_parsed_and_sent(tmp_path, seeds_dir, monkeypatch):
    """Each worker holds up to 8 files and its socket 4 MB of results (~40 notices): on Ctrl-C the
    results already sent, waiting in the sockets, were dropped with the workers, though ingest
    promises to write what is parsed (with 2 files a worker, at most one was lost)."""
    import os
    import signal
    import time
    from pathlib import Path

    import duckdb
    import pytest

    from pipeline import ingest as ingest_module

    if not Path("/proc/self/stat").exists():
        pytest.skip("watches the workers through /proc")
    real_collect, interrupted = ingest_module._Supervisor._collect, []

    def collect(self, worker, deliver):
        if not interrupted and all(w.ready for w in self.workers):
            # Every worker has parsed all it holds once none of them uses the CPU any more.
            pids, last = [w.process.pid for w in self.workers], None
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                ticks = [_cpu_ticks(pid) for pid in pids]
                if ticks == last:
                    break
                last = ticks
                time.sleep(1.0)
            interrupted.append(True)
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C
        return real_collect(self, worker, deliver)

    monkeypatch.setattr(ingest_module._Supervisor, "_collect", collect)
    outcomes = []
    with pytest.raises(KeyboardInterrupt):
        ingest_module.ingest([seeds_dir], tmp_path / "x.duckdb", workers=2, on_file=outcomes.append)
    assert interrupted
    with duckdb.connect(str(tmp_path / "x.duckdb"), read_only=True) as con:
        stored = {p for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
    assert stored == {o.path for o in outcomes if o.status == "new"}
    assert len(stored) == len(list(seeds_dir.iterdir()))
