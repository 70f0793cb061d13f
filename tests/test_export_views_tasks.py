"""`notices export`: the views beside the tables, the tasks of one unit or document (and the other
filters), CSV that Excel reads (UTF-8 BOM), and the xlsx workbook read back with openpyxl.

Expected counts come from SQL over the seed database, written independently of pipeline/export.py's
query: 北京市科学技术协会 (市科协) is named in 96 tasks of seed 003, all as a plain list (responsible);
中国科学技术协会 (中国科协) in 63 tasks of seeds 000 and 001, leading one (seed 000 item 55)."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import openpyxl
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.export import CUT_MARK, VIEW_NAMES, XLSX_MAX_CELL_CHARS, ExportResult, sheet_name, write_xlsx
from pipeline.store import TABLES

runner = CliRunner()


def export(db, out, *args: str):
    return runner.invoke(app, ["export", str(out), "--db", str(db), *args])


def read_csv(path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as f:  # how Excel and pandas read a BOM
        return list(csv.DictReader(f))


def scalar(db, sql: str, params=()):
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def test_csv_export_writes_the_views_beside_the_tables_with_a_bom(seed_db, tmp_path):
    result = export(seed_db, tmp_path, "--format", "csv")
    assert result.exit_code == 0, result.output
    assert {p.stem for p in tmp_path.iterdir()} == {"meta", *TABLES, *VIEW_NAMES}
    for path in tmp_path.iterdir():
        assert path.read_bytes().startswith(b"\xef\xbb\xbf"), path.name
    item_units = read_csv(tmp_path / "item_units.csv")
    assert list(item_units[0])[0] == "document_id"  # the BOM is not part of the first header
    assert len(item_units) == scalar(seed_db, "SELECT count(*) FROM item_units")
    # A list as text joined with 、, in the order written.
    row = next(r for r in item_units if r["item_key"] == "附件/55")
    assert row["units"] == "中国科学技术协会、各成员单位" and row["lead_unit"] == "中国科学技术协会"
    workload = read_csv(tmp_path / "unit_workload.csv")
    assert sum(int(r["items_total"]) for r in workload) == scalar(seed_db, "SELECT count(*) FROM unit_mentions")
    summary = read_csv(tmp_path / "document_summary.csv")
    assert {r["doc_number"] for r in summary} >= {"京纲要办发〔2023〕2号", "唐全科字〔2023〕1号"}
    # DuckDB reads it back too (the BOM skipped).
    with duckdb.connect() as con:
        assert con.execute(f"SELECT count(*) FROM read_csv('{tmp_path / 'items.csv'}')").fetchone()[0] == 472


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_parquet_and_jsonl_exports_keep_the_views_lists_as_lists(seed_db, tmp_path, fmt):
    assert export(seed_db, tmp_path, "--format", fmt).exit_code == 0
    reader = {"parquet": "read_parquet", "jsonl": "read_json_auto"}[fmt]
    with duckdb.connect() as con:
        units = con.execute(f"SELECT units FROM {reader}('{tmp_path / ('item_units.' + fmt)}') "
                            "WHERE item_key = '附件/55'").fetchone()[0]
    assert units == ["中国科学技术协会", "各成员单位"]


def test_the_tasks_of_one_unit_by_its_alias_with_its_role(seed_db, tmp_path):
    result = export(seed_db, tmp_path, "--unit", "市科协", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "96 tasks" in result.output
    rows = read_csv(tmp_path / "tasks.csv")
    expected = scalar(seed_db, "SELECT count(DISTINCT (document_id, item_key)) FROM unit_mentions "
                               "WHERE canonical_name = '北京市科学技术协会'")
    assert len(rows) == expected == 96
    assert {r["unit_role"] for r in rows} == {"responsible"}
    assert {r["title"] for r in rows} == {"关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知"}
    assert all("北京市科学技术协会（负责）" in r["units_with_roles"] and "北京市科学技术协会" in r["units"].split("、")
               for r in rows)
    first = rows[0]
    assert (first["item_key"], first["doc_number"], first["issued_date"], first["section"]) == (
        "附件1/1/2", "京纲要办发〔2023〕2号", "2023-04-13", "大力弘扬科学家精神，在全社会厚植创新发展沃土")
    assert first["units_text"] == "市科协、市科委、中关村管委会、市教委、市科研院、经开区"


def test_the_tasks_a_unit_leads_show_lead_as_its_role(seed_db, tmp_path):
    assert export(seed_db, tmp_path, "--unit", "中国科协", "--format", "jsonl").exit_code == 0
    with duckdb.connect() as con:
        rows = con.execute(f"SELECT item_key, unit_role, lead_unit, units FROM read_json_auto('{tmp_path / 'tasks.jsonl'}')").fetchall()
    assert len(rows) == scalar(seed_db, "SELECT count(DISTINCT (document_id, item_key)) FROM unit_mentions "
                                        "WHERE canonical_name = '中国科学技术协会'") == 63
    assert [r for r in rows if r[1] == "lead"] == [("附件/55", "lead", "中国科学技术协会", ["中国科学技术协会", "各成员单位"])]


def test_one_documents_tasks_and_the_filters_narrowing_them(seed_db, tmp_path):
    one = export(seed_db, tmp_path / "one", "--doc", "京纲要办发〔2023〕2号", "--format", "csv")
    assert one.exit_code == 0, one.output
    rows = read_csv(tmp_path / "one" / "tasks.csv")
    assert len(rows) == 320 and "unit_role" not in rows[0]
    assert [r["item_key"] for r in rows[:2]] == ["附件1/1/1", "附件1/1/2"] and rows[-1]["item_key"].startswith("附件2/")
    # --doc and --unit: the unit's tasks in that document only; a year selects documents.
    both = export(seed_db, tmp_path / "both", "--doc", "001_6963", "--unit", "中国科协", "--format", "csv")
    assert both.exit_code == 0, both.output
    assert len(read_csv(tmp_path / "both" / "tasks.csv")) == scalar(
        seed_db, "SELECT count(DISTINCT item_key) FROM unit_mentions m JOIN documents d USING (document_id) "
                 "WHERE canonical_name = '中国科学技术协会' AND source_path LIKE '%001_6963%'")
    year = export(seed_db, tmp_path / "year", "--year", "2023", "--format", "csv")
    assert year.exit_code == 0
    assert len(read_csv(tmp_path / "year" / "tasks.csv")) == scalar(
        seed_db, "SELECT count(*) FROM items JOIN documents d USING (document_id) WHERE d.year = 2023") == 320 + 22
    none = export(seed_db, tmp_path / "none", "--jurisdiction", "北京", "--unit", "中国科协", "--format", "csv")
    assert none.exit_code == 0 and "0 tasks; the filter selects no task" in none.output
    assert read_csv(tmp_path / "none" / "tasks.csv") == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--unit", "没有这个单位"], "no unit named '没有这个单位'"),
        (["--doc", "没有这个文件"], "no document matches --doc '没有这个文件'"),
        (["--unit", "市科协", "--format", "duckdb1"], "export tasks (--unit, --doc and the other filters) as parquet"),
        (["--format", "xml"], "choose parquet, csv, jsonl, xlsx or duckdb1"),
        (["--since", "April"], "'April' is not a date"),
    ],
)
def test_a_wrong_filter_or_format_is_one_line(seed_db, tmp_path, args, message):
    result = export(seed_db, tmp_path / "out", *args)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1, result.output


def test_the_xlsx_workbook_has_a_sheet_per_table_a_frozen_header_widths_and_the_chinese_text(seed_db, tmp_path):
    result = export(seed_db, tmp_path, "--format", "xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "notices.xlsx")
    # The search index's word tables are left out of a workbook (millions of rows on a real database).
    assert book.sheetnames == ["meta", *(t for t in TABLES if t not in ("item_tokens", "passage_tokens")), *VIEW_NAMES]
    with duckdb.connect(str(seed_db), read_only=True) as con:
        cursor = con.execute("SELECT * FROM documents ORDER BY rowid")
        columns, expected = [d[0] for d in cursor.description], cursor.fetchall()
        counts = {n: con.execute(f"SELECT count(*) FROM {n}").fetchone()[0] for n in book.sheetnames}
    for name in book.sheetnames:
        sheet = book[name]
        assert sheet.freeze_panes == "A2", name
        assert sheet.max_row == counts[name] + 1, name
    documents = book["documents"]
    assert [c.value for c in documents[1]] == columns
    assert all(c.font.b for c in documents[1])
    by_column = dict(zip(columns, zip(*[[c.value for c in row] for row in documents.iter_rows(min_row=2)])))
    assert list(by_column["title"]) == [r[columns.index("title")] for r in expected]
    assert "关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知" in by_column["title"]
    # Dates are dates (not text), numbers numbers, booleans booleans.
    assert dt.datetime(2023, 4, 13) in by_column["issued_date"]
    assert set(by_column["is_current"]) == {True}
    # Widths follow the content: the title column is wide (capped), a boolean column narrow.
    title_col = openpyxl.utils.get_column_letter(columns.index("title") + 1)
    flag_col = openpyxl.utils.get_column_letter(columns.index("is_current") + 1)
    assert documents.column_dimensions[title_col].width >= 60 > documents.column_dimensions[flag_col].width >= 6
    # A list column as text joined with 、.
    item_units = book["item_units"]
    header = [c.value for c in item_units[1]]
    row = next(r for r in item_units.iter_rows(min_row=2, values_only=True) if r[header.index("item_key")] == "附件/55")
    assert row[header.index("units")] == "中国科学技术协会、各成员单位"


def test_the_tasks_of_a_unit_as_a_workbook(seed_db, tmp_path):
    result = export(seed_db, tmp_path, "--unit", "北京市科学技术协会", "--format", "xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "tasks.xlsx")
    assert book.sheetnames == ["tasks"]
    sheet = book["tasks"]
    assert sheet.max_row == 97 and sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    first = [c.value for c in sheet[2]]
    assert first[header.index("text")].startswith("构建科学家精神宣传体系。")
    assert first[header.index("unit_role")] == "responsible"


def test_a_text_longer_than_an_excel_cell_is_cut_with_a_mark_and_said(tmp_path, monkeypatch):
    import pipeline.export as export_module

    monkeypatch.setattr(export_module, "XLSX_MAX_ROWS", 4)  # a sheet of 3 rows: the 5 rows go on in a second sheet
    con = duckdb.connect()
    result = ExportResult()
    target = tmp_path / "long.xlsx"
    write_xlsx(con, [("a very long table name that Excel cannot take", "SELECT i, repeat('科', 40000) AS t FROM range(5) r(i)", [])],
               target, result)
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == ["a very long table name that Exc", "a very long table name that (2)"]
    cell = book.worksheets[0]["B2"].value
    kept = cell.index("…")
    assert XLSX_MAX_CELL_CHARS - 3 <= len(cell) <= XLSX_MAX_CELL_CHARS  # the mark's count has 4 or 5 digits
    assert cell == "科" * kept + CUT_MARK.format(f"{40000 - kept:,}")
    assert [r[0] for r in book.worksheets[1].iter_rows(min_row=2, values_only=True)] == [3, 4]
    assert result.rows == {"a very long table name that Excel cannot take": 5}
    assert "5 cells longer than Excel's 32,767 characters cut" in result.notes[0]
    assert "continued in 1 more sheet" in result.notes[1]


def test_sheet_names_are_valid_for_excel():
    assert sheet_name("unit_workload") == "unit_workload"
    assert sheet_name("a/b:c*d?e[f]") == "a_b_c_d_e_f_"
    assert len(sheet_name("x" * 40, 12)) == 31 and sheet_name("x" * 40, 12).endswith(" (12)")


def test_a_full_disk_while_writing_a_workbook_is_one_line_and_leaves_no_file(seed_db, tmp_path):
    from tests.test_errors_actionable import _notices, _one_line_error

    out = tmp_path / "out"
    result = _notices("export", str(out), "--db", str(seed_db), "--format", "xlsx", file_size_limit=64 * 1024)
    line = _one_line_error(result, "cannot write", str(out / "notices.xlsx"), "export to another folder")
    assert line.startswith("error: ")
    assert list(out.iterdir()) == []
