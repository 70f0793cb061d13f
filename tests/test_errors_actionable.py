"""Errors a person can act on (issue 15): a full disk, a damaged database, bad numbers.

Each is one line naming the file and what to do, exit code 2, no traceback; the database
stays valid and keeps what was stored before.
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.ingest import default_workers
from tests.conftest import RAW, ROOT, SEED_FILES

runner = CliRunner()


def _notices(*args: str, file_size_limit: int | None = None) -> subprocess.CompletedProcess:
    """The CLI in a process of its own; with `file_size_limit`, no file it writes may grow past
    that many bytes: writes fail as on a full disk (EFBIG, the signal ignored as a shell would)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))

    return subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=300,
        preexec_fn=limit if file_size_limit else None,
    )


def _one_line_error(result, *phrases: str) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert all(p in lines[0] for p in phrases), lines[0]
    return lines[0]


def _counts(db: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "SELECT (SELECT count(*) FROM documents WHERE is_current), (SELECT count(*) FROM items), "
            "(SELECT count(*) FROM ingest_runs WHERE finished_at IS NULL)"
        ).fetchone()


@pytest.fixture
def seed_copy(tmp_path, seed_db) -> Path:
    db = tmp_path / "notices.duckdb"
    shutil.copy(seed_db, db)
    return db


def test_a_full_disk_during_an_ingest_is_one_line_and_keeps_what_was_stored(tmp_path, seed_copy):
    before = _counts(seed_copy)
    folder = tmp_path / "more"
    folder.mkdir()
    for path in sorted(RAW.glob("govcn_*.html")) + sorted(RAW.glob("docx_*.docx")):
        shutil.copy(path, folder / path.name)
    # Each file (the database, its write-ahead log) may grow to 64 KB: room for a run row, not for documents.
    result = _notices("ingest", str(folder), "--db", str(seed_copy), "--workers", "1",
                      file_size_limit=64 * 1024)
    _one_line_error(result, str(seed_copy), "cannot write the database", "free space")
    documents, items, unfinished = _counts(seed_copy)
    assert (documents, items) == before[:2]  # the seeds intact, nothing half-written
    assert unfinished == 0  # the run row is closed
    # With room again, the same command goes on.
    again = _notices("ingest", str(folder), "--db", str(seed_copy), "--workers", "1", "--quiet")
    assert again.returncode == 0, again.stderr
    assert _counts(seed_copy)[0] == before[0] + len(list(folder.iterdir()))


def test_a_full_disk_during_an_export_leaves_no_cut_file(tmp_path, seed_copy):
    out = tmp_path / "export"
    result = _notices("export", str(out), "--db", str(seed_copy), "--format", "csv", file_size_limit=32 * 1024)
    line = _one_line_error(result, "cannot write", "export to another folder")
    assert str(out) in line
    written = sorted(p.name for p in out.iterdir())
    assert not [name for name in written if "partial" in name]
    # Each file left is whole: as long as a full export's.
    full = tmp_path / "full"
    assert _notices("export", str(full), "--db", str(seed_copy), "--format", "csv").returncode == 0
    for name in written:
        assert (out / name).read_bytes() == (full / name).read_bytes()


def test_a_damaged_database_block_is_one_line_for_every_command(tmp_path, seed_copy):
    damaged = tmp_path / "damaged.duckdb"
    shutil.copy(seed_copy, damaged)
    # A block of each table the commands below read (documents: every command; unit_mentions: units,
    # export, ingest; the word tables: search). A fixed block would move with the layout (the staging
    # file's first publish, new tables).
    with duckdb.connect(str(damaged), read_only=True) as con:
        blocks = [con.execute(f"SELECT min(block_id) FROM pragma_storage_info('{table}') WHERE block_id >= 0")
                  .fetchone()[0] for table in ("documents", "unit_mentions", "item_tokens", "passage_tokens")]
    with open(damaged, "r+b") as f:  # blocks of 256 KB after DuckDB's three 4 KB headers
        for block in sorted(set(blocks)):
            f.seek(3 * 4096 + block * 256 * 1024 + 100)
            f.write(b"\xff" * 64)
    for args in (["units"], ["search", "科普"], ["export", str(tmp_path / "out")], ["ingest", str(SEED_FILES[0]), "--force"]):
        result = _notices(*args, "--db", str(damaged))
        _one_line_error(result, str(damaged), "damaged", "restore it from a backup")


@pytest.mark.parametrize("args", [
    ["search", "科普", "--limit", "-3"], ["search", "科普", "-n", "0"], ["units", "--limit", "-1"],
    ["ingest", ".", "--workers", "0"], ["ingest", ".", "-w", "-2"],
])
def test_negative_counts_are_a_usage_error(args, seed_copy):
    result = runner.invoke(app, [*args, "--db", str(seed_copy)])
    assert result.exit_code == 2 and result.exception is None or isinstance(result.exception, SystemExit)
    assert ">=" in result.output or "greater than or equal" in result.output


def test_more_workers_than_cores_are_capped_with_a_note(tmp_path, seeds_dir):
    many = default_workers() * 32
    result = runner.invoke(app, ["ingest", str(seeds_dir), "--db", str(tmp_path / "x.duckdb"),
                                 "--workers", str(many), "--json"])
    assert result.exit_code == 0, result.output
    import json

    report = json.loads(result.stdout)
    assert report["workers"] == default_workers()
    assert report["notes"] == [f"--workers {many} is more than the {default_workers()} cores this process may use; "
                               f"using {default_workers()}"]
    assert report["files"]["new"] == len(SEED_FILES)
    assert os.path.exists(tmp_path / "x.duckdb")


def test_an_export_for_duckdb_1_holds_the_whole_database_in_its_storage_format(seed_db, tmp_path):
    """README: `export --format duckdb1` gives a file DuckDB 1.0 and later open (checked by hand with
    DuckDB 1.4.1: every table, view and search_items); the ingest's own file needs DuckDB 2.0."""
    result = runner.invoke(app, ["export", str(tmp_path / "out"), "--db", str(seed_db), "--format", "duckdb1"])
    assert result.exit_code == 0, result.output
    copy = tmp_path / "out" / "notices.duckdb"
    with duckdb.connect(str(copy), read_only=True) as con:
        (tags,) = con.execute("SELECT tags FROM duckdb_databases() WHERE database_name = 'notices'").fetchone()
        macro = con.execute("SELECT macro_definition FROM duckdb_functions() WHERE function_name = 'search_items'").fetchone()
        hits = con.execute("SELECT count(*) FROM search_items('应急 科普')").fetchone()[0]
        comment = con.execute("SELECT comment FROM duckdb_columns() WHERE table_name = 'items' "
                              "AND column_name = 'item_key'").fetchone()[0]
    with duckdb.connect(str(seed_db), read_only=True) as con:
        assert hits == con.execute("SELECT count(*) FROM search_items('应急 科普')").fetchone()[0] > 0
    assert tags["storage_version"] == "v1.0.0+"
    assert comment
    # DuckDB 1.x cannot read a table macro with CTEs that 2.0 wrote.
    assert macro is not None and " WITH " not in str(macro[0]).upper()
    assert not list((tmp_path / "out").glob(".*partial*"))


def test_a_usage_error_from_the_console_script_is_one_line(seed_copy):
    result = _notices("search", "科普", "-n", "-3", "--db", str(seed_copy))
    _one_line_error(result, "--limit", "greater than or equal to 1", "notices search --help")
    result = _notices("ingest", "--workers", "0", ".", "--db", str(seed_copy))
    _one_line_error(result, "--workers", "notices ingest --help")
