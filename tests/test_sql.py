"""`notices sql`: every README example query runs through it on the seed database and gives what DuckDB
gives; it cannot write; errors are one line."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.query import json_value
from tests.test_readme_queries import QUERIES

runner = CliRunner()


def sql(db, *args: str, stdin: str | None = None):
    return runner.invoke(app, ["sql", *args, "--db", str(db)], input=stdin)


def _direct(db, query: str) -> tuple[list[str], list[tuple]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cursor = con.execute(query)
        return [d[0] for d in cursor.description], cursor.fetchall()


@pytest.mark.parametrize("number", sorted(QUERIES))
def test_every_readme_query_runs_through_notices_sql_as_written(seed_db, tmp_path, number):
    """The README's queries, each from a file as a user saves it (they start with a -- comment)."""
    query_file = tmp_path / f"q{number}.sql"
    query_file.write_text(QUERIES[number] + ";\n", encoding="utf-8")
    columns, rows = _direct(seed_db, QUERIES[number])
    assert rows  # every example answers something on the seeds

    as_json = sql(seed_db, "--file", str(query_file), "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.stdout) == [dict(zip(columns, map(json_value, row))) for row in rows]

    table = sql(seed_db, "--file", str(query_file), "--limit", "100")
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0].split() == columns
    assert lines[-1] == f"({len(rows)} row{'' if len(rows) == 1 else 's'})"
    assert len(lines) == len(rows) + 3  # header, rule, rows, count


def test_a_query_from_standard_input_or_as_an_argument(seed_db):
    query = QUERIES["6"]
    piped = sql(seed_db, "-", "--csv", stdin=query)
    assert piped.exit_code == 0, piped.output
    # Excel's reading: the BOM is not part of the first header cell.
    reader = csv.reader(io.StringIO(piped.stdout.encode("utf-8").decode("utf-8-sig")))
    header, *rows = list(reader)
    assert piped.stdout.startswith("\ufeff") and header == ["title", "doc_number", "issued_date", "items", "unit_mentions"]
    assert rows[3] == ["关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知", "京纲要办发〔2023〕2号", "2023-04-13", "320", "683"]
    argument = sql(seed_db, "SELECT title, items FROM document_summary ORDER BY items DESC", "--limit", "2")
    assert argument.exit_code == 0, argument.output
    lines = argument.stdout.splitlines()
    assert lines[2].startswith("关于印发2023年北京市全民科学素质工作重…") and lines[2].endswith(" 320")
    assert lines[-1] == "(2 of 5 rows shown; --limit N shows more, --csv or --json gives all)"


def test_lists_and_nulls_print_readably(seed_db):
    result = sql(seed_db, "SELECT units, lead_unit FROM item_units WHERE item_key = '附件/55'", "--json")
    assert json.loads(result.stdout) == [{"units": ["中国科学技术协会", "各成员单位"], "lead_unit": "中国科学技术协会"}]
    table = sql(seed_db, "SELECT units, lead_unit FROM item_units WHERE item_key = '附件/5'")
    assert "中共中央宣传部、中国科学技术协会" in table.stdout and "NULL" in table.stdout


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("INSERT INTO meta VALUES ('a', 'b')", 'Cannot execute statement of type "INSERT"'),
        ("DELETE FROM items", 'Cannot execute statement of type "DELETE"'),
        ("DROP VIEW item_units", 'Cannot execute statement of type "DROP"'),
        ("SELECT 1; CREATE TABLE x (a INT)", 'Cannot execute statement of type "CREATE"'),
    ],
)
def test_a_query_that_writes_is_refused_in_one_line(seed_db, query, message):
    result = sql(seed_db, query)
    assert result.exit_code == 2
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and message in line and "opens the database read-only" in line
    assert _direct(seed_db, "SELECT count(*) FROM items")[1] == [(472,)]


def test_files_beside_the_database_are_neither_written_nor_read(seed_db, tmp_path):
    target = tmp_path / "out.csv"
    for query in (f"COPY items TO '{target}'", f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
                  "SELECT * FROM read_csv('/etc/hostname')", "SET enable_external_access = true"):
        result = sql(seed_db, query)
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, result.output
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["SELECT nope FROM items"], 'Binder Error: Referenced column "nope" not found'),
        (["SELEC 1"], 'Parser Error: syntax error at or near "SELEC"'),
        (["SELECT cast('x' AS INTEGER)"], "Conversion Error"),
        (["  "], "the query is empty"),
        ([], "give a query"),
        (["SELECT 1", "--csv", "--json"], "not both"),
        (["--file", "/nonexistent/q.sql"], "cannot read the query file /nonexistent/q.sql"),
    ],
)
def test_a_wrong_query_is_one_line_with_duckdbs_message(seed_db, args, message):
    result = sql(seed_db, *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output and "LINE 1" not in result.output
