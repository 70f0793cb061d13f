"""Links between notices (issue 19): citations read from the text and resolved to stored documents,
task links between a local notice and the national one it implements, `notices cites` and
`notices trace`, the version-7 migration, and resolution after a later ingest or a removal."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from extractors.citations import find_citations, title_root
from pipeline.evaluate_links import TARGET_P_AT_1, halves, score_links
from pipeline.links import MIN_MARGIN, _unit_function_sql
from pipeline.ingest import ingest, remove
from pipeline.store import STORE_VERSION, Store

from conftest import RAW

runner = CliRunner()
REVIEWED_LINKS = RAW.parent / "parsed" / "task_links.json"


def _file_rows(db: Path, sql: str, params=()) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, list(params)).fetchall()
    finally:
        con.close()


def _citations(db: Path, file: str) -> list[tuple]:
    return _file_rows(
        db,
        "SELECT c.how, c.item_key, c.passage_no, c.cited_number, c.number_key, c.cited_title, "
        "regexp_extract(t.source_path, '[^/]*$'), c.resolved_by, c.start_offset, c.end_offset "
        "FROM citations c JOIN documents d USING (document_id) LEFT JOIN documents t ON t.document_id = c.cited_document_id "
        "WHERE ends_with(d.source_path, ?) ORDER BY c.citation_no", [file])


@pytest.mark.parametrize("written", [
    "国办发〔2024〕49号", "国办发[2024]49号", "国办发〔2024〕 49 号", "国办发〔2024〕第49号", "国办发（2024）49号",
])
def test_a_doc_number_in_any_bracket_style_is_one_normalized_number(written):
    (c,) = find_citations(f"为贯彻落实{written}文件精神，")
    assert c.number_key == "国办发〔2024〕49号"
    assert c.number == written.replace(" ", "")


def test_an_order_number_a_title_with_its_number_and_a_short_name_are_read():
    text = ("根据《北京市地震预警管理办法》（北京市人民政府令第307号）和重庆市人民政府令第361号，"
            "落实《关于新时代进一步加强科学技术普及工作的意见》（以下简称《意见》），阅读《科学画报》。推动《意见》落实。")
    got = [(c.number_key, c.title) for c in find_citations(text)]
    assert got == [
        ("北京市人民政府令第307号", "北京市地震预警管理办法"),
        ("重庆市人民政府令第361号", None),
        (None, "关于新时代进一步加强科学技术普及工作的意见"),
        (None, "关于新时代进一步加强科学技术普及工作的意见"),  # 《意见》, the short name, read in full
    ]  # 《科学画报》 names no kind of document: no citation


def test_a_real_page_cites_a_state_council_number_with_its_title(raw_db):
    # govcn_2019_37.html: “…国务院办公厅关于对真抓实干成效明显地方加大激励支持力度的通知》（国办发〔2016〕82号）…”
    rows = _citations(raw_db, "govcn_2019_37.html")
    cited = [r for r in rows if r[4] == "国办发〔2016〕82号"]
    assert len(cited) == 1
    how, item, passage, number, _, title, target, _, start, end = cited[0]
    assert (how, number, title, target) == (
        "text", "国办发〔2016〕82号", "国务院办公厅关于对真抓实干成效明显地方加大激励支持力度的通知", None)
    assert passage is not None and item is None and start < end
    # its own number (国办发〔2018〕117号, under the title) is no citation
    assert not [r for r in rows if r[4] == "国办发〔2018〕117号"]


def test_no_document_cites_its_own_number_or_the_document_it_issues(raw_db):
    assert _file_rows(raw_db,
        "SELECT d.source_path, c.cited_number FROM citations c JOIN documents d USING (document_id) "
        "WHERE c.number_key = d.doc_number_organ || '〔' || d.doc_number_year || '〕' || d.doc_number_serial || '号'") == []
    # 002 印发《2023年唐山市全民科学素质行动工作要点》: the issued text is the notice itself
    assert not [r for r in _citations(raw_db, "002_841b45b980830f5f.txt") if r[5] == "2023年唐山市全民科学素质行动工作要点"]


def test_a_citation_by_title_names_the_stored_document(raw_db):
    # html_215c…: 关于贯彻执行《关于促进房地产市场平稳健康发展的若干措施》的实施细则; that 若干措施 is html_6668….
    rows = _citations(raw_db, "html_215c41a7559ce16e.html")
    resolved = [r for r in rows if r[6] is not None]
    assert [(r[5], r[6], r[7]) for r in resolved] == [
        ("关于促进房地产市场平稳健康发展的若干措施", "html_6668dad6cec0908a.html", "title")]
    graph = _file_rows(raw_db, "SELECT citing_title, cited_title, citations FROM citation_graph WHERE cited_id IS NOT NULL")
    assert graph == [("关于贯彻执行《关于促进房地产市场平稳健康发展的若干措施》的实施细则",
                      "关于促进房地产市场平稳健康发展的若干措施", 1)]


def test_a_forwarding_notice_records_what_it_forwards(raw_db):
    # 001 转发国家纲要办《关于印发<2020年全民科学素质行动工作要点>的通知》（纲要办发〔2020〕1号）
    forwarded = [r for r in _citations(raw_db, "001_6963b79e2a437fc8.txt") if r[0] == "forwarded"]
    assert [(r[3], r[4], r[5], r[6]) for r in forwarded] == [
        ("纲要办发〔2020〕1号", "纲要办发〔2020〕1号", "关于印发<2020年全民科学素质行动工作要点>的通知", None)]


def test_title_roots_pair_the_local_2023_plans_with_the_national_ledger_only():
    assert title_root("关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知", "北京市") == ("全民科学素质", 2023)
    assert title_root("2023年全民科学素质行动重点工作任务台账") == ("全民科学素质", 2023)
    assert title_root("关于印发<2020年全民科学素质行动工作要点>的通知", "广东省") == ("全民科学素质", 2020)


def test_task_links_join_beijing_and_tangshan_tasks_to_the_national_ledger(raw_db):
    pairs = _file_rows(raw_db,
        "SELECT DISTINCT regexp_extract(d.source_path, '[^/]*$'), regexp_extract(u.source_path, '[^/]*$'), t.via "
        "FROM task_links t JOIN documents d USING (document_id) JOIN documents u ON u.document_id = t.upper_document_id "
        "ORDER BY ALL")
    assert pairs == [
        ("002_841b45b980830f5f.txt", "000_69453124e71ca7c9.txt", "title_root"),
        ("003_b8b4a31499fe38d2.txt", "000_69453124e71ca7c9.txt", "title_root"),
        ("html_215c41a7559ce16e.html", "html_6668dad6cec0908a.html", "citation"),
    ]  # 001 (广东, 2020) is no plan of the 2023 ledger's year
    ranks = _file_rows(raw_db, "SELECT max(rank), min(score), count(DISTINCT method) FROM task_links")
    assert ranks == [(3, ranks[0][1], 1)] and ranks[0][1] > 0


def _reviewed_scores(db: Path) -> dict:
    expectations = json.loads(REVIEWED_LINKS.read_text(encoding="utf-8"))
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {name: score_links(con, part) for name, part in halves(expectations).items()}
    finally:
        con.close()


def test_stored_links_meet_the_precision_target_on_the_reviewed_links(raw_db):
    scores = _reviewed_scores(raw_db)
    bm25, bigram = scores["all"]
    assert bm25.method == "bm25_units" and bm25.with_upper == 98  # 116 reviewed, 18 without a counterpart
    assert bm25.precision_at_1 >= TARGET_P_AT_1, bm25
    # the floor abstains on some tasks; recall@3 is no worse than with the former best-score floor (48/98)
    assert bm25.linked < 116 and bm25.found_at_3 >= 48, bm25
    # the comparison measure links every task, the 18 without a counterpart too
    assert bigram.linked == 116 and bigram.precision_at_1 < bm25.precision_at_1
    tune, held_out = scores["tune"][0], scores["held-out"][0]
    assert tune.linked + held_out.linked == bm25.linked
    assert tune.precision_at_1 >= TARGET_P_AT_1, tune  # the half UNIT_BONUS and MIN_MARGIN were chosen on
    assert held_out.precision_at_1 >= TARGET_P_AT_1, held_out  # 北京 附件2 + 唐山, not used to choose them


def test_units_of_the_same_function_match_across_levels():
    con = duckdb.connect()
    fn = lambda name, jurisdiction=None: con.execute(
        f"SELECT {_unit_function_sql('$n', '$j')}", {"n": name, "j": jurisdiction}).fetchone()[0]
    assert fn("北京市教育委员会", "北京市") == fn("教育部") == "教育"
    assert fn("中共北京市委宣传部", "北京市") == fn("中共中央宣传部") == "宣传"
    assert fn("共青团北京市委员会", "北京市") == fn("中国共产主义青年团中央委员会")
    assert fn("北京市科学技术协会", "北京市") == fn("中国科学技术协会") == "科学技术协会"
    assert fn("北京市市场监督管理局", "北京市") == fn("国家市场监督管理总局")
    assert fn("北京市科学技术委员会", "北京市") != fn("中国科学技术协会")  # 科委 is not 科协


def test_a_task_is_linked_only_when_its_best_upper_task_stands_out(raw_db):
    rows = _file_rows(raw_db,
        "SELECT document_id, item_key, upper_document_id, list(score ORDER BY rank) FROM task_links GROUP BY ALL")
    assert rows
    for *_, scores in rows:
        assert scores == sorted(scores, reverse=True)
        assert scores[0] - (scores[1] if len(scores) > 1 else 0) >= MIN_MARGIN - 1e-9
    # tasks of the local plans left without a link: the floor abstains on them
    (unlinked,) = _file_rows(raw_db,
        "SELECT count(*) FROM items i JOIN documents d USING (document_id) WHERE ends_with(d.source_path, "
        "'003_b8b4a31499fe38d2.txt') AND NOT EXISTS (SELECT 1 FROM task_links t WHERE t.document_id = i.document_id "
        "AND t.item_key = i.item_key)")[0]
    assert unlinked > 0


def test_a_citation_is_resolved_when_the_cited_notice_is_ingested_later_and_opened_again_when_it_goes(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    shutil.copy(RAW / "html_215c41a7559ce16e.html", folder)
    db = tmp_path / "n.duckdb"
    assert ingest([folder], db, workers=1).exit_code == 0
    title = "关于促进房地产市场平稳健康发展的若干措施"
    assert [r[6] for r in _citations(db, "html_215c41a7559ce16e.html") if r[5] == title] == [None]
    shutil.copy(RAW / "html_6668dad6cec0908a.html", folder)
    assert ingest([folder], db, workers=1).exit_code == 0
    assert [r[6] for r in _citations(db, "html_215c41a7559ce16e.html") if r[5] == title] == ["html_6668dad6cec0908a.html"]
    assert _file_rows(db, "SELECT count(*) FROM task_links")[0][0] > 0
    remove(db, [folder / "html_6668dad6cec0908a.html"])
    assert [r[6] for r in _citations(db, "html_215c41a7559ce16e.html") if r[5] == title] == [None]
    assert _file_rows(db, "SELECT count(*) FROM task_links") == [(0,)]


def test_a_version_6_database_gets_its_citations_and_links_from_what_it_stores(raw_db, tmp_path):
    db = tmp_path / "v6.duckdb"
    shutil.copy(raw_db, db)
    before = _file_rows(db, "SELECT document_id, how, item_key, passage_no, number_key, title_key, cited_document_id "
                            "FROM citations ORDER BY ALL")
    links_sql = ("SELECT document_id, item_key, upper_document_id, upper_item_key, rank, round(score, 6), via "
                 "FROM task_links ORDER BY ALL")  # sums in another order differ in the last bits
    links = _file_rows(db, links_sql)
    con = duckdb.connect(str(db))
    con.execute("DROP VIEW citation_graph")
    con.execute("DROP TABLE citations")
    con.execute("DROP TABLE task_links")
    con.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    con.close()
    Store.open(db).close()
    assert _file_rows(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(STORE_VERSION),)]
    after = _file_rows(db, "SELECT document_id, how, item_key, passage_no, number_key, title_key, cited_document_id "
                           "FROM citations ORDER BY ALL")
    assert after == before
    assert _file_rows(db, links_sql) == links and links


def test_cites_lists_who_cites_a_number_and_what_a_document_cites(raw_db):
    out = runner.invoke(app, ["cites", "国办发[2016] 82号", "--db", str(raw_db)])
    assert out.exit_code == 0, out.output
    assert "cited by 1:" in out.output and "国务院办公厅关于对真抓实干成效明显地方进一步加大激励支持力度的通知" in out.output
    out = runner.invoke(app, ["cites", "《关于促进房地产市场平稳健康发展的若干措施》", "--db", str(raw_db), "--json"])
    data = json.loads(out.output)
    assert [d["source_path"].rsplit("/", 1)[-1] for d in data["documents"]] == ["html_6668dad6cec0908a.html"]
    assert [r["citing_file"] for r in data["cited_by"]] == ["html_215c41a7559ce16e.html"]
    out = runner.invoke(app, ["cites", "无此文〔2020〕1号", "--db", str(raw_db)])
    assert out.exit_code == 2 and out.output.count("\n") == 1 and "no notice cites it" in out.output


def test_trace_shows_a_task_with_its_national_counterpart_and_the_other_city_carrying_it_out(raw_db):
    out = runner.invoke(app, ["trace", "附件1/2.2/10", "--doc", "003_b8b4a31499fe38d2.txt", "--db", str(raw_db), "--json"])
    assert out.exit_code == 0, out.output
    steps = json.loads(out.output)
    first_up = next(s for s in steps if s["depth"] == -1)
    assert (first_up["item_key"], first_up["rank"]) == ("附件/33", 1)  # 实施高素质农民培育计划
    assert any(s["depth"] == 0 and s["item_key"] == "附件1/2.2/10" for s in steps)
    down = runner.invoke(app, ["trace", "附件/33", "--doc", "000_69453124e71ca7c9.txt", "--db", str(raw_db), "--json"])
    below = [(s["item_key"], s["rank"]) for s in json.loads(down.output) if s["depth"] == 1]
    assert ("附件/2.2/6", 1) in below and ("附件1/2.2/10", 1) in below  # 唐山 and 北京
    ambiguous = runner.invoke(app, ["trace", "附件/1", "--db", str(raw_db)])
    assert ambiguous.exit_code == 2 and "say which with --doc DOC" in ambiguous.output


@pytest.mark.parametrize("command", ["cites", "trace"])
def test_new_commands_have_examples_and_plain_metavars(command):
    out = runner.invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert "Example:" in out.output and "FILE" in out.output


def test_make_eval_reports_precision_and_recall_of_both_measures_on_both_halves(capsys):
    from pipeline.evaluate_links import report

    scores = report(RAW, REVIEWED_LINKS)
    out = capsys.readouterr().out
    assert "bm25" in out and "bigram_cosine" in out and "precision@1" in out and "recall@3" in out
    assert "  tune " in out and "  held-out " in out
    assert scores[0].precision_at_1 >= 0.8 and "target precision@1 >= 0.8: met" in out
    assert report(RAW, REVIEWED_LINKS.with_name("missing.json")) is None


def test_linking_under_the_writers_low_memory_limit_raises_it_instead_of_failing(raw_db, tmp_path):
    # An ingest's writer runs with a small DuckDB memory limit (pipeline/ingest.py WRITER_MEMORY_MB);
    # linking the tasks of two notices joins all their words, which did not fit in it.
    db = tmp_path / "copy.duckdb"
    shutil.copy(raw_db, db)
    links_sql = "SELECT count(*) FROM task_links"
    expected = _file_rows(db, links_sql)
    with Store.open(db, threads=1, memory_limit_mb=16) as store:
        store.resolve_links(full=True)
        raised = store.memory_limit_mb
    assert raised > 16
    assert _file_rows(db, links_sql) == expected != [(0,)]


def _citation_target(db: Path, title: str) -> list[tuple]:
    return _file_rows(
        db, "SELECT regexp_extract(t.source_path, '[^/]*$') FROM citations c JOIN documents d USING (document_id) "
        "LEFT JOIN documents t ON t.document_id = c.cited_document_id "
        f"WHERE d.is_current AND ends_with(d.source_path, 'html_215c41a7559ce16e.html') AND c.cited_title = '{title}'")


# 宿州's 实施细则 (html_215c…) cites 《关于促进房地产市场平稳健康发展的若干措施》, which html_6668… is.
CITED_TITLE = "关于促进房地产市场平稳健康发展的若干措施"


def test_links_an_interrupted_run_left_unresolved_are_resolved_by_the_next_one(tmp_path, monkeypatch):
    import pipeline.links as links_module
    from pipeline.ingest import ingest

    folder = tmp_path / "n"
    folder.mkdir()
    for name in ("html_215c41a7559ce16e.html", "html_6668dad6cec0908a.html"):
        shutil.copy(RAW / name, folder)
    db = tmp_path / "n.duckdb"

    def interrupted(*args, **kwargs):  # a second Ctrl-C (or a kill) while links resolve
        raise KeyboardInterrupt

    monkeypatch.setattr(links_module, "resolve", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ingest([folder], db, workers=1)
    monkeypatch.undo()
    assert _citation_target(db, CITED_TITLE) == [(None,)]  # the documents are in, their links are not
    report = ingest([folder], db, workers=1)  # nothing to parse: every file is unchanged
    assert report.counts["unchanged"] == 2
    assert _citation_target(db, CITED_TITLE) == [("html_6668dad6cec0908a.html",)]
    assert _file_rows(db, "SELECT count(*) FROM meta WHERE key = 'links_pending'") == [(0,)]


def test_a_citation_whose_document_is_removed_finds_another_copy(tmp_path):
    from pipeline.ingest import ingest, remove

    folder = tmp_path / "n"
    folder.mkdir()
    shutil.copy(RAW / "html_215c41a7559ce16e.html", folder)
    shutil.copy(RAW / "html_6668dad6cec0908a.html", folder / "a.html")
    (folder / "b.html").write_bytes((RAW / "html_6668dad6cec0908a.html").read_bytes() + b"<!-- another copy -->")
    db = tmp_path / "n.duckdb"
    assert ingest([folder], db, workers=1).exit_code == 0
    (first,) = _citation_target(db, CITED_TITLE)[0]
    assert first in ("a.html", "b.html")
    remove(db, [folder / first])
    other = {"a.html": "b.html", "b.html": "a.html"}[first]
    assert _citation_target(db, CITED_TITLE) == [(other,)]


def _task_links(db: Path) -> list[tuple]:
    """Task links by file names (ids differ with nothing else), in order."""
    return _file_rows(db, """
        SELECT regexp_extract(l.source_path, '[^/]+$'), t.item_key, regexp_extract(u.source_path, '[^/]+$'),
               t.upper_item_key, t.rank, round(t.score, 6), t.via
        FROM task_links t JOIN documents l USING (document_id) JOIN documents u ON u.document_id = t.upper_document_id
        ORDER BY ALL""")


def test_links_do_not_depend_on_the_order_documents_come_in(tmp_path):
    # A local plan paired with one copy of the national ledger; a second copy, whose id sorts first,
    # arrives in a later run and takes the pair over (one national plan a root: ROOT_UPPERS). The
    # local plan's links to the first copy must go: the database equals an ingest of all at once.
    from pipeline.rows import document_id

    national = (RAW / "000_69453124e71ca7c9.txt").read_bytes()
    copies = [national + f"\n抄送：副本{n}\n".encode() for n in range(6)]
    copies.sort(key=lambda data: document_id(hashlib.sha256(data).hexdigest()))
    first, later = tmp_path / "first", tmp_path / "later"
    first.mkdir(), later.mkdir()
    (first / "b_national.txt").write_bytes(copies[-1])  # the larger id first
    shutil.copy(RAW / "002_841b45b980830f5f.txt", first / "local.txt")
    (later / "a_national.txt").write_bytes(copies[0])
    in_turn, at_once = tmp_path / "in_turn.duckdb", tmp_path / "at_once.duckdb"
    ingest([first], in_turn, workers=1)
    before = _task_links(in_turn)
    assert before and {row[2] for row in before} == {"b_national.txt"}
    ingest([first, later], in_turn, workers=1)
    ingest([first, later], at_once, workers=1)
    after = _task_links(in_turn)
    assert after == _task_links(at_once)
    assert {row[2] for row in after} == {"a_national.txt"}
