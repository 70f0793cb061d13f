"""The DuckDB file researchers query. This module owns the schema and every write.

One row per file version in `documents` (a changed file adds a version and
the old one is marked `is_current = false`); sections, items and unit
mentions exist for current versions only. Each document is written in one
transaction, so an interrupted ingest never leaves half a document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import operator
import re
from pathlib import Path
from collections.abc import Callable, Iterable
from typing import Any

import duckdb

from extractors.dictionary import UnitDictionary, UnitEntry
from extractors.normalize import resolve_mentions
from pipeline.errors import StoreError
from extractors.tokens import search_words
from pipeline.rows import (ROW_COLUMNS, UNIT_COLUMNS, WRITER_COLUMNS, DocumentRows, document_rows, mention_row,
                           rule_unit_rows, word_count)
from pipeline.rows import document_id  # noqa: F401 (re-exported: the id of a content)
from schemas import Document, UnitMention


from schemas.tables import CHILD_TABLES as _CHILD_TABLES, CONSTRAINTS, DOCUMENT_TABLES, TABLES, Column  # noqa: F401 (re-exported)

VIEWS = {
    "document_summary": """
        SELECT d.document_id, d.source_path, d.title, d.doc_number,
               (SELECT list(x.issuer ORDER BY x.position) FROM document_issuers x
                WHERE x.document_id = d.document_id) AS issuers,
               d.issued_date, d.year,
               (SELECT count(*) FROM sections s WHERE s.document_id = d.document_id) AS sections,
               (SELECT count(*) FROM items i WHERE i.document_id = d.document_id) AS items,
               (SELECT count(*) FROM unit_mentions m WHERE m.document_id = d.document_id) AS unit_mentions,
               d.warning_count
        FROM documents d WHERE d.is_current""",
    "item_units": """
        SELECT i.document_id, i.item_key, i.part, i.section_key, i.number, i.category, i.text,
               list(coalesce(m.canonical_name, m.raw_text) ORDER BY m.position)
                   FILTER (WHERE m.position IS NOT NULL) AS units,
               any_value(coalesce(m.canonical_name, m.raw_text)) FILTER (WHERE m.role = 'lead') AS lead_unit
        FROM items i JOIN documents d USING (document_id)
        LEFT JOIN unit_mentions m USING (document_id, item_key)
        WHERE d.is_current
        GROUP BY ALL""",
    "unit_workload": """
        SELECT coalesce(m.canonical_name, m.raw_text) AS unit, m.is_collective, d.document_id, d.title, d.year,
               count(*) FILTER (WHERE m.role = 'lead') AS items_led,
               count(*) FILTER (WHERE m.role <> 'lead') AS items_co_handled,
               count(*) AS items_total
        FROM unit_mentions m JOIN documents d USING (document_id)
        WHERE d.is_current
        GROUP BY ALL""",
    # One row per (citing, cited) pair: who cites whom, how often, by which number/title.
    "citation_graph": """
        SELECT c.document_id AS citing_id, d.title AS citing_title, d.doc_number AS citing_number,
               d.jurisdiction AS citing_jurisdiction, c.cited_document_id AS cited_id,
               coalesce(t.title, any_value(c.cited_title)) AS cited_title,
               coalesce(t.doc_number, any_value(c.cited_number)) AS cited_number,
               any_value(c.number_key) AS number_key, bool_or(c.how = 'forwarded') AS forwarded,
               count(*) AS citations
        FROM citations c JOIN documents d ON d.document_id = c.document_id AND d.is_current
        LEFT JOIN documents t ON t.document_id = c.cited_document_id
        WHERE c.cited_document_id IS NULL OR c.cited_document_id <> c.document_id
        GROUP BY c.document_id, d.title, d.doc_number, d.jurisdiction, c.cited_document_id, t.title, t.doc_number,
                 CASE WHEN c.cited_document_id IS NULL THEN coalesce(c.number_key, c.title_key) END""",
}


# BM25 over item_tokens, callable from plain SQL:
#   SELECT * FROM search_items('应急 科普') LIMIT 10;
# Query words are matched to indexed words equal to them or (for words of two
# or more characters) contained in them, so `应急科普` finds 应急 and 科普.
MACROS = {
    # No WITH: DuckDB before 2.0 cannot read a table macro with CTEs that 2.0 wrote (see
    # DUCKDB1_STORAGE: a copy for DuckDB 1.x keeps this macro working).
    "search_items": """(query, k1 := 1.2, b := 0.75) AS TABLE
        SELECT c.document_id, c.item_key,
               sum(ln(1 + (corpus.n - df.df + 0.5) / (df.df + 0.5))
                   * c.tf * (k1 + 1) / (c.tf + k1 * (1 - b + b * l.len / corpus.avg_len))) AS score,
               list(c.token ORDER BY c.token) AS matched_words
        FROM (SELECT t.* FROM item_tokens t JOIN documents d USING (document_id) WHERE d.is_current) c
        JOIN (
            SELECT t.token, count(*) AS df
            FROM item_tokens t JOIN documents d USING (document_id)
            WHERE d.is_current AND t.token IN (
                SELECT DISTINCT v.token
                FROM (SELECT DISTINCT token FROM item_tokens) v,
                     (SELECT DISTINCT lower(term) AS term
                      FROM (SELECT unnest(string_split_regex(trim(query), '\\s+')) AS term) WHERE term <> '') terms
                WHERE v.token = terms.term OR (length(v.token) >= 2 AND contains(terms.term, v.token)))
            GROUP BY t.token
        ) df USING (token)
        JOIN (
            SELECT t.document_id, t.item_key, sum(t.tf) AS len
            FROM item_tokens t JOIN documents d USING (document_id) WHERE d.is_current GROUP BY ALL
        ) l USING (document_id, item_key),
        (SELECT count(*) AS n, avg(len) AS avg_len FROM (
            SELECT t.document_id, t.item_key, sum(t.tf) AS len
            FROM item_tokens t JOIN documents d USING (document_id) WHERE d.is_current GROUP BY ALL)) corpus
        GROUP BY c.document_id, c.item_key
        ORDER BY score DESC, c.document_id, c.item_key""",
}

# Version of the database layout (not of the JSON documents). Bump it with a
# migration in _MIGRATIONS when a table, view or macro changes.
STORE_VERSION = 8
# `notices export --format duckdb1` writes a copy DuckDB 1.0 and later open (the file an ingest
# writes is in DuckDB 2.0's own format: the older one costs the writer ~14%).
DUCKDB1_STORAGE = "v1.0.0"




class Store:
    """An open notices database."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: str):
        self.con = con
        self.path = path
        self._current: dict[str, tuple[str, str]] | None = None
        self._by_content: dict[str, tuple[str, str]] | None = None
        self._duplicates: dict[str, tuple[str, str]] | None = None
        self.memory_limit_mb: int | None = None  # None: DuckDB's default (80% of RAM)
        self._written: list[str] = []  # documents written since links were last resolved
        self._links_stale = False  # links_pending was set when this Store opened: resolve them all

    # -- opening ---------------------------------------------------------------

    @classmethod
    def open(
        cls, path: str | Path, *, threads: int | None = None, memory_limit_mb: int | None = None,
        read_only: bool = False,
    ) -> Store:
        """Open (creating or migrating) a database. An ingest passes threads=1 and a
        memory limit: the writer then leaves the cores and the memory to the
        parsing workers. The limit is raised when a write needs more (see write_documents).
        `read_only` (commands that only read): several may read at once, a read-only copy
        opens, nothing is created or migrated."""
        path = str(path)
        parent = Path(path).parent
        if not parent.exists():
            raise StoreError(f"the folder {parent} does not exist; create it or choose another --db path", path=path)
        try:
            con = duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                # DuckDB names the holder ("… is held in /usr/bin/python3 (PID 6457)"): keep it.
                holder = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
                who = f" ({holder.group(1)}, PID {holder.group(2)})" if holder else ""
                raise StoreError(
                    f"the database is open in another process{who}: a DuckDB CLI, DBeaver, notebook or another "
                    "ingest; close it there and run the command again",
                    path=path,
                ) from exc
            raise StoreError(f"cannot open the database: {exc}", path=path) from exc
        except duckdb.Error as exc:
            raise StoreError(f"not a DuckDB database, or damaged: {exc}", path=path) from exc
        # DuckDB draws its own progress bar on stdout for long statements; it
        # would break `--json` output and the ingest's own progress display.
        con.execute("SET enable_progress_bar = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        store = cls(con, path)
        try:
            if read_only:
                store._check_schema()
            else:
                store._ensure_schema()  # before the writer's low memory limit: a migration may resolve every link
                # Links an earlier process left unresolved (killed, or interrupted while linking): all again.
                pending = con.execute("SELECT value FROM meta WHERE key = 'links_pending'").fetchone()
                store._links_stale = pending is not None
            if memory_limit_mb:
                store._set_memory_limit(memory_limit_mb)
        except BaseException as exc:
            con.close()  # else DuckDB keeps the file open (and in this mode) for the process
            readable = as_store_error(exc, path)
            if readable is not None:
                raise readable from exc
            raise
        return store

    def close(self) -> None:
        self.con.close()

    def _set_memory_limit(self, megabytes: int) -> None:
        self.con.execute(f"SET memory_limit = '{int(megabytes)}MB'")
        self.memory_limit_mb = megabytes

    def _raise_memory_limit(self) -> bool:
        """Double a low memory limit; False when there is none to raise (or it reached half the RAM)."""
        if self.memory_limit_mb is None:
            return False
        half_ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2 // 2**20
        if self.memory_limit_mb >= half_ram:
            return False
        self._set_memory_limit(min(self.memory_limit_mb * 2, half_ram))
        return True

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self.close()
        # A full disk or a damaged block surfaces as whatever statement met it: say what it is.
        readable = as_store_error(exc, self.path) if exc is not None else None
        if readable is not None:
            raise readable from exc

    def _check_schema(self) -> None:
        """A database opened read-only must be of this version: it cannot be migrated."""
        try:
            row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except duckdb.CatalogException:
            row = None
        if row is None:
            raise StoreError("not a policy-notices database (no meta table); check the --db path", path=self.path)
        version = int(row[0])
        if version > STORE_VERSION:
            raise StoreError(
                f"made by a newer policy-notices (database version {version}, this one knows {STORE_VERSION}); "
                "upgrade policy-notices",
                path=self.path,
            )
        if version < STORE_VERSION:
            raise StoreError(
                f"made by an older policy-notices (database version {version}, this one reads {STORE_VERSION}); "
                f"upgrade it once with: notices renormalize --db {self.path}",
                path=self.path,
            )

    def _ensure_schema(self) -> None:
        con = self.con
        con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            con.execute("BEGIN")
            for table in TABLES:
                _create_table(con, table)
            _create_views(con)
            con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(STORE_VERSION)])
            con.execute("COMMIT")
            return
        version = int(row[0])
        if version > STORE_VERSION:
            raise StoreError(
                f"made by a newer policy-notices (database version {version}, this one knows {STORE_VERSION}); "
                "upgrade policy-notices or ingest into a new file",
                path=self.path,
            )
        while version < STORE_VERSION:
            migrate = _MIGRATIONS.get(version)
            if migrate is None:
                raise StoreError(
                    f"made by an older policy-notices (database version {version}) that cannot be migrated; "
                    "ingest the folder into a new --db file",
                    path=self.path,
                )
            con.execute("BEGIN")
            try:
                migrate(con)
                version += 1
                con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(version)])
                con.execute("COMMIT")
            except BaseException:
                _rollback(con)
                raise

    # -- reading -----------------------------------------------------------------

    def current_versions(self) -> dict[str, tuple[str, str]]:
        """source_path → (document_id, content_hash) of every current document (loaded once)."""
        if self._current is None:
            rows = self.con.execute(
                "SELECT source_path, document_id, content_hash FROM documents WHERE is_current"
            ).fetchall()
            self._current = {path: (doc_id, digest) for path, doc_id, digest in rows}
        return self._current

    def duplicate_versions(self) -> dict[str, tuple[str, str]]:
        """source_path → (document_id, content_hash) of every file noted as a duplicate of a document."""
        if self._duplicates is None:
            rows = self.con.execute("SELECT source_path, document_id, content_hash FROM duplicate_files").fetchall()
            self._duplicates = {path: (doc_id, digest) for path, doc_id, digest in rows}
        return self._duplicates

    def current_with_content(self, digest: str) -> tuple[str, str] | None:
        """(document_id, source_path) of a current document with these bytes, or None."""
        if self._by_content is None:
            self._by_content = {h: (doc_id, path) for path, (doc_id, h) in self.current_versions().items()}
        return self._by_content.get(digest)

    def counts(self) -> dict[str, int]:
        """Rows in each table (current documents only for documents)."""
        out = {"documents": self.con.execute("SELECT count(*) FROM documents WHERE is_current").fetchone()[0]}
        for table in ("sections", "items", "unit_mentions", "document_warnings", "ingest_errors"):
            out[table] = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        return out

    # -- writing -----------------------------------------------------------------

    def start_run(self, paths: list[str]) -> int:
        run_id = self.con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM ingest_runs").fetchone()[0]
        self.con.execute(
            "INSERT INTO ingest_runs (run_id, started_at, paths) VALUES (?, ?, ?)", [run_id, _now(), paths]
        )
        return run_id

    def finish_run(self, run_id: int, counts: dict[str, int]) -> None:
        self.con.execute(
            "UPDATE ingest_runs SET finished_at = ?, files_new = ?, files_unchanged = ?, files_replaced = ?, "
            "files_failed = ?, files_skipped = ?, files_duplicate = ?, files_moved = ?, files_removed = ? "
            "WHERE run_id = ?",
            [_now(), counts["new"], counts["unchanged"], counts["replaced"], counts["failed"], counts["skipped"],
             counts.get("duplicate", 0), counts.get("moved", 0), counts.get("removed", 0), run_id],
        )

    def load_dictionary(self, dictionary: UnitDictionary) -> None:
        """Replace the units and unit_aliases tables with `dictionary`."""
        self._transaction(lambda: _load_dictionary(self.con, dictionary))

    def custom_units(self) -> list[UnitEntry]:
        """The analyst's dictionary entries kept in this database (custom_units), in the order given."""
        rows = self.con.execute(
            "SELECT canonical_name, level, kind, jurisdiction, aliases, note FROM custom_units ORDER BY position"
        ).fetchall()
        return [UnitEntry(name, level, kind, where, tuple(aliases or ()), note or "")
                for name, level, kind, where, aliases, note in rows]

    def use_dictionary(
        self, added: list[tuple[UnitEntry, str]] = (), *, reset: bool = False
    ) -> tuple[UnitDictionary, dict[str, int] | None]:
        """The dictionary of this database: the shipped one, the entries kept in custom_units, and
        `added` (entry, file) pairs, which are kept from now on (an entry for a name already
        kept replaces it). The units tables follow it; when it differs from the dictionary the
        stored mentions were resolved with (new entries, or a newer shipped dictionary), every
        stored mention is resolved again, so no mention points at a unit missing from `units`.
        `reset` forgets the kept entries first. Returns the dictionary and the renormalize
        counts (None when nothing was re-resolved)."""
        from pipeline.dictionary import with_entries

        def merge() -> None:
            if reset:
                self.con.execute("DELETE FROM custom_units")
            if not added:
                return
            names = [entry.canonical_name for entry, _ in added]
            self.con.execute("DELETE FROM custom_units WHERE canonical_name IN (SELECT unnest(?::VARCHAR[]))", [names])
            start = self.con.execute("SELECT coalesce(max(position), 0) FROM custom_units").fetchall()[0][0]
            latest = {entry.canonical_name: (entry, origin) for entry, origin in added}  # later lines win
            _insert(self.con, "custom_units", [
                {"position": start + i, "canonical_name": e.canonical_name, "level": e.level, "kind": e.kind,
                 "jurisdiction": e.jurisdiction, "aliases": list(e.aliases), "note": e.note, "origin": origin,
                 "added_at": _now()}
                for i, (e, origin) in enumerate(latest.values(), start=1)
            ])

        self._transaction(merge)
        dictionary = with_entries(self.custom_units())
        fingerprint = _fingerprint(dictionary)
        row = self.con.execute("SELECT value FROM meta WHERE key = 'dictionary_fingerprint'").fetchone()
        if row is not None and row[0] == fingerprint:
            return dictionary, None
        counts = None
        if self.con.execute("SELECT count(*) FROM unit_mentions").fetchone()[0]:
            counts = self.renormalize(dictionary)
        else:
            self.load_dictionary(dictionary)
        self.con.execute("INSERT OR REPLACE INTO meta VALUES ('dictionary_fingerprint', ?)", [fingerprint])
        return dictionary, counts

    def renormalize(self, dictionary: UnitDictionary) -> dict[str, int]:
        """Resolve every stored unit mention again with `dictionary`, without the source files.

        Each item's mentions are taken as read (names, roles, implied units;
        a name split before is joined again) and resolved in the item's
        jurisdiction, so a dictionary entry that makes a run-together name
        splittable applies too. Returns counts of mentions before and after,
        and of unresolved ones.
        """
        con = self.con
        stored = con.execute(
            "SELECT m.document_id, m.item_key, i.jurisdiction, m.position, m.raw_text, m.role, m.is_collective, "
            "m.split_from, m.read_as, coalesce(m.implied, false), m.paragraph "
            "FROM unit_mentions m JOIN items i USING (document_id, item_key) JOIN documents d USING (document_id) "
            "WHERE d.is_current ORDER BY m.document_id, m.item_key, m.position"
        ).fetchall()
        before = con.execute("SELECT count(*) FROM unit_mentions").fetchone()[0]
        issuers: dict[str, list[str]] = {}
        for doc_id, issuer in con.execute("SELECT document_id, issuer FROM document_issuers ORDER BY ALL").fetchall():
            issuers.setdefault(doc_id, []).append(issuer)
        rows = []
        resolved = []
        for (doc_id, item_key, jurisdiction), group in itertools.groupby(stored, key=lambda r: r[:3]):
            mentions: list[UnitMention] = []
            for *_, _position, raw, role, collective, split_from, read_as, implied, paragraph in group:
                if split_from and mentions and mentions[-1].raw_text == split_from:
                    continue  # the other pieces of a name split before: split again below
                mentions.append(
                    UnitMention(
                        position=len(mentions) + 1,
                        raw_text=split_from or raw,
                        role=role,
                        is_collective=collective,
                        read_as=read_as,
                        implied=implied,
                        paragraph=paragraph,
                    )
                )
            for m in resolve_mentions(mentions, jurisdiction, dictionary, issuers.get(doc_id, ())):
                rows.append(mention_row(m, item_key, doc_id))
                resolved.append((m, jurisdiction))

        def replace_mentions() -> None:
            con.execute("DELETE FROM unit_mentions")
            _insert(con, "unit_mentions", rows)
            con.execute("DELETE FROM units WHERE source = 'jurisdiction_rule'")
            _load_dictionary(con, dictionary)
            _add_rule_units(con, rule_unit_rows(resolved), [m.canonical_name for m, _ in resolved])
            # Task links weigh the units two tasks share (pipeline/links.py): every stored link
            # may change with the names, not only those of the documents written next.
            _mark_links_pending(con)

        self._transaction(replace_mentions)
        self._links_stale = True
        unresolved = sum(1 for r in rows if r["resolution"] == "unresolved")
        return {"mentions_before": before, "mentions_after": len(rows), "unresolved": unresolved}

    def resolve_links(self, *, full: bool = False) -> dict[str, int]:
        """Resolve citations and link tasks for the documents written since the last call (`full`:
        for every document again): pipeline/links.py. Runs after each ingest and on renormalize."""
        from pipeline.links import resolve

        written, self._written = self._written, []
        full = full or self._links_stale

        def resolve_and_clear():
            result = resolve(self.con, None if full else written)
            self.con.execute("DELETE FROM meta WHERE key = 'links_pending'")
            return result

        try:
            # Linking tasks joins every word of two notices' tasks: more than the writer's memory limit
            # for batches may hold.
            result = self._within_memory(lambda: self._transaction(resolve_and_clear))
            self._links_stale = False
            return result
        except BaseException:
            self._written = written + self._written
            raise

    def unresolved_mentions(self) -> list[tuple[str, int, list[tuple[str, str, str]]]]:
        """Unresolved names with their count and (document title or path, item key, jurisdiction) uses."""
        rows = self.con.execute(
            "SELECT m.raw_text, coalesce(d.title, d.source_path), m.item_key, i.jurisdiction "
            "FROM unit_mentions m JOIN items i USING (document_id, item_key) JOIN documents d USING (document_id) "
            "WHERE d.is_current AND m.resolution = 'unresolved' ORDER BY m.raw_text, d.source_path, i.start_offset"
        ).fetchall()
        grouped: dict[str, list[tuple[str, str, str]]] = {}
        for name, where, item_key, jurisdiction in rows:
            grouped.setdefault(name, []).append((where, item_key, jurisdiction))
        return sorted(((n, len(u), u) for n, u in grouped.items()), key=lambda x: (-x[1], x[0]))

    def search(self, query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Best items for `query` by BM25 (the search_items macro's scores, without jieba: see
        pipeline/search.py), with their document and units."""
        from pipeline.search import search

        return [
            {"score": h.score, "source_path": h.source_path, "title": h.title, "item_key": h.item_key, "text": h.text,
             "units": [name for name, _ in h.units] or None, "lead_unit": h.lead_unit, "matched_words": h.matched_words}
            for h in search(self.con, query, limit=limit, items_only=True)
        ]

    def export(self, out_dir: str | Path, fmt: str) -> list[Path]:
        """Write every table and view to `out_dir` as parquet, csv (with a BOM, for Excel), jsonl or one
        xlsx workbook, or the whole database as one file DuckDB 1.0 and later open (duckdb1); returns the
        files written. (pipeline/export.py; also the tasks of one unit or document.)"""
        from pipeline.export import export_database

        return export_database(self, out_dir, fmt).files

    def _export_duckdb1(self, target: Path) -> Path:
        """The database copied into `target` in the storage format of DuckDB 1.0 (tables with their
        comments, views, macros)."""
        (name,) = self.con.execute("SELECT current_database()").fetchone()

        def copy(partial: Path) -> None:
            attach = f"ATTACH {_sql_string(str(partial))} AS duckdb1_copy (STORAGE_VERSION '{DUCKDB1_STORAGE}', READ_WRITE)"
            self.con.execute(attach)
            try:
                self.con.execute(f'COPY FROM DATABASE "{name}" TO duckdb1_copy')
            finally:
                self.con.execute("DETACH duckdb1_copy")

        self._write_beside(target, copy)
        return target

    def _write_beside(self, target: Path, write: Callable[[Path], object], progress: str = "") -> None:
        """`write(partial)` then rename it to `target`: a full disk never leaves a cut file that looks
        whole. A failure is one StoreError naming `target` (or the damaged database)."""
        partial = target.with_name(f".{target.name}.partial")
        partial.unlink(missing_ok=True)
        try:
            write(partial)
            os.replace(partial, target)
        except (duckdb.Error, OSError) as exc:
            partial.unlink(missing_ok=True)
            Path(f"{partial}.wal").unlink(missing_ok=True)
            if _is_damage(exc):
                raise as_store_error(exc, self.path) from exc
            reason = (exc.strerror if isinstance(exc, OSError) else None) or str(exc).split("\n")[0]
            raise StoreError(
                f"cannot write {target} ({reason}); free space on that disk or export to another folder{progress}"
            ) from exc

    def record_error(
        self, run_id: int, source_path: str, stage: str, error_class: str, message: str,
        content_hash: str | None = None,
    ) -> None:
        self.con.execute(
            "INSERT INTO ingest_errors (run_id, source_path, stage, error_class, message, occurred_at, content_hash) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, source_path, stage, error_class, message, _now(), content_hash],
        )

    def record_duplicate(self, source_path: str, doc_id: str, digest: str, run_id: int) -> None:
        """Note the file at `source_path` as holding the bytes of document `doc_id`: one document,
        two locations (its tasks are not counted twice). A document of its own stored at that
        path before is let go (see `remove`)."""
        self._transaction(lambda: self._record_duplicate(source_path, doc_id, digest, run_id))

    def _record_duplicate(self, source_path: str, doc_id: str, digest: str, run_id: int) -> None:
        self._release([source_path])
        self.con.execute(
            "INSERT INTO duplicate_files VALUES (?, ?, ?, ?, ?)", [source_path, doc_id, digest, run_id, _now()]
        )
        self.duplicate_versions()[source_path] = (doc_id, digest)

    def relocate(self, doc_id: str, source_path: str) -> None:
        """The document `doc_id`, its file moved, is now at `source_path` (nothing re-parsed)."""
        def move() -> None:
            self._release([source_path])
            old_path = next(p for p, (d, _) in self.current_versions().items() if d == doc_id)
            self._set_path(doc_id, old_path, source_path)
        self._transaction(move)

    def remove(self, paths: list[str]) -> dict[str, int]:
        """Let go of the files at `paths` (stored paths): a document whose file is gone stays
        current at another file with the same bytes (relocated), else it is retired
        (is_current = false, its row kept as history; its items, mentions … deleted as for a
        replaced version). Returns counts of retired and relocated documents and dropped duplicates."""
        return self._transaction(lambda: self._release(paths))

    def _release(self, paths: list[str]) -> dict[str, int]:
        """remove(), inside the caller's transaction. Each document row is updated once at most:
        DuckDB refuses a second update of a referenced row in one transaction."""
        from pipeline.ingest import still_holds  # file I/O lives in ingest (which imports this module lazily)

        current, duplicates = self.current_versions(), self.duplicate_versions()
        gone = set(paths)
        dropped = [p for p in paths if p in duplicates]
        if dropped:
            self.con.execute("DELETE FROM duplicate_files WHERE source_path IN (SELECT unnest(?::VARCHAR[]))", [dropped])
            for p in dropped:
                del duplicates[p]
        retired, relocated = [], 0
        for path in dict.fromkeys(p for p in paths if p in current):
            doc_id, digest = current[path]
            # The document stays current at a duplicate file only if that file still holds its bytes.
            others = [p for p, (d, _) in sorted(duplicates.items())
                      if d == doc_id and p not in gone and still_holds(p, digest)]
            if others:
                self.con.execute("DELETE FROM duplicate_files WHERE source_path = ?", [others[0]])
                del duplicates[others[0]]
                self._set_path(doc_id, path, others[0])
                relocated += 1
            else:
                retired.append(doc_id)
                digest = current.pop(path)[1]
                if self._by_content is not None and self._by_content.get(digest, ("",))[0] == doc_id:
                    del self._by_content[digest]
        if retired:
            _mark_links_pending(self.con)
            for table in _CHILD_TABLES:
                self.con.execute(f"DELETE FROM {table} WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [retired])
            self.con.execute(
                "UPDATE documents SET is_current = false WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [retired]
            )
            orphans = [p for p, (d, _) in duplicates.items() if d in set(retired)]
            if orphans:  # only when all its locations went at once
                self.con.execute(
                    "DELETE FROM duplicate_files WHERE source_path IN (SELECT unnest(?::VARCHAR[]))", [orphans]
                )
                for p in orphans:
                    del duplicates[p]
        return {"retired": len(retired), "relocated": relocated, "duplicates_dropped": len(dropped)}

    def _set_path(self, doc_id: str, old_path: str, new_path: str) -> None:
        self.con.execute("UPDATE documents SET source_path = ? WHERE document_id = ?", [new_path, doc_id])
        current = self.current_versions()
        current[new_path] = current.pop(old_path)
        digest = current[new_path][1]
        if self._by_content is not None:
            self._by_content[digest] = (doc_id, new_path)

    def stored_paths(self) -> list[str]:
        """Every path the database holds a current document or a duplicate at."""
        return sorted([*self.current_versions(), *self.duplicate_versions()])

    def _transaction(self, work: Callable[[], Any]) -> Any:
        self.con.execute("BEGIN")
        try:
            result = work()
            self.con.execute("COMMIT")
            return result
        except BaseException:
            _rollback(self.con)
            self._current = self._by_content = self._duplicates = None  # the caches may hold the undone changes
            raise

    def failed_versions(self) -> dict[str, tuple[str, str, str]]:
        """source_path → (content_hash, error_class, message) of the last failure of each file's content.

        A file whose content failed to parse is not parsed again while it stays the same.
        """
        rows = self.con.execute(
            """SELECT source_path, content_hash, error_class, message FROM (
                   SELECT *, row_number() OVER (PARTITION BY source_path ORDER BY occurred_at DESC) AS k
                   FROM ingest_errors WHERE content_hash IS NOT NULL AND stage IN ('read', 'extract'))
               WHERE k = 1"""
        ).fetchall()
        return {path: (digest, cls, message) for path, digest, cls, message in rows}

    def write_document(
        self, doc: Document, run_id: int, words: dict[str, str] | None = None
    ) -> str:
        """Store one document version atomically; returns 'new', 'replaced' or 'rewritten'.

        `words` (item key → space-separated search words) are split here when not given.
        """
        return self.write_rows([document_rows(doc, words)], run_id)[0]

    def write_documents(self, batch: list[tuple[Document, dict[str, str] | None]], run_id: int) -> list[str]:
        """write_rows for parsed Documents (and their items' search words, split here when None)."""
        return self.write_rows([document_rows(doc, words) for doc, words in batch], run_id)

    def write_rows(self, batch: list[DocumentRows], run_id: int) -> list[str]:
        """Store several document versions, given as their rows (pipeline/rows.py), in one
        transaction: all of them, or none. Returns each one's status: 'new', 'replaced' (its file
        held another version) or 'rewritten' (the same version again).

        One transaction per batch instead of per document: DuckDB's cost is
        per statement. A caller whose batch fails can retry its documents
        one at a time to find the one that cannot be stored.
        """
        # Primary-key indexes must fit in memory and grow with the database (~65 bytes a key).
        return self._within_memory(lambda: self._write_batch(batch, run_id))

    def _within_memory(self, work: Callable[[], Any]) -> Any:
        """Run `work` (a whole transaction), raising a low memory limit and trying again when DuckDB
        runs out of it: a limit that suited a small file, or a small batch, is raised rather than
        failing the command."""
        while True:
            try:
                return work()
            except duckdb.OutOfMemoryException:
                if not self._raise_memory_limit():
                    raise

    def _write_batch(self, batch: list[DocumentRows], run_id: int) -> list[str]:
        con = self.con
        current = self.current_versions()
        plans = []  # (rows, previous id or None)
        successors = {}  # a stored version with the same bytes under another id (older ids): its heir
        for rows in batch:
            previous = current.get(rows.source_path)
            plans.append((rows, previous[0] if previous else None))
            if previous and previous[0] != rows.document_id and previous[1] == rows.content_hash:
                successors[previous[0]] = rows.document_id
        new_ids = [rows.document_id for rows, _ in plans]

        def write() -> None:
            again = [prev for rows, prev in plans if prev is not None and prev == rows.document_id]
            if again:  # the same version again: its rows are written anew
                for table in _CHILD_TABLES:
                    con.execute(f"DELETE FROM {table} WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [again])
            # A replaced version is let go (its rows deleted, or kept current at a duplicate
            # file that still holds its bytes); a file noted as a duplicate before now has its own.
            duplicates = self.duplicate_versions()
            for old, new in successors.items():  # its duplicate files now repeat the new row
                con.execute("UPDATE duplicate_files SET document_id = ? WHERE document_id = ?", [new, old])
                for p, (d, h) in list(duplicates.items()):
                    if d == old:
                        duplicates[p] = (new, h)
            self._release(
                [rows.source_path for rows, prev in plans
                 if (prev is not None and prev != rows.document_id) or rows.source_path in duplicates]
            )
            existing = {
                r[0]
                for r in con.execute(
                    "SELECT document_id FROM documents WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [new_ids]
                ).fetchall()
            }
            stamp = (run_id, _now())
            document_columns = ROW_COLUMNS["documents"] + list(WRITER_COLUMNS)
            new_documents = []
            for rows, _ in plans:
                row = rows.tables["documents"][0] + stamp
                if rows.document_id in existing:
                    # The same version again (--force, or a file changed back): refresh it in place.
                    sets = ", ".join(f"{k} = ?" for k in document_columns[1:])
                    con.execute(f"UPDATE documents SET {sets} WHERE document_id = ?", [*row[1:], rows.document_id])
                else:
                    new_documents.append(row)
            _append(con, "documents", document_columns, new_documents)
            for table in DOCUMENT_TABLES[1:]:
                _append(con, table, ROW_COLUMNS[table],
                        [row for rows, _ in plans for row in rows.tables[table]])
            fill_item_tokens(con, new_ids)
            fill_passage_tokens(con, new_ids)
            _add_rule_units(con, [u for rows, _ in plans for u in rows.rule_units],
                            [m[_MENTION_NAME] for rows, _ in plans for m in rows.tables["unit_mentions"]])
            _mark_links_pending(con)

        self._transaction(write)
        self._written += new_ids
        statuses = []
        for rows, previous in plans:
            current[rows.source_path] = (rows.document_id, rows.content_hash)
            if self._by_content is not None:
                self._by_content.setdefault(rows.content_hash, (rows.document_id, rows.source_path))
            statuses.append("new" if previous is None else ("rewritten" if previous == rows.document_id else "replaced"))
        return statuses


def _create_table(con: duckdb.DuckDBPyConnection, table: str) -> None:
    columns = TABLES[table]
    cols = ", ".join(f"{c.name} {c.type}" for c in columns)
    extra = f", {CONSTRAINTS[table]}" if table in CONSTRAINTS else ""
    con.execute(f"CREATE TABLE {table} ({cols}{extra})")
    for c in columns:
        con.execute(f"COMMENT ON COLUMN {table}.{c.name} IS {_sql_string(c.comment)}")


# Views over a table a later version added: an older version's migration (which recreates the
# views) leaves them to the migration that creates the table.
_VIEW_NEEDS = {"citation_graph": "citations"}


def _create_views(con: duckdb.DuckDBPyConnection) -> None:
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()").fetchall()}
    for name, sql in VIEWS.items():
        if _VIEW_NEEDS.get(name, "documents") not in tables:
            continue
        con.execute(f"CREATE OR REPLACE VIEW {name} AS {sql}")
    for name, sql in MACROS.items():
        con.execute(f"CREATE OR REPLACE MACRO {name}{sql}")


def _migrate_1_to_2(con: duckdb.DuckDBPyConnection) -> None:
    """Version 2 adds full-text search (item_tokens, filled from stored items, and
    search_items()) and units.source (run `notices renormalize` to add rule-built units)."""
    con.execute("ALTER TABLE units ADD COLUMN source VARCHAR DEFAULT 'dictionary'")
    con.execute(f"COMMENT ON COLUMN units.source IS {_sql_string(_comment('units', 'source'))}")
    con.execute("ALTER TABLE items ADD COLUMN search_words VARCHAR")
    con.execute(f"COMMENT ON COLUMN items.search_words IS {_sql_string(_comment('items', 'search_words'))}")
    _create_table(con, "item_tokens")
    rows = con.execute("SELECT document_id, item_key, text FROM items").fetchall()
    con.execute("CREATE TEMP TABLE migrated_words (document_id VARCHAR, item_key VARCHAR, search_words VARCHAR)")
    _insert(
        con,
        "migrated_words",
        [{"document_id": d, "item_key": k, "search_words": search_words(text)} for d, k, text in rows],
        columns=[Column(name, "VARCHAR", "") for name in ("document_id", "item_key", "search_words")],
    )
    con.execute(
        "UPDATE items SET search_words = w.search_words FROM migrated_words w "
        "WHERE items.document_id = w.document_id AND items.item_key = w.item_key"
    )
    con.execute("DROP TABLE migrated_words")
    fill_item_tokens(con, sorted({r[0] for r in rows}))
    _create_views(con)


def _migrate_2_to_3(con: duckdb.DuckDBPyConnection) -> None:
    """Version 3 records how roles were read (documents.first_listed_leads) and, per mention,
    the name read in context, implied units and the paragraph (re-ingest with --force to fill them)."""
    _add_columns(
        con,
        [("documents", "first_listed_leads"), ("unit_mentions", "read_as"), ("unit_mentions", "implied"),
         ("unit_mentions", "paragraph")],
    )
    con.execute("UPDATE unit_mentions SET implied = false")
    for table, column in [("sections", "level"), ("unit_mentions", "role")]:
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_sql_string(_comment(table, column))}")
    _create_views(con)


def _migrate_3_to_4(con: duckdb.DuckDBPyConnection) -> None:
    """Version 4 reads web pages (a document's URL, 索引号 and 发布日期, an attachment's link) and
    remembers the content that failed (ingest_errors.content_hash). Web pages were skipped before
    (or, named .txt, read as text): run the ingest again with --force to read them as pages."""
    _add_columns(
        con,
        [("documents", "url"), ("documents", "index_number"), ("documents", "posted_date"), ("attachments", "url"),
         ("ingest_errors", "content_hash")],
    )
    con.execute(f"COMMENT ON COLUMN documents.format IS {_sql_string(_comment('documents', 'format'))}")
    _create_views(con)


def _migrate_4_to_5(con: duckdb.DuckDBPyConnection) -> None:
    """Version 5 stores a file's identity as its absolute path (symlinks resolved), so the same
    folder ingested from another working directory is not stored again, and notes files with the
    same bytes as a stored document (duplicate_files) instead of storing them twice. Relative
    paths of earlier versions are made absolute against the working directory where that file
    exists there; the others are kept as they were (an ingest that finds the file they name, from
    the folder it ran in before, takes it as moved, not parsed again). Current documents with
    the same bytes at several paths become one document, the others duplicate_files rows."""
    _create_table(con, "duplicate_files")
    _create_table(con, "custom_units")
    _create_views(con)  # search_items without CTEs
    con.execute(f"COMMENT ON COLUMN units.source IS {_sql_string(_comment('units', 'source'))}")
    _add_columns(con, [("ingest_runs", "files_duplicate"), ("ingest_runs", "files_moved"),
                       ("ingest_runs", "files_removed")])
    for table, column in [("documents", "source_path"), ("documents", "is_current")]:
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_sql_string(_comment(table, column))}")
    def absolute(path: str) -> str:
        return Path(path).resolve().as_posix() if not Path(path).is_absolute() and Path(path).exists() else path

    # The same bytes current at several paths: one document (the first path), the others duplicates.
    current = con.execute(
        "SELECT document_id, source_path, content_hash, run_id FROM documents WHERE is_current "
        "ORDER BY content_hash, source_path"
    ).fetchall()
    retired: list[str] = []
    for _, group in itertools.groupby(current, key=operator.itemgetter(2)):
        keep, *others = list(group)
        for doc_id, path, digest, run_id in others:
            con.execute("INSERT INTO duplicate_files VALUES (?, ?, ?, ?, ?)",
                        [absolute(path), keep[0], digest, run_id, _now()])
            retired.append(doc_id)
    if retired:
        for table in _CHILD_TABLES:
            if table not in ("passages", "passage_tokens", "citations", "task_links"):  # versions 6 and 7's
                con.execute(f"DELETE FROM {table} WHERE document_id IN (SELECT unnest(?::VARCHAR[]))", [retired])
        con.execute("UPDATE documents SET is_current = false WHERE document_id IN (SELECT unnest(?::VARCHAR[]))",
                    [retired])
    for table in ("documents", "ingest_errors"):
        paths = [p for (p,) in con.execute(f"SELECT DISTINCT source_path FROM {table}").fetchall()]
        moved = {p: absolute(p) for p in paths if absolute(p) != p}
        # One update per row at most (documents rows are referenced, and the retired ones were
        # just updated): a path → path table, joined.
        if moved:
            con.execute("CREATE TEMP TABLE moved_paths (old VARCHAR, new VARCHAR)")
            con.executemany("INSERT INTO moved_paths VALUES (?, ?)", list(moved.items()))
            skip = "AND documents.document_id NOT IN (SELECT unnest(?::VARCHAR[]))" if table == "documents" else ""
            con.execute(f"UPDATE {table} SET source_path = m.new FROM moved_paths m WHERE {table}.source_path = m.old "
                        + skip, [retired] if skip else [])
            con.execute("DROP TABLE moved_paths")


def _add_columns(con: duckdb.DuckDBPyConnection, columns: list[tuple[str, str]]) -> None:
    """Add (table, column) pairs as TABLES defines them, with their comments."""
    for table, column in columns:
        type_ = next(c.type for c in TABLES[table] if c.name == column)
        con.execute(f"ALTER TABLE {table} ADD COLUMN {column} {type_}")
        con.execute(f"COMMENT ON COLUMN {table}.{column} IS {_sql_string(_comment(table, column))}")


def _migrate_5_to_6(con: duckdb.DuckDBPyConnection) -> None:
    """Version 6 searches the whole text: passages (title, headings that are no task, lines outside
    tasks) with their words, and each item's word count (its BM25 length, stored instead of summed
    at every query). An older database never stored its text outside tasks: titles and headings
    are made passages from the stored rows, and documents.text_indexed = false says that the rest
    is read only when the file is ingested again (`notices ingest PATH --force`)."""
    _add_columns(con, [("documents", "text_indexed"), ("items", "word_count")])
    con.execute("UPDATE documents SET text_indexed = false")
    con.execute(
        "UPDATE items SET word_count = coalesce(t.n, 0) FROM (SELECT i.document_id, i.item_key, sum(t.tf) AS n "
        "FROM items i LEFT JOIN item_tokens t USING (document_id, item_key) GROUP BY ALL) t "
        "WHERE items.document_id = t.document_id AND items.item_key = t.item_key"
    )
    _create_table(con, "passages")
    _create_table(con, "passage_tokens")
    stored = con.execute(
        "SELECT document_id, 0 AS first_line, 'title' AS kind, '正文' AS part, NULL AS section_key, title AS text "
        "FROM documents WHERE is_current AND title IS NOT NULL "
        "UNION ALL SELECT s.document_id, s.first_line, 'section', s.part, s.section_key, "
        "  coalesce(s.label, '') || coalesce(s.title, '') "
        "FROM sections s JOIN documents d USING (document_id) WHERE d.is_current "
        "  AND NOT EXISTS (SELECT 1 FROM items i WHERE i.document_id = s.document_id AND i.item_key = s.section_key) "
        "ORDER BY document_id, first_line"
    ).fetchall()
    rows = []
    for doc_id, group in itertools.groupby(stored, key=operator.itemgetter(0)):
        for number, (_, line, kind, part, key, text) in enumerate(group, start=1):
            words = search_words(text)
            rows.append({"document_id": doc_id, "passage_no": number, "kind": kind, "part": part,
                         "section_key": key, "text": text, "first_line": line or None, "last_line": line or None,
                         "start_offset": None, "end_offset": None, "pages": [], "search_words": words,
                         "word_count": word_count(words)})
    _insert(con, "passages", rows)
    fill_passage_tokens(con, sorted({r["document_id"] for r in rows}))


def _migrate_6_to_7(con: duckdb.DuckDBPyConnection) -> None:
    """Version 7 links notices: citations (read again from the stored task texts, passages, titles and
    forwarded documents) resolved to stored documents, task_links, and the citation_graph view."""
    from pipeline.links import resolve, stored_citation_rows

    _create_table(con, "citations")
    _create_table(con, "task_links")
    _create_views(con)
    _insert(con, "citations", stored_citation_rows(con))
    resolve(con)


def _migrate_7_to_8(con: duckdb.DuckDBPyConnection) -> None:
    """Version 8 keeps what OCR read: documents.ocr_pages and ocr_confidence, items.ocr_confidence.
    Documents stored before were never read by OCR (scans were refused), so empty is right for them."""
    have = set(con.execute("SELECT table_name, column_name FROM duckdb_columns()").fetchall())
    _add_columns(con, [c for c in [("documents", "ocr_pages"), ("documents", "ocr_confidence"),
                                   ("items", "ocr_confidence")] if c not in have])
    con.execute("UPDATE documents SET ocr_pages = 0 WHERE ocr_pages IS NULL")
    # The score gained a bonus for units of the same function before version 8 was released: say so.
    con.execute("UPDATE task_links SET method = 'bm25_units' WHERE method = 'bm25'")
    con.execute(f"COMMENT ON COLUMN task_links.method IS {_sql_string(_comment('task_links', 'method'))}")


_MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5, 5: _migrate_5_to_6,
               6: _migrate_6_to_7, 7: _migrate_7_to_8}


def _comment(table: str, column: str) -> str:
    return next(c.comment for c in TABLES[table] if c.name == column)


def _unit_rows(entries, source: str) -> list[dict[str, Any]]:
    return [
        {"canonical_name": e.canonical_name, "level": e.level, "kind": e.kind,
         "jurisdiction": e.jurisdiction, "note": e.note or None, "source": source}
        for e in entries
    ]


def _add_rule_units(con: duckdb.DuckDBPyConnection, rule_units: list[tuple], names: Iterable[str | None]) -> None:
    """Record the units jurisdiction rules built (`rule_units`: UNIT_COLUMNS rows, pipeline/rows.py),
    so every canonical name has a units row. A name of `names` resolved otherwise (from the notice's
    own issuers: 沈阳公积金中心 in a notice 沈阳住房公积金管理中心 issued) gets a row of source
    `notice`, level and kind unknown.
    """
    if rule_units:
        # Two rules (or two places) may build one name differently; the row kept must not depend on
        # which document was written first (workers finish in any order): the least (level, kind,
        # jurisdiction, note) wins, here and against a row stored before, and a rule's row replaces
        # a name only named in a notice. Rows from the dictionary are never touched.
        least: dict[str, tuple] = {}
        for unit in rule_units:
            if unit[0] not in least or _rule_unit_order(unit) < _rule_unit_order(least[unit[0]]):
                least[unit[0]] = unit
        columns = [list(values) for values in zip(*sorted(least.values()))]
        con.execute(
            f"INSERT INTO units ({', '.join(UNIT_COLUMNS)}) "
            f"SELECT {', '.join(f'unnest(${k}::VARCHAR[])' for k in range(1, len(UNIT_COLUMNS) + 1))} "
            "ON CONFLICT (canonical_name) DO UPDATE SET level = excluded.level, kind = excluded.kind, "
            "jurisdiction = excluded.jurisdiction, note = excluded.note, source = excluded.source "
            "WHERE units.source = 'notice' OR (units.source = 'jurisdiction_rule' AND "
            "[excluded.level, excluded.kind, coalesce(excluded.jurisdiction, ''), coalesce(excluded.note, '')] < "
            "[units.level, units.kind, coalesce(units.jurisdiction, ''), coalesce(units.note, '')])",
            columns,
        )
    named = sorted({n for n in names if n})
    if named:
        con.execute(
            "INSERT OR IGNORE INTO units (canonical_name, level, kind, note, source) "
            "SELECT name, 'unknown', 'unknown', 'named in a notice', 'notice' FROM (SELECT unnest(?::VARCHAR[]) AS name) "
            "WHERE name NOT IN (SELECT canonical_name FROM units)",
            [named],
        )


def _rule_unit_order(unit: tuple) -> tuple:
    """The order _add_rule_units keeps the least of (the SQL there compares the same fields)."""
    _, level, kind, jurisdiction, note, _ = unit
    return (level, kind, jurisdiction or "", note or "")


def fill_item_tokens(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> None:
    """item_tokens (word, count) of these documents' items, split from items.search_words in SQL."""
    if not document_ids:
        return
    con.execute(
        "INSERT INTO item_tokens SELECT document_id, item_key, token, count(*) FROM ("
        "  SELECT document_id, item_key, unnest(string_split(search_words, ' ')) AS token FROM items"
        "  WHERE document_id IN (SELECT unnest(?::VARCHAR[])) AND search_words <> '') "
        "WHERE token <> '' GROUP BY ALL",
        [document_ids],
    )


def fill_passage_tokens(con: duckdb.DuckDBPyConnection, document_ids: list[str]) -> None:
    """passage_tokens (word, count) of these documents' passages, split from passages.search_words in SQL."""
    if not document_ids:
        return
    con.execute(
        "INSERT INTO passage_tokens SELECT document_id, passage_no, token, count(*) FROM ("
        "  SELECT document_id, passage_no, unnest(string_split(search_words, ' ')) AS token FROM passages"
        "  WHERE document_id IN (SELECT unnest(?::VARCHAR[])) AND search_words <> '') "
        "WHERE token <> '' GROUP BY ALL",
        [document_ids],
    )


def _load_dictionary(con: duckdb.DuckDBPyConnection, dictionary: UnitDictionary) -> None:
    """Replace the dictionary's units; rule-built units stay unless the dictionary now has them."""
    con.execute("DELETE FROM unit_aliases")
    entries = sorted(dictionary.entries.values(), key=lambda e: e.canonical_name)
    con.execute(
        "DELETE FROM units WHERE source IS DISTINCT FROM 'jurisdiction_rule' OR canonical_name IN "
        "(SELECT unnest(?::VARCHAR[]))",
        [[e.canonical_name for e in entries]],
    )
    _insert(con, "units", _unit_rows(entries, "dictionary"))
    _insert(
        con,
        "unit_aliases",
        [
            {"alias": a, "canonical_name": e.canonical_name, "jurisdiction": e.jurisdiction}
            for e in entries
            for a in e.aliases
        ],
    )


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Undo the open transaction; a failed COMMIT has undone it already (keep the error that says why)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.TransactionException:
        pass


# What DuckDB says when the disk refuses a write, and when the file's blocks are damaged.
_DISK_FULL = ("No space left on device", "File too large", "Disk quota exceeded", "Could not write file",
              "could not write", "Could not truncate", "Could not fsync")
_DAMAGED = ("Corrupt database file", "checksum", "Corrupted", "corrupted", "Failed to read block",
            "Could not read enough bytes", "Invalid bitpacking", "database file is invalid", "is not a valid DuckDB")


def _is_damage(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.Error) and any(marker in str(exc) for marker in _DAMAGED)


def as_store_error(exc: BaseException, path: str) -> StoreError | None:
    """The StoreError a person can act on for a DuckDB error caused by the disk or a damaged
    file (not by one document); None for other errors."""
    if not isinstance(exc, duckdb.Error):
        return None
    text = str(exc)
    reason = text.split("\n")[0]
    if any(marker in text for marker in _DISK_FULL):
        return StoreError(
            f"cannot write the database ({reason}); free space on the disk that holds it (or choose another "
            "--db) and run the same command again: every document stored before is kept",
            path=path,
        )
    if _is_damage(exc):
        return StoreError(
            f"the database file is damaged ({reason}); restore it from a backup, or ingest the folders again "
            "into a new --db file (DuckDB cannot repair it)",
            path=path,
        )
    if isinstance(exc, duckdb.OutOfMemoryException):
        # Raised only once the limit has reached half the RAM (Store._within_memory doubles it first).
        return StoreError(
            f"the database ran out of memory ({reason}); close other programs, or run on a machine with more "
            "memory, and run the same command again: every document published before is kept",
            path=path,
        )
    return None


def _mark_links_pending(con: duckdb.DuckDBPyConnection) -> None:
    """Say, in the transaction that changes documents, that their links are still to resolve: a process
    killed before resolve_links leaves the mark, and the next writer resolves every link (Store.open)."""
    con.execute("INSERT OR REPLACE INTO meta VALUES ('links_pending', '1')")


def _fingerprint(dictionary: UnitDictionary) -> str:
    """A digest of what resolves a name: every entry, which unit each name maps to (the later of
    two entries claiming an alias wins, so order counts), and the naming rules shipped in
    extractors/rules; equal when the stored mentions need no new resolution."""
    from importlib import resources

    digest = hashlib.sha256()
    digest.update(repr(sorted(repr(e) for e in dictionary.entries.values())).encode())
    digest.update(repr(sorted(dictionary.names.items(), key=repr)).encode())
    rules = resources.files("extractors") / "rules"
    for name in ("units.json", "jurisdictions.json"):
        digest.update((rules / name).read_bytes())
    return digest.hexdigest()


def _sql_string(text: str) -> str:
    """A SQL string literal (COMMENT ON takes no parameters)."""
    return "'" + text.replace("'", "''") + "'"


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


_MENTION_NAME = ROW_COLUMNS["unit_mentions"].index("canonical_name")


def _append(con: duckdb.DuckDBPyConnection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Append rows (tuples in `columns` order) inside the caller's transaction, with DuckDB's appender.
    Columns the table's layout lacks (TABLES: an older layout in the migration tests) are left out."""
    if not rows:
        return
    known = {c.name for c in TABLES.get(table, [])} or set(columns)  # a table not in TABLES: as given
    if not known.issuperset(columns):
        kept = [k for k, name in enumerate(columns) if name in known]
        columns, rows = [columns[k] for k in kept], [operator.itemgetter(*kept)(row) for row in rows]
    with con.appender(table, columns=columns) as appender:
        appender.append_rows(rows)


def _insert(
    con: duckdb.DuckDBPyConnection,
    table: str,
    rows: list[dict[str, Any]],
    columns: list[Column] | None = None,
) -> None:
    """Insert rows (dicts keyed by column name) in one go, inside the caller's transaction, with
    _append (DuckDB's appender: about three times faster than `INSERT … SELECT unnest(?)`, 20,000 rows
    of 14 columns: 0.08 s against 0.27 s). `columns` gives the types of a table not in TABLES."""
    if not rows:
        return
    names = [c.name for c in (columns or TABLES[table]) if c.name in rows[0]]
    values = operator.itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    _append(con, table, names, list(map(values, rows)))
