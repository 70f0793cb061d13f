"""notices report: the gathered figures against SQL over the database of data/raw/, and the page."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace

import duckdb
import pytest
from conftest import RAW, ROOT

from pipeline.report import (
    NO_YEAR,
    OTHER_PLACES,
    UNKNOWN_PLACE,
    ReportError,
    gather,
    render,
    write_report,
)
from pipeline.store import Store

# (document, task, unit) once, current documents only: the unit counted as the report counts it.
TASK_UNITS = """
    SELECT m.document_id, m.item_key, coalesce(m.canonical_name, m.raw_text) AS unit,
           bool_or(m.is_collective) AS coll, bool_or(m.role = 'lead') AS led
    FROM unit_mentions m JOIN documents d USING (document_id) WHERE d.is_current GROUP BY ALL"""


@pytest.fixture(scope="module")
def raw_db(tmp_path_factory):
    """The 24 reviewed notices of data/raw/ (seeds and real ones) in one database."""
    from pipeline.ingest import ingest

    db = tmp_path_factory.mktemp("report") / "raw.duckdb"
    assert ingest(sorted(RAW.iterdir()), db).exit_code == 0
    return db


@pytest.fixture(scope="module")
def data(raw_db):
    with Store.open(raw_db, read_only=True) as store:
        return gather(store)


@pytest.fixture(scope="module")
def sql(raw_db):
    con = duckdb.connect(str(raw_db), read_only=True)
    yield lambda query, *args: con.execute(query, list(args)).fetchall()
    con.close()


def test_documents_by_year_and_jurisdiction_match_sql(data, sql):
    (current,) = sql("SELECT count(*) FROM documents WHERE is_current")[0]
    assert current == 24
    assert sum(r["documents"] for r in data.documents_by_year) == current
    places = {r["jurisdiction"] for r in data.documents_by_year}
    expected = {
        (str(y) if y is not None else NO_YEAR, p or UNKNOWN_PLACE): n
        for y, p, n in sql("SELECT year, jurisdiction, count(*) FROM documents WHERE is_current GROUP BY ALL")
    }
    got = {(r["year"], r["jurisdiction"]): r["documents"] for r in data.documents_by_year}
    for (year, place), n in expected.items():
        if place in places:  # a place with its own colour keeps its exact counts
            assert got[(year, place)] == n
    other = sum(n for (_, p), n in expected.items() if p not in places)
    assert sum(n for (_, p), n in got.items() if p == OTHER_PLACES) == other
    assert ("2022", "北京市") in got and len(places - {OTHER_PLACES}) == 9
    assert data.documents_by_year[-1]["year"] == NO_YEAR  # documents without a year come last


def test_top_units_count_tasks_led_and_co_handled_as_sql_does(data, sql):
    rows = sql(f"""SELECT unit, count(*) FILTER (WHERE led), count(*) FILTER (WHERE NOT led), count(*)
                   FROM ({TASK_UNITS}) WHERE NOT coll GROUP BY unit ORDER BY 4 DESC, 1 LIMIT 25""")
    assert [(u.unit, u.led, u.co_handled, u.total) for u in data.top_units] == rows
    assert data.top_units[0].unit == "北京市科学技术协会"
    # 中国科学技术协会 leads tasks in the seeds (（中国科协牵头，各成员单位参与）)
    leader = next(u for u in data.top_units if u.unit == "中国科学技术协会")
    (led,) = sql(f"SELECT count(*) FROM ({TASK_UNITS}) WHERE unit = '中国科学技术协会' AND led")[0]
    assert leader.led == led > 0


def test_collective_units_are_listed_apart_and_kept_out_of_the_network(data, sql):
    collective = {u for (u,) in sql(f"SELECT DISTINCT unit FROM ({TASK_UNITS}) WHERE coll")}
    assert {u.unit for u in data.collective_units} == collective
    assert "各成员单位" in collective
    assert not collective & {n.unit for n in data.network_nodes}
    assert not collective & {u.unit for u in data.top_units}


def test_network_links_are_tasks_both_units_share(data, sql):
    shared = {
        (a, b): n
        for a, b, n in sql(f"""WITH t AS (SELECT * FROM ({TASK_UNITS}) WHERE NOT coll)
                               SELECT a.unit, b.unit, count(*) FROM t a JOIN t b
                               ON a.document_id = b.document_id AND a.item_key = b.item_key AND a.unit < b.unit
                               GROUP BY ALL""")
    }
    nodes = {n.unit for n in data.network_nodes}
    assert len(nodes) == 40 and len(data.network_edges) > 40
    assert {(e.source, e.target): e.shared_tasks for e in data.network_edges} == {
        pair: n for pair, n in shared.items() if set(pair) <= nodes
    }
    sharing_units = {u for pair in shared for u in pair}
    assert data.network_units_total == len(sharing_units)
    # the units kept are those sharing the most tasks
    strength = dict(sql(f"""WITH t AS (SELECT * FROM ({TASK_UNITS}) WHERE NOT coll),
                            s AS (SELECT document_id, item_key FROM t GROUP BY ALL HAVING count(*) >= 2)
                            SELECT unit, count(*) FROM t JOIN s USING (document_id, item_key) GROUP BY unit"""))
    weakest_kept = min(strength[u] for u in nodes)
    assert all(strength[u] <= weakest_kept for u in sharing_units - nodes)
    assert all(0 <= n.x <= 1 and 0 <= n.y <= 1 for n in data.network_nodes)
    assert len({(n.x, n.y) for n in data.network_nodes}) == 40  # no two units drawn on one spot
    assert any(n.kind == "unresolved" for n in data.network_nodes)  # 市房管中心 shares tasks


def test_network_cap_and_layout_are_stable(raw_db, data):
    with Store.open(raw_db, read_only=True) as store:
        again = gather(store)
        small = gather(store, network_units=5)
    assert [(n.unit, n.x, n.y) for n in again.network_nodes] == [(n.unit, n.x, n.y) for n in data.network_nodes]
    assert [n.unit for n in small.network_nodes] == [n.unit for n in data.network_nodes[:5]]
    assert all({e.source, e.target} <= {n.unit for n in small.network_nodes} for e in small.network_edges)


def test_unresolved_names_match_sql(data, sql):
    expected = sql("""SELECT m.raw_text, count(*) FROM unit_mentions m JOIN documents d USING (document_id)
                      WHERE d.is_current AND m.resolution = 'unresolved' GROUP BY 1 ORDER BY 2 DESC, 1""")
    assert [(u.name, u.mentions) for u in data.unresolved] == expected
    assert data.unresolved[0].name == "市房管中心" and data.unresolved[0].mentions == 20


def test_document_pages_hold_every_task_and_mention(data, sql):
    tasks = dict(sql("SELECT document_id, count(*) FROM items JOIN documents d USING (document_id) "
                     "WHERE d.is_current GROUP BY 1"))
    mentions = dict(sql("SELECT document_id, count(*) FROM unit_mentions JOIN documents d USING (document_id) "
                        "WHERE d.is_current GROUP BY 1"))
    assert len(data.documents) == 24
    for page in data.documents:
        assert len(page.tasks) == tasks.get(page.document_id, 0)
        assert page.unit_mentions == mentions.get(page.document_id, 0)
    assert data.totals == {"documents": 24, "tasks": sum(tasks.values()), "unit_mentions": sum(mentions.values()),
                           "units": sql(f"SELECT count(DISTINCT unit) FROM ({TASK_UNITS}) WHERE NOT coll")[0][0]}
    # the seed's item 55 keeps its clause order and roles: （中国科协牵头，各成员单位参与）
    (key,) = sql("SELECT m.item_key FROM unit_mentions m WHERE m.raw_text = '各成员单位' AND m.role = 'participant' "
                 "AND EXISTS (SELECT 1 FROM unit_mentions l WHERE l.document_id = m.document_id "
                 "AND l.item_key = m.item_key AND l.role = 'lead' AND l.canonical_name = '中国科学技术协会') LIMIT 1")[0]
    task = next(t for p in data.documents for t in p.tasks if t.item_key == key and t.units
                and t.units[0][1] == "lead")
    assert task.units[:2] == [("中国科学技术协会", "lead", False, False), ("各成员单位", "participant", True, False)]


def test_the_page_escapes_document_text_and_loads_nothing(data):
    hostile = '<img src=x onerror=alert(1)>{{ VEGA }}</script><script>alert(2)</script>'
    page_data = replace(data, documents=[replace(data.documents[0], title=hostile)] + data.documents[1:],
                        top_units=[replace(data.top_units[0], unit=hostile)] + data.top_units[1:])
    page = render(page_data, script="/* vega */")
    assert "<img src=x" not in page and "<script>alert(2)" not in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;{{ VEGA }}") == 2  # index and document heading
    specs = re.search(r'<script type="application/json" id="report-specs">(.*?)</script>', page, re.S).group(1)
    units = [r["unit"] for r in json.loads(specs)["chart-workload"]["data"]["values"]]
    assert hostile in units  # the chart data keeps the name as written, safely inside its script element
    assert '<meta charset="utf-8">' in page and "WenQuanYi Micro Hei" in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # no CDN: every script is inside the file


def test_report_command_writes_the_page(raw_db, tmp_path):
    out = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "cli", "report", "--db", str(raw_db), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert re.match(r"wrote .*report\.html \(\d\.\d MB\): 24 documents, \d+ tasks, 15 unresolved names", result.stdout)
    page = out.read_text(encoding="utf-8")
    assert "vegaEmbed" in page and "北京市科学技术协会" in page and 'id="chart-network"' in page


@pytest.mark.parametrize("case", ["no database", "no folder", "empty database"])
def test_report_errors_are_one_line(raw_db, tmp_path, case):
    db, out = raw_db, tmp_path / "r.html"
    if case == "no database":
        db = tmp_path / "missing.duckdb"
    elif case == "no folder":
        out = tmp_path / "nowhere" / "r.html"
    else:
        db = tmp_path / "empty.duckdb"
        Store.open(db).close()
    result = subprocess.run([sys.executable, "-m", "cli", "report", "--db", str(db), "--out", str(out)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert {"no database": "notices ingest", "no folder": "--out", "empty database": "ingest notices first"}[case] in lines[0]
    assert not out.exists()


def test_empty_database_is_a_report_error(tmp_path):
    db = tmp_path / "empty.duckdb"
    Store.open(db).close()
    with pytest.raises(ReportError, match="no current documents"):
        write_report(db, tmp_path / "r.html")


def test_report_help_has_examples_and_plain_metavars():
    result = subprocess.run([sys.executable, "-m", "cli", "report", "--help"], capture_output=True, text=True,
                            cwd=ROOT, env={"COLUMNS": "200", "PATH": ""})
    assert result.returncode == 0
    assert "Example: notices report --db" in result.stdout
    assert re.search(r"--db\s+FILE", result.stdout) and re.search(r"--out\s+FILE", result.stdout)
    assert re.search(r"--network-units\s+N\b", result.stdout)


def test_report_reads_beside_another_read_only_connection(raw_db, tmp_path):
    """The report opens the database read-only: a notebook's read-only connection does not block it."""
    notebook = duckdb.connect(str(raw_db), read_only=True)
    try:
        out, data = write_report(raw_db, tmp_path / "r.html")
    finally:
        notebook.close()
    assert out.exists() and len(data.documents) == 24
