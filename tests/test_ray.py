"""The Ray engine (issue 18): `ingest --engine ray` + `notices load` give the database a local ingest gives.

Ray runs locally (ray.init(num_cpus=2)). Each test builds one database by a local ingest and one by
Ray + load from the same files, and compares a content fingerprint of every table
(pipeline.load.table_fingerprints: every column but the run ids and the clock's times). The tests
marked `ray` need the ray extra (`make ray-test` installs it) and skip without it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipeline.ingest import discover, ingest, source_key
from pipeline.load import Parts, load, table_fingerprints

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
REAL = ROOT.parent / "shared" / "corpus" / "real"

# The local ingest to compare with writes the files in discovery order, as `notices load` does. With
# more workers the files reach the writer in whatever order they finish, and the database is not
# always the same: the first document whose mention builds a unit by a jurisdiction rule gives the
# `units` row (宿州市地方金融监督管理局 is `local` read in one 宿州 page, `municipal` in another): a
# 2-worker ingest of the real-corpus sample once differed from load in that row alone (an issue of the
# store, to be fixed there: the row should not depend on which document the writer gets first).
LOCAL_WORKERS = 1

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="the ray extra is not installed (make ray-test installs it)")


def ray_test(test):
    # Ray Data's own DataContext warns about its deprecated settings on first use: not ours to fix.
    return pytest.mark.ray(needs_ray(pytest.mark.filterwarnings("ignore::DeprecationWarning")(test)))


@pytest.fixture(scope="module")
def local_ray():
    import logging

    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    yield ray
    ray.shutdown()


def _through_ray(paths, out: Path, db: Path, **kwargs):
    from pipeline.ray_engine import ingest_to_parquet

    ray_report = ingest_to_parquet([str(p) for p in paths], out, **kwargs)
    return ray_report, load(out, db)


def _assert_same(local_db: Path, ray_db: Path) -> None:
    local, through_ray = table_fingerprints(local_db), table_fingerprints(ray_db)
    differing = [table for table in local if local[table] != through_ray.get(table)]
    assert not differing, f"tables that differ between a local ingest and Ray + load: {differing}"


def _count(db: Path, sql: str):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@ray_test
def test_seeds_through_ray_equal_a_local_ingest_and_a_second_load_changes_nothing(local_ray, tmp_path):
    local_db, ray_db, out = tmp_path / "local.duckdb", tmp_path / "ray.duckdb", tmp_path / "parts"
    local_report = ingest([str(RAW)], local_db, workers=LOCAL_WORKERS)
    ray_report, loaded = _through_ray([RAW], out, ray_db)
    assert ray_report.parsed == 24 and ray_report.failed == 0
    assert loaded.counts["new"] == local_report.counts["new"] == 24
    assert loaded.items_added == local_report.items_added > 700
    _assert_same(local_db, ray_db)
    assert _count(ray_db, "SELECT count(*) FROM task_links")[0][0] > 0  # links resolved at the load's close

    # Again: a second local ingest and a second load of the same parts both find every file unchanged.
    ingest([str(RAW)], local_db, workers=LOCAL_WORKERS)
    again = load(out, ray_db)
    assert again.counts["unchanged"] == 24 and again.counts["new"] == 0 and again.exit_code == 0
    _assert_same(local_db, ray_db)


@ray_test
def test_a_changed_file_is_replaced_and_a_failure_lands_in_ingest_errors(local_ray, tmp_path):
    notices = tmp_path / "notices"
    notices.mkdir()
    for name in ("000_69453124e71ca7c9.txt", "003_b8b4a31499fe38d2.txt", "docx_45a677fa0a40a136.docx",
                 "html_46f43358a5bf2d45.html", "pdf_720a9c9523021efe.pdf"):
        shutil.copy(RAW / name, notices / name)
    shutil.copy(RAW / "003_b8b4a31499fe38d2.txt", notices / "copy_of_003.txt")  # the same bytes twice: a duplicate
    (notices / "damaged.pdf").write_bytes(b"%PDF-1.7\n" + b"\x00garbage" * 50)
    (notices / "ledger.xls").write_bytes(b"not a notice format")  # skipped at discovery
    local_db, ray_db, out = tmp_path / "local.duckdb", tmp_path / "ray.duckdb", tmp_path / "parts"

    ingest([str(notices)], local_db, workers=LOCAL_WORKERS)
    ray_report, loaded = _through_ray([notices], out, ray_db)
    assert ray_report.failed == 1 and ray_report.skipped == 1
    assert loaded.counts["failed"] == 1 and loaded.counts["skipped"] == 1 and loaded.counts["duplicate"] == 1
    assert loaded.exit_code == 1
    errors = _count(ray_db, "SELECT stage, error_class, source_path FROM ingest_errors ORDER BY stage")
    assert [(stage, path.rsplit("/", 1)[1]) for stage, _, path in errors] == [
        ("discover", "ledger.xls"), ("read", "damaged.pdf")]
    _assert_same(local_db, ray_db)

    # The text changes: the next Ray run (into the same folder) and load replace its document;
    # the damaged file, unchanged, is reported as failed before and not recorded again.
    changed = notices / "000_69453124e71ca7c9.txt"
    changed.write_bytes(changed.read_bytes() + "\n抄送：市政府办公厅\n".encode())
    ingest([str(notices)], local_db, workers=LOCAL_WORKERS)
    parts_before = sorted(out.rglob("*.parquet"))
    ray_report, loaded = _through_ray([notices], out, ray_db)
    assert loaded.counts["replaced"] == 1 and loaded.counts["unchanged"] == 5
    assert loaded.counts["unchanged_failed"] == 1 and loaded.counts["failed"] == 0
    assert len(sorted(out.rglob("*.parquet"))) <= len(parts_before)  # the run before's parts were cleared
    _assert_same(local_db, ray_db)


@ray_test
def test_a_worker_killed_mid_task_is_retried_and_the_database_is_the_same(local_ray, tmp_path):
    marker = tmp_path / "killed-once"

    def die_once(path: str) -> None:
        # In a Ray worker: the first file it parses kills the worker process (as the OOM killer
        # would); Ray runs the task again, and then the marker is there.
        if not marker.exists():
            marker.write_text(path)
            os._exit(1)

    local_db, ray_db, out = tmp_path / "local.duckdb", tmp_path / "ray.duckdb", tmp_path / "parts"
    ingest([str(RAW)], local_db, workers=LOCAL_WORKERS)
    ray_report, loaded = _through_ray([RAW], out, ray_db, before_parse=die_once)
    assert marker.exists(), "the worker was not killed: the test proves nothing"
    assert ray_report.parsed == 24 and ray_report.files == 24  # no file lost, none twice
    assert loaded.counts["new"] == 24
    _assert_same(local_db, ray_db)


def _real_sample(folder: Path) -> Path:
    """The real corpus without its largest PDFs (scans read by OCR take minutes on 2 cores): every
    other format, the gov.cn pages, the files that fail, the files skipped at discovery."""
    sample = folder / "real"
    shutil.copytree(REAL, sample, ignore=lambda d, names: [
        n for n in names if n.endswith(".pdf") and (Path(d) / n).stat().st_size > 300_000])
    return sample


@ray_test
@pytest.mark.skipif(not REAL.is_dir(), reason="../shared/corpus/real is absent")
def test_real_notices_through_ray_equal_a_local_ingest(local_ray, tmp_path):
    sample = _real_sample(tmp_path)
    local_db, ray_db, out = tmp_path / "local.duckdb", tmp_path / "ray.duckdb", tmp_path / "parts"
    local_report = ingest([str(sample)], local_db, workers=LOCAL_WORKERS)
    ray_report, loaded = _through_ray([sample], out, ray_db)
    assert loaded.counts == local_report.counts
    assert loaded.counts["new"] > 60 and loaded.counts["skipped"] >= 4 and loaded.counts["failed"] >= 2
    _assert_same(local_db, ray_db)
    # load takes the files in a local ingest's order (skipped ones first, then as discovered): which
    # document comes first decides the `units` row a jurisdiction rule builds from two notices (three of
    # these 宿州 pages build 宿州市地方金融监督管理局, at two levels). Ray's parts come in any order.
    files, others = discover([str(sample)])
    in_load = [record.path for record in Parts(out).records()]
    assert in_load[len(others):] == [source_key(f) for f in files] and len(in_load) == len(files) + len(others)


# --- one-line errors and the default install (no Ray needed) ------------------------------


def _notices(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import cli; cli.main()", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_the_default_commands_never_import_ray_or_pyarrow(tmp_path):
    code = (
        "import sys, cli\n"
        "from pipeline.ingest import ingest\n"
        f"ingest([{str(RAW / '000_69453124e71ca7c9.txt')!r}], {str(tmp_path / 'x.duckdb')!r}, workers=1)\n"
        "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'pyarrow')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_ray_mistakes_are_one_line(tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "thesis.docx").write_bytes(b"mine")
    cases = [
        (["ingest", str(RAW), "--engine", "ray"], "give --out DIR"),
        (["ingest", str(RAW), "--engine", "ray", "--out", str(tmp_path / "o"), "--prune"], "not with --engine ray"),
        (["load", str(tmp_path / "nothing"), "--db", str(tmp_path / "db.duckdb")], "no such folder"),
        (["load", str(taken), "--db", str(tmp_path / "db.duckdb")], "has no manifest.json"),
    ]
    if importlib.util.find_spec("ray") is not None:  # else every --engine ray run stops at "install Ray"
        a_file = tmp_path / "a_file"
        a_file.write_text("")
        cases.append((["ingest", str(RAW), "--engine", "ray", "--out", str(taken)], "holds other files"))
        cases.append((["ingest", str(RAW), "--engine", "ray", "--out", str(a_file)], "output folder"))
        for address in ("ray://127.0.0.1:1", "127.0.0.1:1"):  # nothing listens: fails at once, not after minutes
            cases.append((["ingest", str(RAW), "--engine", "ray", "--out", str(tmp_path / "o"), "--address", address],
                          f"cannot reach the Ray cluster at {address}"))
    for args, words in cases:
        done = _notices(*args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and lines[0].startswith("error: "), (args, done.stderr)
    assert (taken / "thesis.docx").read_bytes() == b"mine"  # a folder of other files is never cleared


def test_the_engine_without_ray_says_how_to_install_it(tmp_path):
    # A Python where `import ray` fails, as in the default install.
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "ray.py").write_text("raise ImportError('No module named ray')\n")
    env = {**os.environ, "PYTHONPATH": f"{blocker}{os.pathsep}{ROOT}"}
    done = subprocess.run([sys.executable, "-c", "import cli; cli.main()", "ingest", str(RAW), "--engine", "ray",
                           "--out", str(tmp_path / "parts")], cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip() == "error: the Ray engine needs Ray: install it with pip install -e '.[ray]'"
