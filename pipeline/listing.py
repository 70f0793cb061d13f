"""Rows out of the reading commands as JSON or CSV (one definition for search, docs …)."""

from __future__ import annotations

import csv
import io
import json

from pipeline.query import cell_text, json_value


def as_json(rows: list[dict]) -> str:
    """A JSON list of objects, UTF-8 text as written (not \\u escapes), dates as ISO strings."""
    return json.dumps([{k: json_value(v) for k, v in row.items()} for row in rows], ensure_ascii=False, indent=1) + "\n"


def as_csv(rows: list[dict], columns: list[str]) -> bytes:
    """CSV with a header row, UTF-8 with a BOM so Excel reads the Chinese text; lists joined with ；."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell_text(row.get(c), "；") for c in columns])
    return out.getvalue().encode("utf-8-sig")
