"""Finding documents in the database: what `--doc`, `--unit` and the other filters of the reading
commands (search, docs, show, export, report) mean, in one place.

Every function takes an open DuckDB connection (read-only is enough) and returns plain values or
SQL fragments with their parameters; nothing here prints.

    >>> con = duckdb.connect("data/notices.duckdb", read_only=True)
    >>> resolve_document(con, "京纲要办发〔2023〕2号")
    'd05638e1e48676b0'
    >>> where, params = DocumentFilter(jurisdiction="北京", year=2023).where("d")
    >>> con.execute(f"SELECT title FROM documents d WHERE {where}", params).fetchall()
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb

from pipeline.errors import NoticeError

# A document id is 16 hex digits; a prefix this long or longer is taken as one (like git's short ids).
MIN_ID_PREFIX = 6


class LookupFailed(NoticeError):
    """A --doc or --unit value names nothing, or names several documents where one is needed."""


def matching_documents(con: duckdb.DuckDBPyConnection, ref: str) -> list[tuple[str, str, str | None, str | None]]:
    """Current documents `ref` names, best kind of match first, as (document_id, source_path, doc_number, title).

    `ref` is tried, in order, as: a document id or a prefix of one (≥ 6 hex digits); a 发文字号 as written
    (京纲要办发〔2023〕2号; read by extractors.metadata, so brackets, spaces and 第 are not significant);
    a file path or file name (data/raw/003_b8b4a31499fe38d2.txt, 003_b8b4a31499fe38d2.txt, or a unique start of it); part of the title.
    The first kind that matches anything decides."""
    ref = ref.strip()
    if not ref:
        return []
    columns = "SELECT document_id, source_path, doc_number, title FROM documents WHERE is_current AND "
    order = " ORDER BY source_path"
    attempts: list[tuple[str, list[object]]] = []
    if len(ref) >= MIN_ID_PREFIX and all(c in "0123456789abcdef" for c in ref.lower()):
        attempts.append(("starts_with(document_id, ?)", [ref.lower()]))
    from extractors.metadata import doc_number_line  # the one 发文字号 parser (not loaded by a search without --doc)

    number = doc_number_line(ref)
    if number is not None:
        attempts.append(("doc_number_organ = ? AND doc_number_year IS NOT DISTINCT FROM ? AND doc_number_serial = ?",
                         [number.organ_code, number.year, number.serial]))
    attempts.append(("(source_path = ? OR ends_with(source_path, '/' || ?))", [ref, ref.removeprefix("./")]))
    name = ref.rsplit("/", 1)[-1]
    if name:  # `folder/` names no file: its empty start would match every one
        attempts.append(("starts_with(regexp_extract(source_path, '[^/]*$'), ?)", [name]))
    attempts.append(("contains(title, ?)", [ref]))
    for where, params in attempts:
        rows = con.execute(columns + where + order, params).fetchall()
        if rows:
            return rows
    return []


def resolve_document(con: duckdb.DuckDBPyConnection, ref: str) -> str:
    """The one current document `ref` names (see matching_documents); a NoticeError saying what to
    type instead when it names none or several."""
    rows = matching_documents(con, ref)
    if not rows:
        raise LookupFailed(
            f"no document matches {ref!r} (an id, 发文字号, file name or part of the title); "
            "list them with: notices docs"
        )
    if len(rows) > 1:
        shown = "; ".join(f"{r[0]} {_label(r)}" for r in rows[:5])
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise LookupFailed(f"{ref!r} matches {len(rows)} documents: {shown}{more}; give one of the ids")
    return rows[0][0]


def unit_names(con: duckdb.DuckDBPyConnection, name: str) -> list[str]:
    """Canonical names `name` stands for: itself if it is one, the canonical names it is an alias of
    (in any jurisdiction), and the name as written in unresolved mentions. Empty when the database has
    no unit by that name."""
    name = name.strip()
    rows = con.execute(
        "SELECT canonical_name FROM units WHERE canonical_name = $n "
        "UNION SELECT canonical_name FROM unit_aliases WHERE alias = $n "
        "UNION SELECT coalesce(canonical_name, raw_text) FROM unit_mentions WHERE raw_text = $n "
        "UNION SELECT coalesce(canonical_name, raw_text) FROM unit_mentions WHERE canonical_name = $n",
        {"n": name},
    ).fetchall()
    return sorted({r[0] for r in rows if r[0]})


@dataclass(frozen=True)
class DocumentFilter:
    """The filters every reading command shares. Empty fields do not filter.

    - jurisdiction: 行政区域, the name or its start (北京 matches 北京市).
    - year: documents.year (of the 成文日期, else of the 发文字号).
    - since / until: 成文日期 on or after / on or before (documents without a date are left out).
    - issuer: part of an issuing organ's name (any of the document's issuers).
    - unit: a canonical unit name or an alias; documents (or items) where that unit is named.
    - docs: --doc values; each names documents as in matching_documents.
    """

    jurisdiction: str | None = None
    year: int | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    issuer: str | None = None
    unit: str | None = None
    docs: tuple[str, ...] = field(default_factory=tuple)

    def is_empty(self) -> bool:
        return not any([self.jurisdiction, self.year, self.since, self.until, self.issuer, self.unit, self.docs])

    def where(self, con: duckdb.DuckDBPyConnection, alias: str = "d", *, item_alias: str | None = None) -> tuple[str, list[object]]:
        """A SQL condition over `documents {alias}` (always current documents) and its parameters.

        With `item_alias`, --unit narrows to items of `items {item_alias}` naming the unit; without it,
        to documents naming it anywhere. Raises a NoticeError when --doc or --unit names nothing."""
        d = alias
        parts = [f"{d}.is_current"]
        params: list[object] = []
        if self.jurisdiction:
            parts.append(f"({d}.jurisdiction = ? OR starts_with({d}.jurisdiction, ?))")
            params += [self.jurisdiction, self.jurisdiction]
        if self.year:
            parts.append(f"{d}.year = ?")
            params.append(self.year)
        if self.since:
            parts.append(f"{d}.issued_date >= ?")
            params.append(self.since)
        if self.until:
            parts.append(f"{d}.issued_date <= ?")
            params.append(self.until)
        if self.issuer:
            parts.append(
                f"({d}.document_id IN (SELECT document_id FROM document_issuers WHERE contains(issuer, ?)) "
                f"OR contains({d}.issuer_banner, ?))"
            )
            params += [self.issuer, self.issuer]
        if self.unit:
            names = unit_names(con, self.unit)
            if not names:
                raise LookupFailed(
                    f"no unit named {self.unit!r} in the database (a canonical name or an alias); "
                    "list them with: notices units"
                )
            marks = ", ".join("?" for _ in names)
            named = f"coalesce(m.canonical_name, m.raw_text) IN ({marks})"
            if item_alias:
                parts.append(
                    f"EXISTS (SELECT 1 FROM unit_mentions m WHERE m.document_id = {item_alias}.document_id "
                    f"AND m.item_key = {item_alias}.item_key AND {named})"
                )
            else:
                parts.append(f"{d}.document_id IN (SELECT m.document_id FROM unit_mentions m WHERE {named})")
            params += names
        if self.docs:
            ids = sorted({row[0] for ref in self.docs for row in _require(con, ref)})
            parts.append(f"{d}.document_id IN ({', '.join('?' for _ in ids)})")
            params += ids
        return " AND ".join(parts), params


def _require(con: duckdb.DuckDBPyConnection, ref: str) -> list[tuple[str, str, str | None, str | None]]:
    rows = matching_documents(con, ref)
    if not rows:
        raise LookupFailed(
            f"no document matches --doc {ref!r} (an id, 发文字号, file name or part of the title); "
            "list them with: notices docs"
        )
    return rows


def _label(row: tuple[str, str, str | None, str | None]) -> str:
    _, path, number, title = row
    name = path.rsplit("/", 1)[-1]
    return " ".join(x for x in (number, (title or "")[:30], f"({name})") if x)


def date_bound(text: str, *, end: bool = False) -> dt.date:
    """A --since/--until value: 2023-04-13, 2023-04 or 2023 (the first day of the month or year, or
    with end=True its last day, so --until 2023 includes all of 2023)."""
    parts = text.strip().replace("/", "-").split("-")
    try:
        numbers = [int(p) for p in parts]
        if len(numbers) == 3:
            return dt.date(*numbers)
        if len(numbers) == 2:
            first = dt.date(numbers[0], numbers[1], 1)
            if not end:
                return first
            following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            return following - dt.timedelta(days=1)
        if len(numbers) == 1 and 1000 <= numbers[0] <= 9999:
            return dt.date(numbers[0], 12, 31) if end else dt.date(numbers[0], 1, 1)
    except ValueError:
        pass
    raise LookupFailed(f"{text!r} is not a date: give 2023-04-13, 2023-04 or 2023")
