"""Rows out of the reading commands as JSON or CSV (one definition for search, docs …)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json


def _plain(value: object) -> object:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def as_json(rows: list[dict]) -> str:
    """A JSON list of objects, UTF-8 text as written (not \\u escapes), dates as ISO strings."""
    return json.dumps([{k: _plain(v) for k, v in row.items()} for row in rows], ensure_ascii=False, indent=1) + "\n"


def as_csv(rows: list[dict], columns: list[str]) -> bytes:
    """CSV with a header row, UTF-8 with a BOM so Excel reads the Chinese text; lists joined with ；."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            ["；".join(map(str, v)) if isinstance(v, (list, tuple)) else ("" if v is None else _plain(v))
             for v in (row.get(c) for c in columns)]
        )
    return out.getvalue().encode("utf-8-sig")
