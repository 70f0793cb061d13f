"""Issue 18: the writer does less per document. The search words are split in the workers (the
writer no longer runs jieba) and give the same rows; unit names already in `units` are not sent
again, and a rolled-back batch does not leave that cache believing its names were stored."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import store as store_module
from pipeline.ingest import parse_file
from pipeline.store import Store
from tests.conftest import RAW, ROOT

WORD_ROWS = {
    "items": "SELECT d.source_path, i.item_key, i.search_words, i.word_count FROM items i JOIN documents d USING (document_id)",
    "passages": "SELECT d.source_path, p.passage_no, p.search_words, p.word_count FROM passages p JOIN documents d USING (document_id)",
    "item_tokens": "SELECT d.source_path, t.item_key, t.token, t.tf FROM item_tokens t JOIN documents d USING (document_id)",
    "passage_tokens": "SELECT d.source_path, t.passage_no, t.token, t.tf FROM passage_tokens t JOIN documents d USING (document_id)",
}


def _word_rows(db: Path) -> dict[str, list[tuple]]:
    with Store.open(db, read_only=True) as store:
        return {name: sorted(store.con.execute(sql).fetchall()) for name, sql in WORD_ROWS.items()}


def test_words_split_in_the_workers_equal_the_writers_split_and_the_writer_never_loads_jieba(tmp_path):
    # The ingest in a process of its own: whether jieba was loaded there is then its writer's doing.
    workers_db = tmp_path / "workers.duckdb"
    script = (
        "import sys\n"
        "from pipeline.ingest import ingest\n"
        "from extractors.tokens import _jieba\n"
        "if __name__ == '__main__':\n"
        f"    report = ingest([{str(RAW)!r}], {str(workers_db)!r}, workers=2)\n"
        "    print(report.counts['new'], _jieba.cache_info().currsize)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    new, jieba_loaded = map(int, done.stdout.split())
    files = sorted(p for p in RAW.iterdir() if p.is_file())
    assert new == len(files) and jieba_loaded == 0

    # The same files stored one by one, the words split by the store itself (as before issue 18).
    writer_db = tmp_path / "writer.duckdb"
    with Store.open(writer_db) as store:
        run_id = store.start_run([str(RAW)])
        for path in files:
            store.write_document(parse_file(path, source_path=str(path.resolve())), run_id)

    by_workers, by_writer = _word_rows(workers_db), _word_rows(writer_db)
    for name in WORD_ROWS:
        assert by_workers[name] == by_writer[name], name
    assert len(by_workers["item_tokens"]) > 1000 and len(by_workers["passage_tokens"]) > 1000


def test_a_rolled_back_batch_leaves_its_units_to_be_stored_by_the_next(tmp_path, monkeypatch):
    documents = [parse_file(p) for p in sorted(RAW.iterdir()) if p.is_file()]
    built = [
        (doc, m.canonical_name) for doc in documents for i in doc.items for m in i.responsible_units
        if m.resolution == "jurisdiction_rule"
    ]
    assert built, "the seeds have units built by jurisdiction rules"
    doc, name = built[0]
    original = store_module._add_rule_units

    def add_then_fail(con, mentions, known=None):
        original(con, mentions, known)
        raise RuntimeError("the batch fails after its units were added")

    with Store.open(tmp_path / "units.duckdb") as store:
        run_id = store.start_run(["units"])
        assert name not in store._known_units()
        monkeypatch.setattr(store_module, "_add_rule_units", add_then_fail)
        with pytest.raises(RuntimeError):
            store.write_document(doc, run_id)
        monkeypatch.setattr(store_module, "_add_rule_units", original)
        assert store.con.execute("SELECT count(*) FROM units WHERE canonical_name = ?", [name]).fetchone()[0] == 0
        store.write_document(doc, run_id)
        missing = store.con.execute(
            "SELECT DISTINCT canonical_name FROM unit_mentions WHERE canonical_name IS NOT NULL "
            "AND canonical_name NOT IN (SELECT canonical_name FROM units)"
        ).fetchall()
        assert missing == []
        assert store.con.execute("SELECT source FROM units WHERE canonical_name = ?", [name]).fetchone() == (
            "jurisdiction_rule",)
