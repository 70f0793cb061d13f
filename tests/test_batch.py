"""Batch ingest: good files in, each bad file one clear ingest_errors row, interruptions lose nothing."""

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
from tests.conftest import RAW, ROOT, SEED_FILES, SHARED
from tests.fixture_files import make_pdf, zip_bomb

GENERATED = SHARED / "corpus" / "generated"



# name → (content maker, words the ingest_errors message must contain)
BAD = {
    "empty.txt": (lambda: b"", "empty"),
    "garbage.txt": (lambda: bytes(range(256)) * 40, "binary"),
    "huge.txt": (lambda: (RAW / SEED_FILES[3].name).read_bytes() * 700, "far beyond a notice"),  # ~55 MB
    "truncated.pdf": (lambda: make_pdf(["Some text"])[:200], "not a readable PDF"),
    "locked.pdf": (lambda: make_pdf(["Locked"], user_password=b"secret"), "open password"),
    "scan.pdf": (lambda: make_pdf([None]), "no text layer"),
    "not-a-zip.docx": (lambda: b"just text, not a zip archive\n" * 20, "not a valid .docx"),
    "bomb.docx": (zip_bomb, "zip bomb"),
    "old.doc": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "convert it to .docx"),
}


def _good_files(folder: Path) -> list[Path]:
    """The seeds (txt, and pdf/docx where ../shared is present) plus good edge cases."""
    good = []
    for seed in SEED_FILES:
        good.append(Path(shutil.copy(seed, folder / seed.name)))
        for fmt in ("pdf", "docx"):
            rendering = GENERATED / f"{seed.stem}.{fmt}"
            if not rendering.exists():  # a clean clone: the renderings kept in the repo
                rendering = ROOT / "tests" / "fixtures" / "renderings" / f"{seed.stem}.{fmt}"
            if rendering.exists():
                good.append(Path(shutil.copy(rendering, folder / rendering.name)))
    text = SEED_FILES[0].read_text(encoding="utf-8")
    odd = folder / "路径 带 空格" / "中文 名称.txt"
    odd.parent.mkdir()
    odd.write_text(text.replace("任务台账", "任务台账（副本）"), encoding="utf-8")
    (folder / "gb18030.txt").write_bytes(SEED_FILES[2].read_text(encoding="utf-8").encode("gb18030"))
    (folder / "utf16.txt").write_bytes(SEED_FILES[4].read_text(encoding="utf-8").encode("utf-16"))
    (folder / "no-items.txt").write_text("北京市科学技术协会\n关于召开会议的通知\n各区科协：\n请准时参加。\n", encoding="utf-8")
    good += [odd, folder / "gb18030.txt", folder / "utf16.txt", folder / "no-items.txt"]
    return good


def test_mixed_folder_good_files_in_each_bad_file_one_clear_row(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    good = _good_files(folder)
    for name, (make, _) in BAD.items():
        (folder / name).write_bytes(make())
    (folder / "loop").symlink_to(folder, target_is_directory=True)  # a symlink loop: not followed
    (folder / "readme.md").write_text("# not a notice", encoding="utf-8")
    db = tmp_path / "x.duckdb"

    result = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", str(folder), "--db", str(db), "--json", "--workers", "2"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {r[0] for r in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
        errors = con.execute("SELECT source_path, stage, error_class, message FROM ingest_errors").fetchall()
    assert {Path(p).name for p in stored} == {p.name for p in good}
    by_file: dict[str, list] = {}
    for path, stage, error_class, message in errors:
        by_file.setdefault(Path(path).name, []).append((stage, error_class, message))
    for name, (_, words) in BAD.items():
        assert len(by_file[name]) == 1, name
        stage, _, message = by_file[name][0]
        assert words in message and "\n" not in message, (name, message)
    assert by_file["readme.md"][0][:2] == ("discover", "UnsupportedFormat")
    # The summary counts are the database's.
    assert summary["files"]["new"] == len(stored) == len(good)
    assert summary["files"]["failed"] == len(BAD) == sum(1 for e in errors if e[1] != "discover")
    assert summary["files"]["skipped"] == 1


def test_a_file_that_disappears_mid_run_is_one_error(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    for seed in SEED_FILES:
        shutil.copy(seed, folder / seed.name)
    doomed = folder / SEED_FILES[-1].name
    report = ingest([folder], tmp_path / "x.duckdb", workers=1, on_start=lambda total: doomed.unlink())
    assert report.counts["new"] == 4 and report.counts["failed"] == 1
    assert "cannot read the file" in report.failures[0].message


def test_unreadable_file_is_one_error(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    folder = tmp_path / "notices"
    folder.mkdir()
    locked = Path(shutil.copy(SEED_FILES[0], folder / "locked.txt"))
    locked.chmod(0)
    report = ingest([folder], tmp_path / "x.duckdb", workers=1)
    assert report.counts["failed"] == 1 and "Permission denied" in report.failures[0].message


def test_strict_mode_turns_warnings_into_failures(tmp_path):
    report = ingest([SEED_FILES[0]], tmp_path / "x.duckdb", workers=1, strict=True)
    # Seed 000 is a bare task ledger: no number, issuer or date, each a warning.
    assert report.counts["failed"] == 1 and report.failures[0].message.startswith("--strict:")


def test_glob_selects_files(tmp_path, seeds_dir):
    report = ingest([seeds_dir], tmp_path / "x.duckdb", workers=1, glob="00[12]_*")
    assert report.counts["new"] == 2


def test_one_and_two_workers_give_the_same_database(tmp_path, seeds_dir):
    one, two = tmp_path / "one.duckdb", tmp_path / "two.duckdb"
    ingest([seeds_dir], one, workers=1)
    ingest([seeds_dir], two, workers=2)
    assert fingerprint(one) == fingerprint(two)


# --- interruptions -----------------------------------------------------------------

CONTENT_TABLES = [
    "documents", "document_issuers", "attachments", "sections", "items", "unit_mentions",
    "item_tokens", "document_warnings", "units", "unit_aliases", "passages", "passage_tokens", "citations",
    "task_links",
]


def fingerprint(db: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-free hash of every content table (run bookkeeping left out).

    Floating-point values are rounded to 9 decimals: a task link's BM25 score is a sum, whose last
    bits depend on the order DuckDB adds its terms in, and so on the order rows were written.
    """
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table in CONTENT_TABLES:
            columns = [
                f"round({name}, 9)" if kind == "DOUBLE" else name
                for name, kind, *_ in con.execute(f"DESCRIBE {table}").fetchall()
                if name not in ("run_id", "ingested_at")
            ]
            out[table] = con.execute(
                f"SELECT count(*), coalesce(sum(hash(s)::HUGEINT), 0) FROM (SELECT {', '.join(columns)} FROM {table}) s"
            ).fetchone()
    return out


@pytest.fixture(scope="module")
def batch_of_200(tmp_path_factory) -> tuple[Path, dict]:
    """200 distinct notices made from the seeds, and the database of an uninterrupted ingest."""
    folder = tmp_path_factory.mktemp("batch") / "notices"
    folder.mkdir()
    small = [s for s in SEED_FILES if not s.name.startswith("003")]  # the quick ones
    for n in range(200):
        seed = small[n % len(small)]
        text = seed.read_text(encoding="utf-8") + f"\n\n抄送：测试副本{n}\n"
        (folder / f"{n:03d}_{seed.name}").write_text(text, encoding="utf-8")
    clean = folder.parent / "clean.duckdb"
    _cli("ingest", str(folder), "--db", str(clean), "-q")
    return folder, fingerprint(clean)


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cli", *args], capture_output=True, text=True, cwd=ROOT, timeout=600)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "Ctrl-C"])
def test_interrupted_batch_then_rerun_equals_an_uninterrupted_run(batch_of_200, tmp_path, sig):
    folder, expected = batch_of_200
    db = tmp_path / "x.duckdb"
    # cwd=ROOT and the same folder path: stored paths are the same as in the clean run.
    process = subprocess.Popen(
        # --publish-every 0: every batch written is published at once, so a kill keeps them (pipeline/staging.py).
        [sys.executable, "-m", "cli", "ingest", str(folder), "--db", str(db), "-v", "--workers", "2", "--publish-every", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )
    written = 0
    deadline = time.monotonic() + 300
    for line in process.stderr:  # one line per file with -v
        written += line.startswith("new ")
        # Files are reported when their batch is written, just before it is published: halfway
        # through the second batch's lines, the first batch is published.
        if written >= BATCH_DOCUMENTS * 3 // 2 or time.monotonic() > deadline:
            break
    process.send_signal(sig)
    process.wait(timeout=120)
    err = process.stderr.read()  # workers end with the main process, so the pipe closes
    if sig == signal.SIGINT:
        assert process.returncode == 130
        assert "run the same command again to resume" in err
    else:
        assert process.returncode == -signal.SIGKILL
    with duckdb.connect(str(db), read_only=True) as con:
        partial = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert 0 < partial < 200  # really interrupted mid-batch
    rerun = _cli("ingest", str(folder), "--db", str(db), "--json")
    assert rerun.returncode == 0, rerun.stderr
    summary = json.loads(rerun.stdout)
    assert summary["files"]["unchanged"] == partial and summary["files"]["new"] == 200 - partial
    assert fingerprint(db) == expected


def test_an_unchanged_rerun_starts_no_worker(tmp_path, seeds_dir, monkeypatch):
    # Starting the fork server (the parsing code, jieba's table) costs about a second: a re-run
    # that finds nothing new must not pay it.
    from pipeline import ingest as ingest_module

    db = tmp_path / "x.duckdb"
    first = ingest([seeds_dir], db, workers=2)
    monkeypatch.setattr(ingest_module._Supervisor, "_start", lambda self: pytest.fail("a worker was started"))
    again = ingest([seeds_dir], db, workers=2)
    assert again.counts["unchanged"] == first.counts["new"] > 0
