"""The CLI end to end: ingest, idempotence, replacement, one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from tests.conftest import RAW, ROOT

runner = CliRunner()
TABLES = ("documents", "sections", "items", "unit_mentions", "attachments", "document_warnings")


def counts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}


def run(*args: str):
    return runner.invoke(app, list(args))


def test_ingest_twice_leaves_the_same_rows(tmp_path, seeds_dir):
    db = tmp_path / "x.duckdb"
    first = run("ingest", str(seeds_dir), "--db", str(db), "--json")
    assert first.exit_code == 0, first.output
    summary = json.loads(first.stdout)
    assert summary["files"]["new"] == 5
    after_first = counts(db)
    assert after_first["documents"] == 5
    assert after_first["items"] == 67 + 42 + 22 + 59 + 261 + 21
    second = run("ingest", str(seeds_dir), "--db", str(db), "--json")
    assert second.exit_code == 0
    assert json.loads(second.stdout)["files"] == {
        "new": 0, "unchanged": 5, "replaced": 0, "failed": 0, "unchanged_failed": 0, "skipped": 0,
            "duplicate": 0, "moved": 0, "removed": 0,
    }
    assert counts(db) == after_first
    forced = run("ingest", str(seeds_dir), "--db", str(db), "--force", "--json")
    assert forced.exit_code == 0
    assert counts(db) == after_first


def test_a_changed_file_replaces_exactly_its_document(tmp_path, seeds_dir):
    folder = tmp_path / "notices"
    shutil.copytree(seeds_dir, folder)
    db = tmp_path / "x.duckdb"
    assert run("ingest", str(folder), "--db", str(db)).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        before = dict(con.execute("SELECT source_path, document_id FROM documents").fetchall())
    target = next(folder.glob("002_*.txt"))
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("22.健全基层科普服务体系。", "22.健全基层科普服务体系（修订）。"), encoding="utf-8")
    result = run("ingest", str(folder), "--db", str(db), "--json")
    assert json.loads(result.stdout)["files"]["replaced"] == 1
    with duckdb.connect(str(db), read_only=True) as con:
        current = dict(con.execute("SELECT source_path, document_id FROM documents WHERE is_current").fetchall())
        changed = [p for p in current if current[p] != before[p]]
        assert len(changed) == 1 and changed[0].endswith(target.name)
        # The old version stays as history, without its rows; the new one has them.
        old_items = con.execute("SELECT count(*) FROM items WHERE document_id = ?", [before[changed[0]]]).fetchone()[0]
        new_text = con.execute(
            "SELECT text FROM items WHERE document_id = ? AND number = 22", [current[changed[0]]]
        ).fetchone()[0]
        assert old_items == 0 and "（修订）" in new_text
        assert con.execute("SELECT count(*) FROM documents").fetchone()[0] == 6


def test_missing_path_is_one_line_error(tmp_path):
    result = run("ingest", str(tmp_path / "nope"), "--db", str(tmp_path / "x.duckdb"))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: no such file or folder: {tmp_path / 'nope'}"


def test_folder_without_notices_is_one_line_error(tmp_path):
    (tmp_path / "readme.md").write_text("hello")
    result = run("ingest", str(tmp_path), "--db", str(tmp_path / "x.duckdb"))
    assert result.exit_code == 2
    assert "no notices" in result.stderr and str(tmp_path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unreadable_files_are_reported_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(next(RAW.glob("000_*.txt")), folder / "good.txt")
    (folder / "garbage.txt").write_bytes(bytes(range(256)) * 40)
    (folder / "empty.txt").write_bytes(b"")
    os.symlink(folder / "gone-away.txt", folder / "vanished.txt")  # dangling: the file disappeared
    db = tmp_path / "x.duckdb"
    result = run("ingest", str(folder), "--db", str(db), "--json")
    assert result.exit_code == 1
    summary = json.loads(result.stdout)
    assert summary["files"]["new"] == 1 and summary["files"]["failed"] == 3
    with duckdb.connect(str(db), read_only=True) as con:
        errors = dict(con.execute("SELECT source_path, message FROM ingest_errors").fetchall())
    # A symlink is stored as the file it names (here gone-away.txt, which does not exist).
    assert {Path(p).name for p in errors} == {"garbage.txt", "empty.txt", "gone-away.txt"}
    assert all(m for m in errors.values())


def test_parse_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(bytes(range(256)) * 40)
    result = run("parse", str(bad))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}: ") and len(result.stderr.strip().splitlines()) == 1
    missing = run("parse", str(tmp_path / "none.txt"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr


def test_parse_prints_deterministic_json():
    path = next(RAW.glob("003_*.txt"))
    first, second = run("parse", str(path)), run("parse", str(path))
    assert first.exit_code == 0 and first.stdout == second.stdout
    doc = json.loads(first.stdout)
    assert doc["doc_number"]["raw"] == "京纲要办发〔2023〕2号"
    assert not Path(doc["source_path"]).is_absolute()


def test_locked_database_is_one_line_error(tmp_path, seeds_dir):
    db = tmp_path / "x.duckdb"
    assert run("ingest", str(seeds_dir), "--db", str(db)).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb,sys,time; c=duckdb.connect({str(db)!r}); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        # --wait 0: fail at once instead of waiting for it (tests/test_concurrency.py waits).
        result = run("ingest", str(seeds_dir), "--db", str(db), "--wait", "0")
        assert result.exit_code == 2
        assert "open in another process" in result.stderr and f"PID {holder.pid}" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        # Commands that read say the same.
        result = run("units", "--db", str(db))
        assert result.exit_code == 2 and f"PID {holder.pid}" in result.stderr
    finally:
        holder.kill()
        holder.wait()


def test_schema_command_prints_the_document_schema():
    result = run("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["title"] == "Document" and "items" in schema["properties"]


def test_help_shows_examples():
    for command in ("parse", "ingest", "check", "schema"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Example: notices" in result.stdout


@pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")
def test_console_script_is_installed():
    exe = Path(sys.executable).parent / "notices"
    assert exe.exists(), "run `make test`, which installs the project"
    result = subprocess.run([str(exe), "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and "ingest" in result.stdout


def test_commands_that_read_open_the_database_read_only(tmp_path, seed_db):
    """A notebook's read-only connection does not block search, units or export, and they can run
    side by side (each opens the file read-only)."""
    db = tmp_path / "x.duckdb"
    shutil.copy(seed_db, db)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         f"import duckdb,time; c=duckdb.connect({str(db)!r}, read_only=True); print('ok', flush=True); time.sleep(30)"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        assert run("search", "应急 科普", "--db", str(db), "-n", "2").exit_code == 0
        assert run("units", "--db", str(db), "--limit", "3").exit_code == 0
        assert run("export", str(tmp_path / "out"), "--db", str(db), "--format", "csv").exit_code == 0
        # A command that writes works beside it too: it writes a copy and publishes it (pipeline/staging.py).
        result = run("renormalize", "--db", str(db), "--wait", "0")
        assert result.exit_code == 0, result.stderr
    finally:
        holder.kill()
        holder.wait()
