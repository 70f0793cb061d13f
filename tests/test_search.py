"""`notices search` over the whole text with the shared filters, and `notices docs`, on data/raw/.

What the tests expect was read off the files: govcn_2019_09.html (国务院办公厅, 2018-12-30) is titled
…消费扶贫助力打赢脱贫攻坚战的指导意见 and its preamble speaks of 消费扶贫; the two 安徽 notices of
2022-01-26 (DOCX and web page) are addressed to 各市人民政府，省有关单位; 限购 is written in one task
of the 沈阳 notice (html_49c0…); 北京市科学技术协会 (市科协) is named only in the Beijing 2023 list."""

from __future__ import annotations

import csv
import io
import json
import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app, document_filter
from extractors.tokens import query_terms
from pipeline.search import query_words, search

runner = CliRunner()


@pytest.fixture(scope="module")
def con(raw_db):
    connection = duckdb.connect(str(raw_db), read_only=True)
    yield connection
    connection.close()


def _run(raw_db, *args: str):
    result = runner.invoke(app, [*args, "--db", str(raw_db)])
    return result


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def test_query_words_are_the_runs_and_their_parts_without_jieba():
    assert query_words("应急科普") == ["应急科普", "应急", "急科", "科普", "应急科", "急科普"]
    # Han and Latin runs apart, punctuation and case dropped: what the index holds (lower-cased words).
    assert query_words("PPP项目，的") == ["ppp", "pp", "项目", "的"]
    assert query_words("，。 ") == []


@pytest.mark.parametrize(
    "query",
    ["应急科普", "科普 老年人", "限购", "房地产市场", "公积金贷款", "北京市科学技术协会", "消费扶贫", "青少年科技教育",
     "促进就业", "市场监管", "PPP项目", "2023年", "农村 科普", "安全生产"],
)
def test_tasks_rank_as_search_items_after_jiebas_split(con, query):
    """Without jieba at query time, tasks get the scores and order search_items gives the query jieba splits."""
    expected = con.execute(
        "SELECT s.document_id, s.item_key, s.score FROM search_items(?) s JOIN documents d USING (document_id) "
        "JOIN items i USING (document_id, item_key) ORDER BY s.score DESC, d.source_path, i.start_offset LIMIT 10",
        [" ".join(query_terms(query))],
    ).fetchall()
    got = [(h.document_id, h.item_key, h.score) for h in search(con, query, limit=10, items_only=True)]
    assert [g[:2] for g in got] == [e[:2] for e in expected] and expected
    assert [round(g[2], 6) for g in got] == [round(e[2], 6) for e in expected]


def test_titles_headings_and_paragraphs_outside_tasks_are_found_with_their_place(con):
    hits = search(con, "消费扶贫", limit=30)
    found = {(_name(h.source_path), h.kind, h.location) for h in hits}
    assert ("govcn_2019_09.html", "title", "标题") in found
    assert ("govcn_2019_09.html", "paragraph", "第6行") in found  # the preamble, before any heading
    assert ("govcn_2019_09.html", "paragraph", "正文/1 第8行") in found  # under 一、总体要求
    assert any(h.kind == "item" for h in hits)  # and the tasks that speak of it
    recipients = search(con, "省有关单位", limit=5)
    assert {(_name(h.source_path), h.kind, h.line) for h in recipients} >= {
        ("docx_ac4c7809270a1f66.docx", "paragraph", 4), ("html_3855aa22771c8814.html", "paragraph", 4)}
    heading = search(con, "总体要求", limit=10)
    assert ("govcn_2019_01.html", "section", "章节 正文/1") in {(_name(h.source_path), h.kind, h.location) for h in heading}


def test_every_filter_narrows_the_hits_to_the_documents_it_names(con, raw_db):
    def hits(**options):
        got = search(con, "科普 房地产 消费 就业", document_filter(**options), limit=200)
        assert got, options
        return got

    everything = hits()
    assert len({h.document_id for h in everything}) > 10
    assert {h.jurisdiction for h in hits(jurisdiction="北京")} == {"北京市"}
    assert {h.issued_date.year for h in hits(year=2022)} == {2022}
    january = hits(since="2022-01", until="2022-01")
    assert {_name(h.source_path) for h in january} == {"docx_ac4c7809270a1f66.docx", "html_3855aa22771c8814.html"}
    assert {_name(h.source_path) for h in hits(issuer="国务院")} <= {f"govcn_2019_{n}.html" for n in ("01", "09", "37", "39", "57")}
    assert {_name(h.source_path) for h in hits(doc=["京纲要办发〔2023〕2号"])} == {"003_b8b4a31499fe38d2.txt"}
    # --unit (an alias): tasks that name the unit, nothing else.
    unit = hits(unit="市科协")
    assert {h.kind for h in unit} == {"item"}
    assert all("北京市科学技术协会" in [name for name, _ in h.units] for h in unit)


def test_search_command_prints_where_each_hit_is_with_units_and_roles(raw_db):
    result = _run(raw_db, "search", "限购")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[2:] == ["2023-09-03", "沈阳市", "html_49c0e4dbd96999c1.html", "[正文/1]"]
    assert "取消二环内限购政策" in lines[1]
    assert lines[2] == "      units: 沈阳市房产局 负责、沈阳市自然资源局 负责"
    led = _run(raw_db, "search", "中期评估", "--doc", "000_6945", "-n", "1")
    assert "units: ★中国科学技术协会 牵头、各成员单位 参与" in led.output  # （中国科协牵头，各成员单位参与）
    title = _run(raw_db, "search", "消费扶贫", "--issuer", "国务院办公厅", "-n", "20")
    assert "[标题]" in title.output and "in: 国务院办公厅关于深入开展消费扶贫助力打赢脱贫攻坚战的指导意见" in title.output
    nothing = _run(raw_db, "search", "量子纠缠", "--jurisdiction", "北京")
    assert nothing.exit_code == 1 and "no item matches" in nothing.output and "filters" in nothing.output


def test_search_json_and_csv_hold_the_same_hits(raw_db):
    as_json = json.loads(_run(raw_db, "search", "科普", "--unit", "市科协", "-n", "4", "--json").stdout)
    assert [h["rank"] for h in as_json] == [1, 2, 3, 4]
    assert all(h["kind"] == "item" and h["jurisdiction"] == "北京市" and h["issued_date"] == "2023-04-13" for h in as_json)
    assert all({"unit": "北京市科学技术协会", "role": "responsible"} in h["units"] for h in as_json)
    raw = runner.invoke(app, ["search", "科普", "--unit", "市科协", "-n", "4", "--csv", "--db", str(raw_db)]).stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["location"] for r in rows] == [h["location"] for h in as_json]
    assert "北京市科学技术协会 (responsible)" in rows[0]["units"].split("；")
    both = _run(raw_db, "search", "科普", "--json", "--csv")
    assert both.exit_code == 2 and "not both" in both.stderr


def test_a_bad_filter_is_one_line_naming_what_to_do(raw_db):
    result = _run(raw_db, "search", "科普", "--unit", "不存在的局")
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "notices units" in result.stderr
    result = _run(raw_db, "docs", "--since", "April")
    assert result.exit_code == 2 and "not a date" in result.stderr


def test_docs_lists_the_documents_the_filters_select(raw_db, con):
    result = _run(raw_db, "docs")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "24 documents"
    beijing = _run(raw_db, "docs", "--jurisdiction", "北京", "--json")
    rows = json.loads(beijing.stdout)
    assert [_name(r["source_path"]) for r in rows] == ["docx_45a677fa0a40a136.docx", "003_b8b4a31499fe38d2.txt"]  # by date
    expected = con.execute(
        "SELECT items, unit_mentions FROM document_summary WHERE doc_number = '京纲要办发〔2023〕2号'").fetchone()
    assert (rows[1]["items"], rows[1]["unit_mentions"]) == expected and rows[1]["issued_date"] == "2023-04-13"
    raw = runner.invoke(app, ["docs", "--unit", "市科协", "--csv", "--db", str(raw_db)]).stdout_bytes
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert raw.startswith(b"\xef\xbb\xbf") and table[0][:3] == ["document_id", "issued_date", "doc_number"]
    assert [r[2] for r in table[1:]] == ["京纲要办发〔2023〕2号"]
    assert len(json.loads(_run(raw_db, "docs", "--year", "2022", "--json").stdout)) == 7
    assert _run(raw_db, "docs", "--doc", "国发〔2019〕5号").output.count("\n") == 3  # header, one row, count
    none = _run(raw_db, "docs", "--year", "1999")
    assert none.exit_code == 1 and "no document matches the filters" in none.output


def test_an_older_database_gets_titles_and_headings_and_says_what_a_reingest_adds(seeds_dir, tmp_path, monkeypatch):
    from tests.test_database import _old_db

    db = _old_db(5, seeds_dir, tmp_path, monkeypatch)
    assert runner.invoke(app, ["renormalize", "--db", str(db)]).exit_code == 0  # migrates it to version 6
    result = runner.invoke(app, ["search", "全民科学素质", "--db", str(db), "-n", "40", "--json"])
    hits = json.loads(result.stdout)
    assert {"title", "section", "item"} <= {h["kind"] for h in hits}
    assert "paragraph" not in {h["kind"] for h in hits}
    assert "5 documents were stored by an older policy-notices" in result.stderr and "--force" in result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        words = con.execute("SELECT count(*) FROM items WHERE word_count IS NULL").fetchone()[0]
        lengths = con.execute(
            "SELECT count(*) FROM items i WHERE word_count <> (SELECT coalesce(sum(tf), 0) FROM item_tokens t "
            "WHERE t.document_id = i.document_id AND t.item_key = i.item_key)").fetchone()[0]
    assert words == lengths == 0
    from pipeline.ingest import ingest

    assert ingest([seeds_dir], db, force=True, workers=1).exit_code == 0
    again = runner.invoke(app, ["search", "全民科学素质", "--db", str(db), "-n", "40", "--json"])
    assert "paragraph" in {h["kind"] for h in json.loads(again.stdout)} and "older" not in again.stderr


def test_replacing_or_removing_a_document_takes_its_passages_with_it(seeds_dir, tmp_path):
    from pipeline.ingest import ingest, remove

    folder = tmp_path / "seeds"
    shutil.copytree(seeds_dir, folder)
    db = tmp_path / "x.duckdb"
    assert ingest([folder], db, workers=1).exit_code == 0
    target = folder / "004_26ef23e71b9cbbbe.txt"
    target.write_text(target.read_text(encoding="utf-8").replace("学习宣传", "学习宣讲"), encoding="utf-8")
    assert ingest([folder], db, workers=1).counts["replaced"] == 1
    with duckdb.connect(str(db), read_only=True) as con:
        orphans = con.execute("SELECT count(*) FROM passages p WHERE p.document_id NOT IN "
                              "(SELECT document_id FROM documents WHERE is_current)").fetchone()[0]
        tokens = con.execute("SELECT count(*) FROM passage_tokens t WHERE t.document_id NOT IN "
                             "(SELECT document_id FROM documents WHERE is_current)").fetchone()[0]
        title = search(con, "学习宣讲", limit=50)
    assert orphans == tokens == 0
    assert "title" in {h.kind for h in title if _name(h.source_path) == target.name}
    remove(db, [target])
    with duckdb.connect(str(db), read_only=True) as con:
        assert {_name(h.source_path) for h in search(con, "学习宣讲", limit=500)} & {target.name} == set()
        assert con.execute("SELECT count(*) FROM passages").fetchone()[0] == con.execute(
            "SELECT count(*) FROM passages JOIN documents USING (document_id) WHERE is_current").fetchone()[0]


def test_the_real_corpus_finds_limits_on_purchases_in_titles_and_paragraphs(shared, tmp_path):
    """The issue's case: 限购 stands in titles and paragraphs of real notices with no tasks."""
    from pipeline.ingest import ingest

    db = tmp_path / "real.duckdb"
    ingest([shared / "corpus" / "real"], db)
    with duckdb.connect(str(db), read_only=True) as con:
        kinds = {h.kind for h in search(con, "限购", limit=20)}
    assert {"title", "paragraph"} <= kinds


def test_the_search_command_does_not_load_jieba_or_the_parser(raw_db):
    """jieba's dictionary (~2 s) and the parser are what made `notices search` slow to start."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from cli import main\n"
        f"sys.argv = ['notices', 'search', '应急科普', '--db', {str(raw_db)!r}]\n"
        "try:\n    main()\nexcept SystemExit as exit:\n    assert exit.code == 0, exit.code\n"
        "loaded = [m for m in ('jieba', 'extractors.notice', 'extractors.structure') if m in sys.modules]\n"
        "print('loaded:', loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "附件/7" in result.stdout and result.stdout.splitlines()[-1] == "loaded: []"
