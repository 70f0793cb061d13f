"""`notices export`: the database's tables and views as files, or the tasks of one unit or document
as one table, in parquet, CSV (UTF-8 with a BOM, so Excel reads the Chinese text), JSON lines or an
Excel workbook (xlsx).

Lists (a task's units, a section's pages) stay lists in parquet and JSON lines; in CSV and xlsx,
which have no lists, they are text joined with 、. Every file is written beside its target and renamed
(Store._write_beside): a full disk never leaves a cut file that looks whole."""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from pipeline.errors import StoreError
from pipeline.lookup import DocumentFilter, unit_names
from pipeline.query import display_width

if TYPE_CHECKING:
    from pipeline.store import Store

FILE_FORMATS = ("parquet", "csv", "jsonl", "xlsx")
FORMATS = (*FILE_FORMATS, "duckdb1")
VIEW_NAMES = ("document_summary", "item_units", "unit_workload")
LIST_SEPARATOR = "、"
BOM = "\ufeff".encode()

# Excel's limits (Microsoft: "Excel specifications and limits").
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_CELL_CHARS = 32_767
XLSX_MAX_SHEET_NAME = 31
CUT_MARK = "…[cut: {} more characters]"
# Column widths come from the header and the first rows, in character widths (a CJK character is two).
WIDTH_SAMPLE_ROWS = 1_000
MIN_WIDTH, MAX_WIDTH = 6, 60

# The tasks of the items the filter selects: one row per task, with its document, its section and every
# unit named with its role (the notices' words: 牵头 负责 配合 参与 指导). With --unit, unit_role is that
# unit's role in the task (the stored value: lead, responsible, …; several joined with 、).
_ROLE_WORDS_SQL = (
    "CASE m.role WHEN 'lead' THEN '牵头' WHEN 'responsible' THEN '负责' WHEN 'cooperating' THEN '配合' "
    "WHEN 'participant' THEN '参与' WHEN 'guiding' THEN '指导' ELSE m.role END"
)
TASK_COLUMNS = """
    d.title, d.doc_number, d.issued_date, d.jurisdiction, i.item_key, s.title AS section, i.label, i.category,
    i.text, {unit_role} u.lead_unit, u.units,
    (SELECT string_agg(coalesce(m.canonical_name, m.raw_text) || '（' || {role_word} || '）', '、' ORDER BY m.position)
     FROM unit_mentions m WHERE m.document_id = i.document_id AND m.item_key = i.item_key) AS units_with_roles,
    i.units_text, i.pages, d.source_path, i.document_id"""


@dataclass
class ExportResult:
    files: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows written per table (tasks exports)
    notes: list[str] = field(default_factory=list)  # what a reader should know (cells cut for Excel)


def check_format(fmt: str, *, tasks: bool = False) -> None:
    allowed = FILE_FORMATS if tasks else FORMATS
    if fmt not in allowed:
        if tasks and fmt == "duckdb1":
            raise StoreError("--format duckdb1 copies the whole database; export tasks (--unit, --doc and the other "
                             "filters) as parquet, csv, jsonl or xlsx")
        raise StoreError(f"unknown export format '{fmt}'; choose {', '.join(allowed[:-1])} or {allowed[-1]}")


# Derived from items.search_words and passages.search_words for BM25; the other formats keep them.
SEARCH_INDEX_TABLES = ("item_tokens", "passage_tokens")


def export_database(store: Store, out_dir: str | Path, fmt: str) -> ExportResult:
    """Every table and view: a file each, or one workbook with a sheet each (xlsx), or the whole
    database in DuckDB 1.0's format (duckdb1)."""
    from pipeline.store import TABLES

    check_format(fmt)
    out = _folder(out_dir)
    if fmt == "duckdb1":
        return ExportResult([store._export_duckdb1(out / "notices.duckdb")])
    relations = ["meta", *TABLES, *VIEW_NAMES]
    if fmt == "xlsx":  # the word tables are a search index: millions of rows no one reads in Excel
        relations = [name for name in relations if name not in SEARCH_INDEX_TABLES]
    sheets = [(name, f"SELECT * FROM {name}", []) for name in relations]
    if fmt == "xlsx":
        target = out / "notices.xlsx"
        result = ExportResult([target])
        store._write_beside(target, lambda partial: write_xlsx(store.con, sheets, partial, result))
        return result
    result = ExportResult()
    for name, sql, params in sheets:
        target = out / f"{name}.{fmt}"
        store._write_beside(target, lambda partial: write_file(store.con, sql, params, partial, fmt),
                            f" ({len(result.files)} of {len(sheets)} files were written)")
        result.files.append(target)
    return result


def tasks_query(con: duckdb.DuckDBPyConnection, flt: DocumentFilter) -> tuple[str, list[object]]:
    """The SELECT of the tasks the filter selects (see TASK_COLUMNS), in the order of the documents'
    dates and of the text, and its parameters."""
    params: list[object] = []
    unit_role = ""
    if flt.unit:
        names = unit_names(con, flt.unit)
        if names:  # else flt.where says the unit is unknown
            marks = ", ".join("?" for _ in names)
            unit_role = (
                "(SELECT string_agg(DISTINCT m.role, '、' ORDER BY m.role) FROM unit_mentions m "
                "WHERE m.document_id = i.document_id AND m.item_key = i.item_key "
                f"AND coalesce(m.canonical_name, m.raw_text) IN ({marks})) AS unit_role,"
            )
            params += names
    where, where_params = flt.where(con, "d", item_alias="i")
    sql = (
        f"SELECT {TASK_COLUMNS.format(unit_role=unit_role, role_word=_ROLE_WORDS_SQL)}\n"
        "FROM items i JOIN documents d USING (document_id)\n"
        "JOIN item_units u USING (document_id, item_key)\n"
        "LEFT JOIN sections s ON s.document_id = i.document_id AND s.section_key = i.section_key\n"
        f"WHERE {where}\n"
        "ORDER BY d.issued_date NULLS LAST, d.source_path, i.start_offset, i.item_key"
    )
    return sql, params + where_params


def export_tasks(store: Store, out_dir: str | Path, fmt: str, flt: DocumentFilter) -> ExportResult:
    """The tasks the filter selects (--unit: the tasks naming that unit; --doc: a document's tasks; the
    other filters narrow the documents) as one table, `tasks.<format>`."""
    check_format(fmt, tasks=True)
    sql, params = tasks_query(store.con, flt)
    out = _folder(out_dir)
    target = out / f"tasks.{fmt}"
    result = ExportResult([target])
    if fmt == "xlsx":
        store._write_beside(target, lambda partial: write_xlsx(store.con, [("tasks", sql, params)], partial, result))
    else:
        store._write_beside(target, lambda partial: write_file(store.con, sql, params, partial, fmt))
        (count,) = store.con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()
        result.rows["tasks"] = count
    return result


def write_file(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], target: Path, fmt: str) -> None:
    """One query's rows into `target` with DuckDB's COPY; CSV with its lists as text and a UTF-8 BOM."""
    if fmt == "csv":
        # DuckDB's COPY writes no BOM: write the body beside, then the BOM and the body into target.
        body = target.with_name(target.name + ".body")
        try:
            _copy(con, flat_select(con, sql, params), params, body, "FORMAT csv, HEADER")
            with open(target, "wb") as out, open(body, "rb") as source:
                out.write(BOM)
                shutil.copyfileobj(source, out, 1 << 20)
        finally:
            body.unlink(missing_ok=True)
        return
    options = {"parquet": "FORMAT parquet", "jsonl": "FORMAT json"}[fmt]
    _copy(con, sql, params, target, options)


def _copy(con: duckdb.DuckDBPyConnection, sql: str, params: list[object], target: Path, options: str) -> None:
    from pipeline.store import _sql_string

    con.execute(f"COPY ({sql}) TO {_sql_string(str(target))} ({options})", params or None)


def flat_select(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> str:
    """`sql` with each LIST column as text joined with 、 (CSV and Excel have no lists)."""
    columns = con.execute(f"DESCRIBE ({sql})", params or None).fetchall()
    if not any(str(t).endswith("]") for _, t, *_ in columns):
        return sql
    parts = [
        f"array_to_string({_quote(name)}, '{LIST_SEPARATOR}') AS {_quote(name)}" if str(t).endswith("]") else _quote(name)
        for name, t, *_ in columns
    ]
    return f"SELECT {', '.join(parts)} FROM ({sql})"


def write_xlsx(con: duckdb.DuckDBPyConnection, sheets: list[tuple[str, str, list[object]]], target: Path,
               result: ExportResult) -> None:
    """One workbook, a sheet per query: a bold frozen header row, columns as wide as their header and
    first rows (a CJK character counts two), dates as dates, numbers as numbers, lists as text joined with
    、. A text longer than a cell holds (32,767 characters) is cut with a mark and said in result.notes;
    a table longer than a sheet (1,048,575 rows) goes on in a sheet `name (2)`."""
    import xlsxwriter
    import xlsxwriter.exceptions

    # constant_memory: rows are streamed to disk as written, so a sheet of a million rows fits in memory.
    # No conversion of text that looks like a formula, number or URL: a task's text is kept as written.
    workbook = xlsxwriter.Workbook(str(target), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "default_date_format": "yyyy-mm-dd",
    })
    header_format = workbook.add_format({"bold": True, "bottom": 1})
    date_format = workbook.add_format({"num_format": "yyyy-mm-dd"})
    time_format = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    try:
        for name, sql, params in sheets:
            cursor = con.execute(sql, params or None)
            columns = [d[0] for d in cursor.description]
            cut = 0
            count = 0
            part = 1
            sheet, widths = _new_sheet(workbook, name, part, columns, header_format)
            row_number = 0
            while rows := cursor.fetchmany(10_000):
                for row in rows:
                    if row_number == XLSX_MAX_ROWS - 1:
                        _finish_sheet(sheet, widths, columns)
                        part += 1
                        sheet, widths = _new_sheet(workbook, name, part, columns, header_format)
                        row_number = 0
                    row_number += 1
                    count += 1
                    for col, value in enumerate(row):
                        cut += _write_cell(sheet, row_number, col, value, date_format, time_format,
                                           widths if count <= WIDTH_SAMPLE_ROWS else None)
            _finish_sheet(sheet, widths, columns)
            result.rows[name] = count
            if cut:
                result.notes.append(
                    f"{name}: {cut} cell{'s' if cut > 1 else ''} longer than Excel's {XLSX_MAX_CELL_CHARS:,} characters "
                    "cut, marked …[cut: N more characters] (the full text is in the csv, parquet or jsonl export)"
                )
            if part > 1:
                result.notes.append(f"{name}: {count:,} rows, more than a sheet holds; continued in {part - 1} more "
                                    f"sheet{'s' if part > 2 else ''} named '{name} (2)' …")
    except BaseException:
        with contextlib.suppress(Exception):
            workbook.close()
        raise
    try:
        workbook.close()
    except xlsxwriter.exceptions.FileCreateError as exc:  # a full disk: an OSError for _write_beside to report
        raise (exc.args[0] if exc.args and isinstance(exc.args[0], OSError) else OSError(str(exc))) from exc


def sheet_name(name: str, part: int = 1) -> str:
    """A valid sheet name: no []:*?/\\, at most 31 characters, `(2)`… for a continuation."""
    clean = "".join("_" if c in "[]:*?/\\" else c for c in name).strip("'") or "sheet"
    suffix = f" ({part})" if part > 1 else ""
    return clean[: XLSX_MAX_SHEET_NAME - len(suffix)] + suffix


def _new_sheet(workbook, name: str, part: int, columns: list[str], header_format):
    sheet = workbook.add_worksheet(sheet_name(name, part))
    for col, title in enumerate(columns):
        sheet.write_string(0, col, title, header_format)
    sheet.freeze_panes(1, 0)
    return sheet, [display_width(c) + 2 for c in columns]  # room for the filter arrow a user may add


def _finish_sheet(sheet, widths: list[int], columns: list[str]) -> None:
    for col, width in enumerate(widths):
        sheet.set_column(col, col, max(MIN_WIDTH, min(MAX_WIDTH, width + 1)))
    if columns:
        sheet.autofilter(0, 0, 0, len(columns) - 1)


def _write_cell(sheet, row: int, col: int, value, date_format, time_format, widths: list[int] | None) -> int:
    """Write one value; returns 1 when its text was cut to fit a cell."""
    from pipeline.query import cell_text

    if value is None:
        return 0
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
        text = "TRUE"
    elif isinstance(value, (int, float, decimal.Decimal)) and abs(value) < 1e15:
        sheet.write_number(row, col, float(value) if isinstance(value, decimal.Decimal) else value)
        text = str(value)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), time_format)
        text = "2023-01-01 00:00:00"
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, value, date_format)
        text = "2023-01-01"
    else:
        text = cell_text(value)
        if not text:  # an empty list: a blank cell, as NULL
            return 0
        cut = 0
        if len(text) > XLSX_MAX_CELL_CHARS:
            longest_mark = CUT_MARK.format(f"{len(text):,}")  # the mark's length with the most digits it can have
            keep = XLSX_MAX_CELL_CHARS - len(longest_mark)
            text = text[:keep] + CUT_MARK.format(f"{len(text) - keep:,}")
            cut = 1
        sheet.write_string(row, col, text)
        if widths is not None:
            widths[col] = max(widths[col], display_width(text[:200].split("\n")[0]))
        return cut
    if widths is not None:
        widths[col] = max(widths[col], len(text))
    return 0


def _folder(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the folder {out}: {exc.strerror or exc}") from exc
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
