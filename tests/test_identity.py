"""A file's identity (issue 15): nothing counted twice, nothing stale.

The same folder reached from another working directory or through a symlink is the same files;
the same bytes at two paths are one document with two locations; a moved file is not parsed
again; files that are gone are retired by `--prune` or `notices remove`, their rows kept as history.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.ingest import ingest
from tests.conftest import SEED_FILES

runner = CliRunner()


def _copy_seeds(folder: Path, seeds: list[Path] = SEED_FILES) -> Path:
    folder.mkdir(parents=True)
    for seed in seeds:
        shutil.copy(seed, folder / seed.name)
    return folder


def _query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _lead_counts(db: Path) -> dict[str, int]:
    return dict(_query(db, "SELECT unit, sum(items_led)::INT FROM unit_workload GROUP BY unit"))


def _current(db: Path) -> dict[str, str]:
    return dict(_query(db, "SELECT source_path, document_id FROM documents WHERE is_current"))


@pytest.fixture
def folder_and_db(tmp_path) -> tuple[Path, Path, dict[str, int]]:
    folder = _copy_seeds(tmp_path / "notices")
    db = tmp_path / "n.duckdb"
    report = ingest([folder], db, workers=1)
    assert report.counts["new"] == len(SEED_FILES)
    return folder, db, _lead_counts(db)


def test_the_same_folder_from_other_working_directories_and_a_symlink_is_stored_once(folder_and_db, tmp_path,
                                                                                      monkeypatch):
    folder, db, leads = folder_and_db
    link = tmp_path / "elsewhere" / "link"
    link.parent.mkdir()
    link.symlink_to(folder, target_is_directory=True)
    for cwd, path in [(tmp_path, Path("notices")), (folder, Path(".")), (link.parent, Path("link")), ("/", folder)]:
        monkeypatch.chdir(cwd)
        report = ingest([path], db, workers=1)
        assert report.counts["unchanged"] == len(SEED_FILES), (cwd, path, report.counts)
        assert report.counts["new"] == report.counts["duplicate"] == 0
    assert len(_current(db)) == len(SEED_FILES)
    assert _query(db, "SELECT count(*) FROM documents")[0][0] == len(SEED_FILES)
    assert _lead_counts(db) == leads and max(leads.values()) > 0
    assert all(os.path.isabs(p) and Path(p).parent == folder.resolve() for p in _current(db))


def test_the_same_bytes_at_two_paths_are_one_document_with_two_locations(folder_and_db):
    folder, db, leads = folder_and_db
    copy = folder / "copies" / "again.txt"
    copy.parent.mkdir()
    shutil.copy(SEED_FILES[0], copy)
    report = ingest([folder], db, workers=1)
    assert report.counts["duplicate"] == 1 and report.counts["new"] == 0
    assert len(_current(db)) == len(SEED_FILES)
    ((path, doc_id),) = _query(db, "SELECT source_path, document_id FROM duplicate_files")
    assert path == str(copy.resolve())
    assert _current(db)[str((folder / SEED_FILES[0].name).resolve())] == doc_id
    assert _lead_counts(db) == leads  # its tasks are not counted twice
    # Unchanged on the next run: still one duplicate note, nothing new.
    again = ingest([folder], db, workers=1)
    assert again.counts["unchanged"] == len(SEED_FILES) + 1 and again.counts["duplicate"] == 0
    assert _query(db, "SELECT count(*) FROM duplicate_files")[0][0] == 1


def test_a_moved_file_keeps_its_document_and_is_not_parsed_again(folder_and_db):
    folder, db, leads = folder_and_db
    before = _current(db)
    old = folder / SEED_FILES[1].name
    new = folder / "2023" / "renamed.txt"
    new.parent.mkdir()
    old.rename(new)
    report = ingest([folder], db, workers=1)
    assert report.counts["moved"] == 1 and report.counts["new"] == 0 and report.items_added == 0
    after = _current(db)
    assert after[str(new.resolve())] == before[str(old.resolve())]
    assert str(old.resolve()) not in after and len(after) == len(SEED_FILES)
    assert _lead_counts(db) == leads


def test_prune_retires_files_that_are_gone_and_keeps_their_history(folder_and_db, tmp_path):
    folder, db, _ = folder_and_db
    gone = folder / SEED_FILES[2].name
    gone_id = _current(db)[str(gone.resolve())]
    gone.unlink()
    # Without --prune the document stays current: the file may be on a drive not mounted today.
    assert ingest([folder], db, workers=1).counts["removed"] == 0
    assert str(gone.resolve()) in _current(db)
    # A prune of another folder leaves this one alone.
    other = _copy_seeds(tmp_path / "other", SEED_FILES[:1])
    assert ingest([other], db, workers=1, prune=True).counts["removed"] == 0
    report = ingest([folder], db, workers=1, prune=True)
    assert report.counts["removed"] == 1
    assert str(gone.resolve()) not in _current(db)
    # History: the document row stays, not current; its tasks no longer count.
    assert _query(db, "SELECT is_current FROM documents WHERE document_id = ?", [gone_id]) == [(False,)]
    assert _query(db, "SELECT count(*) FROM items i JOIN documents d USING (document_id) WHERE d.is_current "
                      "AND d.document_id = ?", [gone_id])[0][0] == 0
    assert _query(db, "SELECT sum(files_removed) FROM ingest_runs")[0][0] == 1


def test_notices_remove_retires_a_file_or_folder(folder_and_db, tmp_path):
    folder, db, _ = folder_and_db
    one = folder / SEED_FILES[0].name
    result = runner.invoke(app, ["remove", str(one), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "1 documents retired" in result.output
    assert len(_current(db)) == len(SEED_FILES) - 1
    # Nothing stored there: exit 1 with a hint, the database unchanged.
    result = runner.invoke(app, ["remove", str(tmp_path / "nowhere"), "--db", str(db)])
    assert result.exit_code == 1 and "nothing stored at" in result.output
    result = runner.invoke(app, ["remove", str(folder), "--db", str(db)])
    assert result.exit_code == 0 and f"{len(SEED_FILES) - 1} documents retired" in result.output
    assert _current(db) == {}
    # The file is still there: ingesting it again brings its document back.
    assert ingest([folder], db, workers=1).counts["new"] == len(SEED_FILES)


def test_a_duplicate_takes_over_when_the_first_file_is_removed_or_changed(folder_and_db):
    folder, db, leads = folder_and_db
    first = folder / SEED_FILES[0].name
    second, third = folder / "copy1.txt", folder / "copy2.txt"
    shutil.copy(first, second)
    shutil.copy(first, third)
    assert ingest([folder], db, workers=1).counts["duplicate"] == 2
    doc_id = _current(db)[str(first.resolve())]
    # The first file is gone: the document stays current at a duplicate.
    first.unlink()
    report = ingest([folder], db, workers=1, prune=True)
    assert report.counts["removed"] == 1
    current = _current(db)
    assert current.get(str(second.resolve())) == doc_id and len(current) == len(SEED_FILES)
    assert _query(db, "SELECT source_path FROM duplicate_files") == [(str(third.resolve()),)]
    # The file now holding it changes: a new document there, the old bytes stay current at the other copy.
    second.write_text(second.read_text(encoding="utf-8") + "\n附件：新增\n", encoding="utf-8")
    report = ingest([folder], db, workers=1)
    assert report.counts["replaced"] == 1
    current = _current(db)
    assert current[str(third.resolve())] == doc_id and current[str(second.resolve())] != doc_id
    assert _query(db, "SELECT count(*) FROM duplicate_files")[0][0] == 0
    assert len(current) == len(SEED_FILES) + 1


@pytest.mark.parametrize("workers", [1, 2])
def test_copies_in_one_new_batch_are_stored_once(tmp_path, workers):
    folder = _copy_seeds(tmp_path / "notices", SEED_FILES[:2])
    for name in ("a.txt", "b.txt"):
        shutil.copy(SEED_FILES[0], folder / name)
    db = tmp_path / "n.duckdb"
    report = ingest([folder], db, workers=workers)
    assert (report.counts["new"], report.counts["duplicate"]) == (2, 2), report.counts
    assert len(_current(db)) == 2
    assert _query(db, "SELECT count(DISTINCT document_id), count(*) FROM duplicate_files") == [(1, 2)]


def test_force_after_a_move_keeps_one_document(folder_and_db):
    folder, db, leads = folder_and_db
    first = folder / SEED_FILES[0].name
    shutil.copy(first, folder / "zz_copy.txt")
    ingest([folder], db, workers=1)
    first.rename(folder / "moved.txt")
    assert ingest([folder], db, workers=1).counts["moved"] == 1
    ingest([folder], db, workers=1, force=True)
    assert len(_current(db)) == len(SEED_FILES)
    assert _query(db, "SELECT count(*) FROM (SELECT content_hash FROM documents WHERE is_current "
                      "GROUP BY 1 HAVING count(*) > 1)")[0][0] == 0
    assert _lead_counts(db) == leads


def test_a_document_stays_only_at_a_duplicate_that_still_holds_its_bytes(folder_and_db):
    folder, db, _ = folder_and_db
    first = folder / SEED_FILES[0].name
    copy = folder / "zz_copy.txt"
    shutil.copy(first, copy)
    ingest([folder], db, workers=1)
    copy.unlink()  # gone, not pruned; then the first file changes
    first.write_text(first.read_text(encoding="utf-8") + "\n附件：新增\n", encoding="utf-8")
    assert ingest([folder], db, workers=1).counts["replaced"] == 1
    assert len(_current(db)) == len(SEED_FILES) and str(copy.resolve()) not in _current(db)
    assert _query(db, "SELECT count(*) FROM duplicate_files")[0][0] == 0


def test_a_file_replaced_by_a_symlink_is_pruned_and_removed_by_its_own_name(folder_and_db):
    folder, db, _ = folder_and_db
    target, replaced = folder / SEED_FILES[0].name, folder / SEED_FILES[1].name
    old_id = _current(db)[str(replaced.resolve())]
    replaced.unlink()
    replaced.symlink_to(target.name)
    report = ingest([folder], db, workers=1, prune=True)
    assert report.counts["removed"] == 1
    assert old_id not in _current(db).values() and len(_current(db)) == len(SEED_FILES) - 1
    result = runner.invoke(app, ["remove", str(replaced), "--db", str(db)])
    assert result.exit_code == 1  # nothing stored under the link's own name any more
    assert str(target.resolve()) in _current(db)


def test_prune_of_a_folder_emptied_or_deleted_retires_its_documents(folder_and_db):
    folder, db, _ = folder_and_db
    sub = folder / "sub"
    sub.mkdir()
    shutil.copy(next(p for p in Path(SEED_FILES[0]).parent.glob("govcn_*.html")), sub / "page.html")
    assert ingest([sub], db, workers=1).counts["new"] == 1
    shutil.rmtree(sub)
    report = ingest([sub], db, workers=1, prune=True)
    assert report.counts["removed"] == 1 and len(_current(db)) == len(SEED_FILES)


def test_copies_give_the_same_database_with_one_or_two_workers(tmp_path):
    slow = next(p for p in Path(SEED_FILES[0]).parent.glob("pdf_*.pdf"))
    rows = []
    for workers in (1, 2):
        folder = tmp_path / f"w{workers}" / "notices"
        folder.mkdir(parents=True)
        shutil.copy(slow, folder / "a_slow.pdf")
        for name in ("b_copy.txt", "c_copy.txt"):
            shutil.copy(SEED_FILES[0], folder / name)
        db = tmp_path / f"w{workers}.duckdb"
        ingest([folder], db, workers=workers)
        rows.append(sorted((Path(p).name, d) for p, d in _current(db).items())
                    + sorted((Path(p).name, d) for p, d in _query(db, "SELECT source_path, document_id FROM duplicate_files")))
    assert rows[0] == rows[1]
    assert ("b_copy.txt", rows[0][1][1]) in rows[0]  # the first path in order holds the document
