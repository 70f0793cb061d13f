"""`notices sql`: run a query on the database read-only and print its rows as a table, CSV or JSON.

The connection is opened read-only and with DuckDB's external access off (and locked), so a query can
read every table, view and macro of the database but cannot change it, attach another file, or read or
write files beside it (COPY … TO, read_csv): each refusal, and any SQL error, is one line with DuckDB's
own message."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TextIO

import duckdb

from pipeline.errors import NoticeError

# Rows fetched from DuckDB at a time: a query over every item token streams, whatever the format.
FETCH_ROWS = 10_000
# A cell of the printed table is cut to this many terminal columns (a CJK character takes two).
CELL_WIDTH = 40


class QueryError(NoticeError):
    """A query DuckDB refuses: a syntax or binder error, or one that would write."""


@dataclass
class QueryResult:
    columns: list[str]
    types: list[str]
    cursor: duckdb.DuckDBPyConnection

    def batches(self) -> Iterator[list[tuple]]:
        while True:
            try:
                rows = self.cursor.fetchmany(FETCH_ROWS)
            except duckdb.Error as exc:  # an error met while streaming (a cast that fails on row 20,000)
                raise QueryError(_one_line(exc)) from exc
            if not rows:
                return
            yield rows


def lock_down(con: duckdb.DuckDBPyConnection) -> None:
    """Forbid files outside the database (COPY … TO, ATTACH, read_csv) on this connection, for good."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    """Run `sql` (one or more statements; the last one's rows are the result) on a connection opened
    read-only and locked down (lock_down). A refused or failing query is one QueryError line."""
    if not sql.strip() or not _has_statement(con, sql):
        raise QueryError("the query is empty; give a SELECT, e.g. notices sql \"SELECT * FROM document_summary\"")
    try:
        cursor = con.execute(sql)
    except duckdb.Error as exc:
        raise QueryError(_one_line(exc)) from exc
    if cursor.description is None:
        raise QueryError("the query returned no rows to show (only statements that read are run)")
    return QueryResult([d[0] for d in cursor.description], [str(d[1]) for d in cursor.description], cursor)


def _has_statement(con: duckdb.DuckDBPyConnection, sql: str) -> bool:
    try:
        return bool(con.extract_statements(sql))
    except duckdb.Error:
        return True  # a syntax error: let execute report it in DuckDB's words


def _one_line(exc: duckdb.Error) -> str:
    """DuckDB's message on one line, without the LINE/caret drawing; a write says why it is refused."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("LINE ") or not line.strip():
            if line.startswith("LINE "):
                break
            continue
        lines.append(line.strip())
    message = " ".join(lines)
    if "read-only mode" in message:
        return f"{message} (notices sql opens the database read-only; it changes only through notices ingest, remove or renormalize)"
    if isinstance(exc, duckdb.PermissionException):
        return f"{message} (notices sql reads only the database; to write files use notices export, to read others open them with duckdb)"
    return message


# -- output -------------------------------------------------------------------------------------------

def cell_text(value: Any, separator: str = "、") -> str:
    """A value as text for a table or CSV cell: NULL empty, lists joined with `separator`, dates ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return separator.join(cell_text(v, separator) for v in value)
    if isinstance(value, dict):
        return json.dumps(json_value(value), ensure_ascii=False)
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (uuid.UUID, dt.timedelta)):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def write_csv(result: QueryResult, out: TextIO) -> int:
    """Every row as CSV with a header (the caller writes the BOM where the output is a file for Excel)."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(result.columns)
    count = 0
    for rows in result.batches():
        writer.writerows([cell_text(v) for v in row] for row in rows)
        count += len(rows)
    return count


def write_json(result: QueryResult, out: TextIO) -> int:
    """Every row as a JSON list of objects, streamed (one object a line)."""
    count = 0
    out.write("[")
    for rows in result.batches():
        for row in rows:
            out.write(",\n" if count else "\n")
            out.write(json.dumps(dict(zip(result.columns, map(json_value, row))), ensure_ascii=False))
            count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_table(result: QueryResult, out: TextIO, limit: int) -> tuple[int, int]:
    """The first `limit` rows as an aligned text table (CJK characters count two columns; cells cut at
    CELL_WIDTH with …), then how many rows there were. Returns (rows shown, rows in all)."""
    shown: list[list[str]] = []
    total = 0
    for rows in result.batches():
        for row in rows[: max(0, limit - len(shown))]:
            shown.append(["NULL" if v is None else _fit(cell_text(v).replace("\n", " ⏎ ")) for v in row])
        total += len(rows)
    header = [_fit(c) for c in result.columns]
    widths = [max([display_width(h)] + [display_width(r[i]) for r in shown]) for i, h in enumerate(header)]
    numeric = [_is_numeric(t) for t in result.types]

    def line(cells: list[str]) -> str:
        padded = [_pad(c, w, right) for c, w, right in zip(cells, widths, numeric)]
        return "  ".join(padded).rstrip()

    out.write(line(header) + "\n")
    out.write("  ".join("─" * w for w in widths) + "\n")
    for row in shown:
        out.write(line(row) + "\n")
    if total > len(shown):
        out.write(f"({len(shown)} of {total} rows shown; --limit N shows more, --csv or --json gives all)\n")
    else:
        out.write(f"({total} row{'' if total == 1 else 's'})\n")
    return len(shown), total


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def _fit(text: str, width: int = CELL_WIDTH) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for c in text:
        w = display_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    space = " " * (width - display_width(text))
    return space + text if right else text + space


def _is_numeric(type_name: str) -> bool:
    return type_name.upper().split("(")[0] in {
        "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
        "FLOAT", "DOUBLE", "DECIMAL", "NUMBER",
    }
