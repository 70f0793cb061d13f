"""Hostile files (issue 15): every file is parsed under limits it cannot escape, and the batch goes on.

Each hostile file is generated here. Bounds on time are generous: they show the
limit acted (seconds, not the minutes the file would take), not how fast this machine is.
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.errors import ReadError
from pipeline.ingest import ingest
from pipeline.limits import WorkerLimits
from pipeline.readers import read_bytes
from tests.conftest import SEED_FILES, docx_with_body


def big_table_page(rows: int) -> bytes:
    """A web page that is one table of short cells: slow and memory-hungry to read (~45 µs, 1.5 KB a row)."""
    cells = "<tr><td>关于</td><td>做好</td><td>工作</td></tr>" * rows
    return f"<html><head><meta charset='utf-8'></head><body><table>{cells}</table></body></html>".encode()


def _folder(tmp_path: Path, hostile: dict[str, bytes]) -> tuple[Path, list[Path]]:
    folder = tmp_path / "notices"
    folder.mkdir()
    good = [Path(shutil.copy(seed, folder / seed.name)) for seed in SEED_FILES[:2]]
    for name, data in hostile.items():
        (folder / name).write_bytes(data)
    return folder, good


def _stored_and_errors(db: Path) -> tuple[set[str], dict[str, tuple[str, str]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {Path(p).name for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
        errors = {
            Path(p).name: (cls, message)
            for p, cls, message in con.execute("SELECT source_path, error_class, message FROM ingest_errors").fetchall()
        }
    return stored, errors


def test_a_file_over_the_wall_time_is_stopped_and_the_batch_goes_on(tmp_path):
    folder, good = _folder(tmp_path, {"slow.html": big_table_page(300_000)})  # ~10 s to read
    db = tmp_path / "x.duckdb"
    started = time.monotonic()
    report = ingest([folder], db, workers=2, limits=WorkerLimits(seconds=1))
    elapsed = time.monotonic() - started
    stored, errors = _stored_and_errors(db)
    assert stored == {p.name for p in good}
    assert errors["slow.html"][0] == "TimedOut" and "--max-seconds" in errors["slow.html"][1]
    assert report.counts["failed"] == 1 and report.exit_code == 1
    assert elapsed < 30


def test_a_file_that_needs_more_memory_than_a_worker_may_use_is_one_error(tmp_path):
    folder, good = _folder(tmp_path, {"greedy.html": big_table_page(200_000)})  # ~300 MB to read
    db = tmp_path / "x.duckdb"
    ingest([folder], db, workers=2, limits=WorkerLimits(memory_mb=160))
    stored, errors = _stored_and_errors(db)
    assert stored == {p.name for p in good}
    assert errors["greedy.html"][0] == "OutOfMemory" and "--max-memory-mb" in errors["greedy.html"][1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry))
    return found


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the worker through /proc")
def test_a_worker_killed_mid_file_is_one_error_row_naming_the_file(tmp_path):
    folder, good = _folder(tmp_path, {"victim.html": big_table_page(300_000)})
    db = tmp_path / "x.duckdb"
    result = {}
    runner = threading.Thread(target=lambda: result.update(report=ingest([folder], db, workers=2)))
    runner.start()
    killed = None
    deadline = time.monotonic() + 60
    while killed is None and time.monotonic() < deadline and runner.is_alive():
        # Workers are children of the forkserver, a child of this process; the busy one is parsing victim.html.
        for server in _children(os.getpid()):
            for worker in _children(server):
                if _cpu_seconds(worker) > 1.0:
                    os.kill(worker, signal.SIGKILL)  # as the OOM killer would
                    killed = worker
        time.sleep(0.1)
    runner.join(120)
    assert killed is not None and not runner.is_alive()
    stored, errors = _stored_and_errors(db)
    assert stored == {p.name for p in good}
    assert errors["victim.html"][0] == "WorkerKilled" and "killed" in errors["victim.html"][1]
    assert result["report"].counts["failed"] == 1


def test_fifos_devices_and_odd_names_are_skipped_or_stored_safely(tmp_path):
    folder, good = _folder(tmp_path, {})
    os.mkfifo(folder / "pipe.txt")
    (folder / "random.txt").symlink_to("/dev/urandom")
    odd = folder / os.fsdecode(b"\xff\xfe-notice.txt")
    odd.write_bytes(SEED_FILES[2].read_bytes())
    db = tmp_path / "x.duckdb"
    outcome = {}
    runner = threading.Thread(target=lambda: outcome.update(report=ingest([folder], db, workers=1)))
    runner.start()
    runner.join(60)
    assert not runner.is_alive(), "the ingest blocked on a FIFO or a device"
    stored, errors = _stored_and_errors(db)
    assert stored == {p.name for p in good} | {"\\xff\\xfe-notice.txt"}
    assert errors["pipe.txt"][0] == "NotAFile" and "FIFO" in errors["pipe.txt"][1]
    assert errors["random.txt"][0] == "NotAFile" and "device" in errors["random.txt"][1]
    assert outcome["report"].counts["skipped"] == 2
    # A second run finds the odd name unchanged (its stored name is its identity).
    again = ingest([folder], db, workers=1)
    assert again.counts["unchanged"] == 3 and again.counts["new"] == 0




_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def test_a_docx_cell_spanning_two_billion_columns_reads_in_bounded_memory():
    body = (
        f"<w:document {_W}><w:body><w:p><w:r><w:t>关于做好春季科普工作的通知</w:t></w:r></w:p>"
        "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"2000000000\"/></w:tcPr>"
        "<w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>"
        "<w:tc><w:p><w:r><w:t>开展科普日活动</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>"
    )
    data = docx_with_body(body)
    assert len(data) < 100_000
    source = read_bytes(Path("span.docx"), data)
    row = source.text.split("\n")[1]
    assert row.split("\t")[0] == "1" and row.endswith("开展科普日活动") and row.count("\t") == 64


def test_a_docx_of_millions_of_empty_paragraphs_is_refused_quickly():
    data = docx_with_body(f"<w:document {_W}><w:body>" + "<w:p/>" * 1_600_000 + "</w:body></w:document>")
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(ReadError, match="paragraphs and tables, far beyond a notice"):
        read_bytes(Path("empty.docx"), data)
    assert time.monotonic() - started < 30


def test_content_that_failed_is_not_parsed_again_until_it_changes_or_is_retried(tmp_path):
    folder, good = _folder(tmp_path, {"empty.txt": b"", "scripts.html": b"<html><body><script>x()</script></body></html>"})
    db = tmp_path / "x.duckdb"
    first = ingest([folder], db, workers=1)
    assert first.counts["failed"] == 2 and first.exit_code == 1
    second = ingest([folder], db, workers=1)
    assert (second.counts["failed"], second.counts["unchanged_failed"], second.counts["unchanged"]) == (0, 2, 2)
    assert second.exit_code == 0  # reported, not parsed again, and no new failure
    assert all("failed before" in f.message for f in second.failures)
    assert ingest([folder], db, workers=1, strict=True).exit_code == 1  # --strict: any failure counts
    (folder / "empty.txt").write_text("关于做好春季科普工作的通知\n各区科协：\n请认真组织实施。\n", encoding="utf-8")
    third = ingest([folder], db, workers=1)
    assert (third.counts["new"], third.counts["unchanged_failed"]) == (1, 1)
    retried = ingest([folder], db, workers=1, retry_failed=True)
    assert (retried.counts["failed"], retried.counts["unchanged_failed"]) == (1, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        hashes = con.execute("SELECT DISTINCT content_hash FROM ingest_errors WHERE source_path LIKE '%scripts.html'")
        assert len(hashes.fetchall()) == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_file_limits_are_changed_by_flag_and_hold_in_the_workers(tmp_path, workers):
    """--file-limit NAME=N reaches the process that reads (a worker, or this one with --workers 1)."""
    from typer.testing import CliRunner

    from cli import app

    folder, good = _folder(tmp_path, {})
    sizes = {p.name: len(p.read_text(encoding="utf-8")) for p in good}
    cut = (min(sizes.values()) + max(sizes.values())) // 2  # the smaller seed fits, the larger does not
    assert min(sizes.values()) < cut < max(sizes.values())
    db = tmp_path / "x.duckdb"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--db", str(db), "--workers", str(workers),
                                      "--file-limit", f"text_chars={cut}"])
    assert result.exit_code == 1, result.output
    stored, errors = _stored_and_errors(db)
    larger = max(sizes, key=sizes.get)
    assert stored == {min(sizes, key=sizes.get)}
    assert "--file-limit text_chars=N raises it" in errors[larger][1]
    # Defaults again in this process afterwards.
    from pipeline import limits

    assert limits.active() == limits.FileLimits()
