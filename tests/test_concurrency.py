"""Reading the database while an ingest runs (pipeline/staging.py).

Readers open FILE read-only and see the last published state, never refused; a reader keeps
the snapshot it opened; a writer waits for another writer and for a read-write connection;
a killed ingest leaves FILE at its last published state and the next run completes.
Readers and holders are separate processes, as a notebook or DBeaver would be.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import BATCH_DOCUMENTS, ingest
from pipeline.staging import staging_path
from tests.conftest import RAW, ROOT, SEED_FILES

# A separate process that reads FILE read-only and prints each current document with its item count.
READ_DOCUMENTS = """
import duckdb, json, sys
with duckdb.connect(sys.argv[1], read_only=True) as con:
    rows = con.execute("SELECT d.source_path, count(i.item_key) FROM documents d LEFT JOIN items i USING (document_id) "
                       "WHERE d.is_current GROUP BY 1").fetchall()
print(json.dumps(dict(rows)))
"""

# A process that holds a connection to FILE (read-only or read-write, argv[2]) until its stdin says
# "close"; "count" prints the current documents its connection sees.
HOLDER = """
import duckdb, sys
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "ro")
print("open", flush=True)
for line in sys.stdin:
    if line.strip() == "count":
        print(con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0], flush=True)
    elif line.strip() == "reopen":
        con.close()
        con = duckdb.connect(sys.argv[1], read_only=True)
        print("open", flush=True)
    else:
        break
con.close()
"""


def _published(db: Path) -> dict[str, int]:
    """What a reader in another process sees now: current documents and their item counts."""
    result = subprocess.run([sys.executable, "-c", READ_DOCUMENTS, str(db)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr  # never refused
    return json.loads(result.stdout)


def _notices(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def _start_notices(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


class Holder:
    """A process holding a connection to the database (read-only or read-write)."""

    def __init__(self, db: Path, mode: str):
        self.process = subprocess.Popen([sys.executable, "-c", HOLDER, str(db), mode], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        assert self.process.stdout.readline().strip() == "open"
        self.pid = self.process.pid

    def ask(self, command: str) -> str:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("close\n")
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def seeds_db(tmp_path, seed_db) -> Path:
    db = tmp_path / "notices.duckdb"
    shutil.copy(seed_db, db)
    return db


def test_a_reader_during_an_ingest_sees_the_last_published_state(tmp_path):
    """Mid-run (from the ingest's own progress callback), separate processes read the file: a
    read-only connection, `notices search` and `notices units`. Each sees exactly the batches
    published so far, every document whole, and none is refused."""
    db = tmp_path / "notices.duckdb"
    final = {}
    seen: list[tuple[int, dict[str, int]]] = []
    cli_reads = []

    def on_file(outcome) -> None:
        done = len(seen) + 1
        if done % 4 == 1 or done % BATCH_DOCUMENTS == 0:  # a few points of each batch: a reader is a process
            seen.append((done, _published(db)))
        else:
            seen.append((done, None))
        if done == BATCH_DOCUMENTS + 1:
            cli_reads.append(_notices("search", "科普", "--db", str(db), "-n", "3"))
            cli_reads.append(_notices("units", "--db", str(db), "--limit", "3"))

    folder = tmp_path / "notices"  # the seeds, and copies of the text ones: more than one batch, fewer than two
    shutil.copytree(RAW, folder)
    for n in range(BATCH_DOCUMENTS + 8 - len(list(folder.iterdir()))):
        seed = SEED_FILES[n % len(SEED_FILES)]
        (folder / f"copy{n:03d}_{seed.name}").write_bytes(seed.read_bytes() + f"\n抄送：副本{n}\n".encode())
    report = ingest([folder], db, workers=1, publish_every=0, on_file=on_file)
    assert report.exit_code == 0 and report.counts["new"] == len(seen) > BATCH_DOCUMENTS
    final = _published(db)
    assert len(final) == len(seen)
    observed = [(done, state) for done, state in seen if state is not None]
    for done, state in observed:
        # Published after each batch (--publish-every 0): the batches finished before this file's.
        assert len(state) == (done - 1) // BATCH_DOCUMENTS * BATCH_DOCUMENTS, (done, len(state))
        assert all(final[path] == items for path, items in state.items())  # whole documents only
    assert {len(state) for _, state in observed} == {0, BATCH_DOCUMENTS}
    search, units = cli_reads
    assert search.returncode == 0 and " 1. " in search.stdout, search.stderr
    assert units.returncode == 0 and "unit" in units.stdout.splitlines()[0], units.stderr


def test_a_reader_keeps_its_snapshot_and_a_new_one_sees_the_ingest(seeds_db):
    with Holder(seeds_db, "ro") as notebook:
        assert notebook.ask("count") == str(len(SEED_FILES))
        result = _notices("ingest", str(RAW), "--db", str(seeds_db), "--json", "--wait", "0")
        assert result.returncode == 0, result.stderr  # the open read-only connection holds nothing up
        added = json.loads(result.stdout)["files"]["new"]
        assert added > 0
        assert notebook.ask("count") == str(len(SEED_FILES))  # the state it opened
        assert len(_published(seeds_db)) == len(SEED_FILES) + added  # a reader opened after the publish
        assert notebook.ask("reopen") == "open" and notebook.ask("count") == str(len(SEED_FILES) + added)
        # A command that writes publishes beside the reader too.
        assert _notices("renormalize", "--db", str(seeds_db), "--wait", "0").returncode == 0
        assert _notices("remove", str(SEED_FILES[0]), "--db", str(seeds_db), "--wait", "0").returncode == 0
        assert notebook.ask("count") == str(len(SEED_FILES) + added)
    assert len(_published(seeds_db)) == len(SEED_FILES) + added - 1
    assert not staging_path(seeds_db).exists()


def test_an_ingest_waits_for_a_read_write_connection_then_proceeds(seeds_db):
    with Holder(seeds_db, "rw") as dbeaver:
        run = _start_notices("ingest", str(RAW), "--db", str(seeds_db), "--json")
        message = run.stderr.readline()  # the ingest says it waits, and for whom
        assert "waiting" in message and f"PID {dbeaver.pid}" in message and "read_only=True" in message, message
        assert run.poll() is None
        dbeaver.close()
        out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    assert json.loads(out)["files"]["new"] == len(list(RAW.iterdir())) - len(SEED_FILES)


def test_an_ingest_gives_up_after_wait_in_one_line(seeds_db):
    before = _published(seeds_db)
    with Holder(seeds_db, "rw") as dbeaver:
        result = _notices("ingest", str(RAW), "--db", str(seeds_db), "--wait", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    waiting, error = result.stderr.strip().splitlines()
    assert waiting.startswith(f"{seeds_db}: waiting up to 1 s")
    assert error.startswith(f"error: {seeds_db}: the database is open in another process")
    assert f"PID {dbeaver.pid}" in error and "--wait SECONDS" in error
    assert _published(seeds_db) == before and not staging_path(seeds_db).exists()


def test_a_second_ingest_waits_for_the_first(seeds_db):
    """The first ingest is held (it waits for a read-write connection) while holding the writer's lock:
    the second waits for it, naming its PID, and both complete once it is let go."""
    with Holder(seeds_db, "rw") as dbeaver:
        first = _start_notices("ingest", str(RAW), "--db", str(seeds_db), "--json")
        assert "waiting" in first.stderr.readline()
        second = _start_notices("ingest", str(RAW), "--db", str(seeds_db), "--json")
        message = second.stderr.readline()
        assert f"waiting up to 300 s for PID {first.pid}" in message and "writing it" in message, message
        dbeaver.close()
        out_first, err_first = first.communicate(timeout=120)
        out_second, err_second = second.communicate(timeout=120)
    assert first.returncode == 0 and second.returncode == 0, (err_first, err_second)
    new = len(list(RAW.iterdir())) - len(SEED_FILES)
    assert json.loads(out_first)["files"]["new"] == new
    assert json.loads(out_second)["files"] == {**json.loads(out_second)["files"], "new": 0, "unchanged": new + len(SEED_FILES)}
    # A second writer that may not wait fails at once in one line, naming the first.
    with Holder(seeds_db, "rw"):
        first = _start_notices("ingest", str(RAW), "--db", str(seeds_db), "--json")
        assert "waiting" in first.stderr.readline()
        result = _notices("renormalize", "--db", str(seeds_db), "--wait", "0")
        assert result.returncode == 2
        assert result.stderr.strip().splitlines() == [
            f"error: {seeds_db}: another notices command is writing this database (PID {first.pid}: cli.py ingest); "
            "run this one when it has finished, or give --wait SECONDS (waited 0 s)"]
    first.wait(timeout=120)


def test_a_killed_ingest_leaves_the_last_published_state_and_the_next_run_completes(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    count = 6 * BATCH_DOCUMENTS
    for n in range(count):  # distinct contents: each is a document
        seed = SEED_FILES[n % len(SEED_FILES)]
        (folder / f"{n:03d}_{seed.name}").write_bytes(seed.read_bytes() + f"\n抄送：副本{n}\n".encode())
    db = tmp_path / "notices.duckdb"
    run = _start_notices("ingest", str(folder), "--db", str(db), "--workers", "1", "--publish-every", "0", "--json")
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # until a batch is published (a reader sees it)
            if db.exists():
                with duckdb.connect(str(db), read_only=True) as con:
                    if con.execute("SELECT count(*) FROM documents").fetchone()[0]:
                        break
            time.sleep(0.02)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.communicate()
    assert run.returncode == -signal.SIGKILL
    published = _published(db)  # FILE opens, at a published state: whole batches, whole documents
    assert 0 < len(published) < count and len(published) % BATCH_DOCUMENTS == 0
    result = _notices("ingest", str(folder), "--db", str(db), "--json")
    assert result.returncode == 0, result.stderr
    files = json.loads(result.stdout)["files"]
    assert files["unchanged"] == len(published) and files["new"] == count - len(published)
    final = _published(db)
    assert len(final) == count and all(final[path] == items for path, items in published.items())
    assert not staging_path(db).exists()


def test_a_database_reached_through_a_symlink_is_published_where_it_lives(tmp_path, seed_db):
    (tmp_path / "disk").mkdir()
    real = tmp_path / "disk" / "notices.duckdb"
    shutil.copy(seed_db, real)
    link = tmp_path / "notices.duckdb"
    link.symlink_to(real)
    report = ingest([next(RAW.glob("govcn_*.html"))], link, workers=1)
    assert report.counts["new"] == 1
    assert link.is_symlink() and len(_published(real)) == len(SEED_FILES) + 1
    assert sorted(p.name for p in real.parent.iterdir()) == ["notices.duckdb", "notices.duckdb.lock"]


def test_ctrl_c_during_a_publish_keeps_what_was_written_and_closes_the_run(tmp_path, monkeypatch):
    import os
    import signal as signals

    import pipeline.staging as staging
    from pipeline.ingest import ingest

    folder = tmp_path / "n"
    folder.mkdir()
    for path in sorted((ROOT / "data" / "raw").iterdir()):
        shutil.copy(path, folder)
    db = tmp_path / "n.duckdb"
    real_fsync, calls = staging._fsync, []

    def fsync_then_ctrl_c(path):  # Ctrl-C while a publish has closed its connection and syncs the file
        calls.append(path)
        if len(calls) == 2:
            os.kill(os.getpid(), signals.SIGINT)
        return real_fsync(path)

    monkeypatch.setattr(staging, "_fsync", fsync_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], db, workers=1, publish_every=0)
    with duckdb.connect(str(db), read_only=True) as con:
        documents = con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0]
        runs = con.execute("SELECT count(*), count(finished_at) FROM ingest_runs").fetchone()
    assert documents > 0 and runs == (1, 1)
    assert not Path(f"{db}.staging").exists()
