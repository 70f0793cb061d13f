"""The DuckDB file: search, export, schema migration, comments, rule-built units."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.errors import StoreError
from pipeline.store import STORE_VERSION, TABLES, Store
from tests.conftest import seed

runner = CliRunner()


def test_search_ranks_items_on_emergency_science_first(seed_db):
    with Store.open(seed_db) as store:
        hits = store.search("应急科普", limit=5)
    top = [(h["source_path"].split("/")[-1][:3], h["item_key"]) for h in hits]
    assert ("000", "附件/7") in top  # seed 000 item 7
    assert ("003", "附件1/3.5/42") in top  # seed 003 item 42
    assert all({"应急", "科普"} & set(h["matched_words"]) for h in hits)


def test_search_command_prints_documents_and_units(seed_db, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(seed_db, db)
    result = runner.invoke(app, ["search", "科普 老年人", "--db", str(db), "-n", "3"])
    assert result.exit_code == 0, result.output
    assert "加强老年人" in result.output and "units:" in result.output
    nothing = runner.invoke(app, ["search", "量子纠缠", "--db", str(db)])
    assert nothing.exit_code == 1 and "no item matches" in nothing.output


def test_search_from_plain_sql_matches_the_command(seed_db):
    with duckdb.connect(str(seed_db), read_only=True) as con:
        sql = [r[0] for r in con.execute("SELECT item_key FROM search_items('应急 科普') LIMIT 5").fetchall()]
    with Store.open(seed_db) as store:
        cli = [h["item_key"] for h in store.search("应急 科普", limit=5)]
    assert sql == cli


@pytest.mark.parametrize("fmt", ["parquet", "csv", "jsonl"])
def test_export_writes_every_table(seed_db, tmp_path, fmt):
    db = tmp_path / "copy.duckdb"
    shutil.copy(seed_db, db)
    out = tmp_path / "out"
    result = runner.invoke(app, ["export", str(out), "--db", str(db), "--format", fmt])
    assert result.exit_code == 0, result.output
    assert {p.stem for p in out.iterdir()} == {"meta", *TABLES, "document_summary", "item_units", "unit_workload"}
    reader = {"parquet": "read_parquet", "csv": "read_csv_auto", "jsonl": "read_json_auto"}[fmt]
    with duckdb.connect() as con:
        items = con.execute(f"SELECT count(*) FROM {reader}('{out / ('items.' + fmt)}')").fetchone()[0]
    assert items == 472
    if fmt == "jsonl":
        first = json.loads((out / "unit_mentions.jsonl").read_text(encoding="utf-8").splitlines()[0])
        assert {"raw_text", "role", "canonical_name", "resolution"} <= first.keys()


def test_export_refuses_an_unknown_format(seed_db, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copy(seed_db, db)
    result = runner.invoke(app, ["export", str(tmp_path / "o"), "--db", str(db), "--format", "xml"])
    assert result.exit_code == 2 and "choose parquet, csv, jsonl, xlsx or duckdb1" in result.output


def test_every_column_has_a_chinese_and_english_comment(seed_db):
    with duckdb.connect(str(seed_db), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name, comment FROM duckdb_columns() WHERE table_name IN "
            f"({', '.join(repr(t) for t in TABLES)})"
        ).fetchall()
    assert len(rows) == sum(len(c) for c in TABLES.values())
    for table, column, comment in rows:
        assert comment and " / " in comment, (table, column)


def test_every_canonical_unit_has_a_units_row(seed_db):
    with duckdb.connect(str(seed_db), read_only=True) as con:
        missing = con.execute(
            "SELECT count(*) FROM unit_mentions WHERE canonical_name IS NOT NULL "
            "AND canonical_name NOT IN (SELECT canonical_name FROM units)"
        ).fetchone()[0]
        rule_built = con.execute(
            "SELECT level, kind, jurisdiction FROM units WHERE canonical_name = '北京市教育委员会'"
        ).fetchone()
    assert missing == 0
    assert rule_built == ("municipal", "government", "北京市")


# The columns each version added: an older file is made without them.
VERSION_3_COLUMNS = {("documents", "first_listed_leads"), ("unit_mentions", "read_as"),
                     ("unit_mentions", "implied"), ("unit_mentions", "paragraph")}
VERSION_4_COLUMNS = {("documents", "url"), ("documents", "index_number"), ("documents", "posted_date"),
                     ("attachments", "url"), ("ingest_errors", "content_hash")}


VERSION_5_COLUMNS = {("ingest_runs", "files_duplicate"), ("ingest_runs", "files_moved"),
                     ("ingest_runs", "files_removed")}
VERSION_6_COLUMNS = {("documents", "text_indexed"), ("items", "word_count")}
VERSION_8_COLUMNS = {("documents", "ocr_pages"), ("documents", "ocr_confidence"), ("items", "ocr_confidence")}


def _old_db(version: int, seeds_dir, tmp_path, monkeypatch):
    """The seeds as `version` wrote them (DuckDB cannot drop a column of a table other tables reference)."""
    import pipeline.store as store_module
    from pipeline.ingest import ingest

    # Tables no other table references lose their new columns after the ingest (today's ingest
    # writes them); the other columns are never created.
    unreferenced = {("ingest_errors", "content_hash")} if version < 4 else set()
    unreferenced |= VERSION_5_COLUMNS if version < 5 else set()
    later = (VERSION_4_COLUMNS if version < 4 else set()) | (VERSION_3_COLUMNS if version < 3 else set())
    later |= VERSION_6_COLUMNS if version < 6 else set()
    later |= VERSION_8_COLUMNS if version < 8 else set()
    later -= unreferenced
    old = {t: [c for c in cols if (t, c.name) not in later] for t, cols in TABLES.items()}
    monkeypatch.setattr(store_module, "TABLES", old)
    monkeypatch.setattr(store_module, "STORE_VERSION", version)
    db = tmp_path / f"v{version}.duckdb"
    assert ingest([seeds_dir], db, workers=1).exit_code == 0
    monkeypatch.undo()
    with duckdb.connect(str(db)) as con:
        for table, column in sorted(unreferenced):
            con.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        if version < 5:
            con.execute("DROP TABLE duplicate_files")
            con.execute("DROP TABLE custom_units")
        if version < 6:
            con.execute("DROP TABLE passage_tokens")
            con.execute("DROP TABLE passages")
        if version < 7:
            con.execute("DROP VIEW citation_graph")
            con.execute("DROP TABLE citations")
            con.execute("DROP TABLE task_links")
    return db


def test_a_version_4_database_keeps_its_documents_when_paths_become_absolute(seeds_dir, tmp_path, monkeypatch):
    """Version 4 stored paths relative to where the ingest ran; version 5 stores them absolute.
    The migration makes them absolute, and the same folder ingested again is unchanged, not new."""
    db = _old_db(4, seeds_dir, tmp_path, monkeypatch)
    monkeypatch.chdir(seeds_dir.parent)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE documents SET source_path = ? || '/' || regexp_extract(source_path, '[^/]+$')",
                    [seeds_dir.name])
        relative = [p for (p,) in con.execute("SELECT source_path FROM documents").fetchall()]
    assert all(not p.startswith("/") for p in relative)
    from pipeline.ingest import ingest

    report = ingest([seeds_dir], db, workers=1)
    with duckdb.connect(str(db), read_only=True) as con:
        paths = [p for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()]
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert int(version) == STORE_VERSION == 8
    assert report.counts["unchanged"] == 5 and report.counts["new"] == 0
    assert len(paths) == 5 and all(p.startswith(str(seeds_dir.resolve())) for p in paths)


@pytest.fixture
def version_2_db(seeds_dir, tmp_path, monkeypatch):
    return _old_db(2, seeds_dir, tmp_path, monkeypatch)


def test_a_version_3_database_gains_the_web_page_columns(seeds_dir, tmp_path, monkeypatch):
    db = _old_db(3, seeds_dir, tmp_path, monkeypatch)
    with Store.open(db) as store:
        con = store.con
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        columns = {(t, c) for t, c in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()}
        urls = con.execute("SELECT count(*) FROM documents WHERE url IS NOT NULL").fetchone()[0]
        documents = con.execute("SELECT count(*) FROM documents").fetchone()[0]
    assert int(version) == STORE_VERSION
    assert VERSION_4_COLUMNS | VERSION_5_COLUMNS <= columns
    assert (urls, documents) == (0, 5)


def test_a_version_2_database_gains_the_role_columns(version_2_db):
    with Store.open(version_2_db) as store:
        con = store.con
        version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        columns = {(t, c) for t, c in con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall()}
        implied = con.execute("SELECT DISTINCT implied FROM unit_mentions").fetchall()
        comment = con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'unit_mentions' AND column_name = 'role'"
        ).fetchone()[0]
    assert int(version) == STORE_VERSION
    assert VERSION_3_COLUMNS | VERSION_4_COLUMNS <= columns
    assert implied == [(False,)]
    assert "guiding" in comment


def test_a_version_1_database_is_migrated_and_searchable(version_2_db):
    db = version_2_db
    # Make it what version 1 wrote: no search table, macro or words, no units.source.
    with duckdb.connect(str(db)) as con:
        con.execute("DROP MACRO TABLE search_items")
        con.execute("DROP TABLE item_tokens")
        con.execute("ALTER TABLE units DROP COLUMN source")
        con.execute("ALTER TABLE items DROP COLUMN search_words")
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    with Store.open(db) as store:
        version = store.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        hits = store.search("应急科普", limit=5)
    assert int(version) == STORE_VERSION
    assert "附件/7" in [h["item_key"] for h in hits]


def test_a_database_from_a_newer_version_is_refused_clearly(seed_db, tmp_path):
    db = tmp_path / "new.duckdb"
    shutil.copy(seed_db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer policy-notices"):
        Store.open(db)


def test_a_memory_limit_too_small_for_the_indexes_is_raised_not_fatal(tmp_path):
    # Primary-key indexes must fit in DuckDB's memory; a writer that started with a
    # small limit must grow it as the database grows, not fail every document.
    doc = seed("003")  # 320 items, the largest seed
    with Store.open(tmp_path / "small.duckdb", threads=1, memory_limit_mb=1) as store:
        with pytest.raises(duckdb.OutOfMemoryException):
            store._write_batch([(doc, None)], store.start_run(["x"]))  # what a fixed limit did
        assert store.write_documents([(doc, None)], 1) == ["new"]
        assert store.memory_limit_mb > 1
        items = store.con.execute("SELECT count(*) FROM items").fetchone()[0]
    assert items == len(doc.items) == 320


def test_a_version_4_database_with_copies_becomes_one_document_per_content(seeds_dir, tmp_path, monkeypatch):
    """Version 4 stored the same bytes at two paths twice; the migration keeps one, notes the other."""
    import shutil

    folder = tmp_path / "copies"
    shutil.copytree(seeds_dir, folder)
    first = sorted(folder.iterdir())[0]
    db = _old_db(4, folder, tmp_path, monkeypatch)
    shutil.copy(first, folder / "zz_copy.txt")
    with duckdb.connect(str(db)) as con:  # as version 4 stored a copy: a document of its own
        con.execute("INSERT INTO documents SELECT * REPLACE ('0123456789abcdef' AS document_id, ? AS source_path) "
                    "FROM documents WHERE source_path = ?", [str(folder / "zz_copy.txt"), str(first.resolve())])
        assert con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0] == 6
    with Store.open(db) as store:
        current = store.con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()
        duplicates = store.con.execute("SELECT source_path FROM duplicate_files").fetchall()
    assert len(current) == 5 and duplicates == [(str((folder / "zz_copy.txt").resolve()),)]
    from pipeline.ingest import ingest

    report = ingest([folder], db, workers=1)
    assert report.counts["unchanged"] == 6 and report.counts["new"] == 0


def test_a_command_that_reads_an_older_database_says_how_to_upgrade_it(seeds_dir, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from cli import app

    db = _old_db(4, seeds_dir, tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["search", "科普", "--db", str(db)])
    assert result.exit_code == 2 and "upgrade it once with: notices renormalize" in result.stderr
    assert CliRunner().invoke(app, ["renormalize", "--db", str(db)]).exit_code == 0
    assert CliRunner().invoke(app, ["search", "科普", "--db", str(db)]).exit_code == 0


def test_a_version_7_database_gains_the_ocr_columns(seeds_dir, tmp_path, monkeypatch):
    db = _old_db(7, seeds_dir, tmp_path, monkeypatch)
    with duckdb.connect(str(db), read_only=True) as con:
        assert "ocr_pages" not in {r[0] for r in con.execute("DESCRIBE documents").fetchall()}
    with Store.open(db) as store:
        pages = store.con.execute("SELECT DISTINCT ocr_pages FROM documents").fetchall()
        item_confidence = store.con.execute("SELECT count(ocr_confidence) FROM items").fetchone()[0]
        comment = store.con.execute(
            "SELECT comment FROM duckdb_columns() WHERE table_name = 'items' AND column_name = 'ocr_confidence'"
        ).fetchone()[0]
    assert pages == [(0,)] and item_confidence == 0  # the seeds are text: nothing was read by OCR
    assert comment.startswith("识别置信度")
