"""`notices load DIR --db FILE`: write the Parquet parts of an `ingest --engine ray` run into the database.

The parts (pipeline/ray_engine.py) hold every parsed document as the rows it gives each table; this
writes them as a local ingest writes what its workers parse, through the same pieces: the database's
staging copy and lock (pipeline.staging.writing), the decision to skip a file whose content is stored
or failed before (pipeline.ingest.already_stored), the writer that stores documents in batches, notes
a second copy of a stored document as a duplicate and replaces a changed file (pipeline.ingest._Writer),
and the run's close (links resolved, counts). So a load gives the database a local ingest of the same
files gives, and loading the same DIR again changes nothing.

The parts are read with DuckDB's own read_parquet: loading needs neither Ray nor pyarrow.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from pipeline.errors import NoticeError
from pipeline.ingest import (Failed, FileOutcome, IngestReport, Parsed, _Writer, closing_run, writing_run,
                             already_stored)

# What pipeline/ray_engine.py writes (repeated here, not imported: that module is the Ray side).
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FAILURES = "failures"
RULE_UNITS = "rule_units"
ORDER = "order"
FAILURE_COLUMNS = ["source_path", "stage", "error_class", "message", "content_hash"]


def read_manifest(out_dir: Path) -> dict:
    """The run an output folder holds; one line when it is not one, or not finished."""
    if not out_dir.is_dir():
        raise NoticeError(f"no such folder: {out_dir}; give the --out folder of `notices ingest --engine ray`")
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NoticeError(f"{out_dir} has no {MANIFEST}: not the output of `notices ingest --engine ray`, or that "
                          "run did not finish; run it again into this folder") from None
    except (OSError, ValueError) as exc:
        raise NoticeError(f"cannot read {out_dir / MANIFEST} ({exc}); run `notices ingest --engine ray` again "
                          "into this folder") from exc
    if manifest.get("format") != FORMAT_VERSION:
        raise NoticeError(f"{out_dir} was written by another version of policy-notices (format "
                          f"{manifest.get('format')}, this one reads {FORMAT_VERSION}); run the Ray ingest again")
    return manifest


class Parts:
    """The Parquet parts of an output folder, read one part (a Ray batch of files) at a time."""

    def __init__(self, out_dir: Path):
        from pipeline.rows import ROW_COLUMNS, UNIT_COLUMNS

        self.out_dir = out_dir
        self.tables = [*ROW_COLUMNS, RULE_UNITS]
        # Columns are read by name, in the order this version's rows have them.
        self.columns = {**ROW_COLUMNS, RULE_UNITS: UNIT_COLUMNS, FAILURES: FAILURE_COLUMNS}
        self.con = duckdb.connect()
        self.con.execute("SET enable_progress_bar = false")
        # The documents are written in the order a local ingest takes the files (DIR/order, written by
        # the Ray run; path order without it): it matters, the first document that builds a unit by a
        # jurisdiction rule gives its row to `units`. Files skipped at discovery come first, as there.
        order = out_dir / ORDER / "files.parquet"
        self.position: dict[str, int] = {}
        if order.exists():
            self.position = dict(self.con.execute("SELECT file, position FROM read_parquet(?)", [str(order)]).fetchall())
        first: dict[str, tuple] = {}
        for folder in ("documents", FAILURES):
            if any((out_dir / folder).glob("*.parquet")):
                column = "file" if folder == "documents" else "source_path"
                for name, path in self.con.execute(
                    f"SELECT parse_filename(filename, true), {column} FROM read_parquet(?, filename = true)",
                    [str(out_dir / folder / "*.parquet")],
                ).fetchall():
                    first[name] = min(first.get(name, self._place(path)), self._place(path))
        self.names = sorted(first, key=lambda name: (first[name], name))

    def _place(self, path: str) -> tuple:
        """Where a file comes in a local ingest: its discovery position (-1: skipped at discovery), else its path."""
        return (self.position.get(path, -1 if self.position else 0), path)

    def close(self) -> None:
        self.con.close()

    def _read(self, folder: str, name: str) -> list[tuple]:
        path = self.out_dir / folder / f"{name}.parquet"
        if not path.exists():
            return []
        try:
            names = ", ".join(["file", *self.columns[folder]]) if folder != FAILURES else ", ".join(FAILURE_COLUMNS)
            return self.con.execute(f"SELECT {names} FROM read_parquet(?)", [str(path)]).fetchall()
        except duckdb.Error as exc:
            raise NoticeError(f"cannot read {path} ({str(exc).splitlines()[0]}); run the Ray ingest again") from exc

    def files(self) -> int:
        """Documents and failures in all parts (for the progress bar)."""
        total = 0
        for folder, where in (("documents", ""), (FAILURES, " WHERE stage <> 'discover'")):  # skipped: not counted
            if any((self.out_dir / folder).glob("*.parquet")):
                glob = str(self.out_dir / folder / "*.parquet")
                total += self.con.execute(f"SELECT count(*) FROM read_parquet(?){where}", [glob]).fetchone()[0]
        return total

    def records(self) -> Iterator[Failed | Parsed]:
        """Every file of every part, in path order within a part: a Failed (stage discover for a file
        skipped as no notice), or a Parsed (its DocumentRows), as a local ingest's workers hand them over."""
        from pipeline.rows import DocumentRows

        for name in self.names:
            found: list = []
            for path, stage, error_class, message, digest in self._read(FAILURES, name):
                found.append(Failed(path, stage, error_class, message, digest))
            by_file: dict[str, dict[str, list[tuple]]] = {}
            for table in self.tables:
                for row in self._read(table, name):
                    by_file.setdefault(row[0], {}).setdefault(table, []).append(row[1:])
            for path, tables in by_file.items():
                document = tables["documents"][0]
                rule_units = tables.pop(RULE_UNITS, [])
                for table in self.tables[:-1]:
                    tables.setdefault(table, [])
                value = dict(zip(self.columns["documents"], document))
                found.append(Parsed(path, DocumentRows(path, value["content_hash"], value["document_id"], tables,
                                                       rule_units, value["page_count"] or 0)))
            yield from sorted(found, key=lambda r: self._place(r.path))


def load(
    out_dir: str | Path,
    db: str | Path,
    *,
    force: bool = False,
    retry_failed: bool = False,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    wait: float | None = None,
    publish_every: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Write the parts under `out_dir` into the DuckDB file `db`, as a local ingest of the same files
    would: a file whose content is stored at its path is unchanged (`force` writes it again), one whose
    content failed before is not recorded again (unless `retry_failed`), a changed file's document is
    replaced, a copy of a stored document is a duplicate; failures are rows of ingest_errors. The unit
    dictionary is the database's plus the entries the Ray run was given (kept, as `ingest --dictionary`
    keeps them); mentions Ray resolved with another dictionary are resolved again. `wait`,
    `publish_every`, `on_wait`: as for pipeline.ingest.ingest."""
    from pipeline.store import _fingerprint
    from extractors.dictionary import UnitEntry

    started = time.perf_counter()
    out_dir = Path(out_dir)
    manifest = read_manifest(out_dir)
    parts = Parts(out_dir)
    report = IngestReport(db=str(db), workers=1, strict=bool(manifest.get("strict")))
    entries = [(UnitEntry(name, level, kind, where, tuple(aliases), note or ""), origin)
               for name, level, kind, where, aliases, note, origin in manifest.get("dictionary", [])]

    def done(outcome: FileOutcome) -> None:
        report.add(outcome)
        if on_file:
            on_file(outcome)

    try:
        with writing_run(db, wait, publish_every, on_wait) as staged:
            store = staged.store
            dictionary, report.renormalized = store.use_dictionary(entries)
            run_id = store.start_run(list(manifest.get("paths", [])))
            if on_start:
                on_start(parts.files())
            current, duplicates = store.current_versions(), store.duplicate_versions()
            failed = {} if force or retry_failed else store.failed_versions()
            writer = _Writer(store, run_id, done, staged.maybe_publish)
            with closing_run(store, writer, run_id, report):
                for record in parts.records():
                    if isinstance(record, Failed) and record.stage == "discover":
                        store.record_error(run_id, record.path, "discover", record.error_class, record.message)
                        done(FileOutcome(record.path, "skipped", message=record.message))
                        continue
                    digest = record.content_hash if isinstance(record, Failed) else record.rows.content_hash
                    outcome = already_stored(record.path, digest, current, duplicates, failed, force)
                    if outcome is not None:
                        done(outcome)
                        continue
                    writer.add(record)
                writer.flush()
                if _fingerprint(dictionary) != manifest.get("dictionary_fingerprint"):
                    # Ray resolved the units with the shipped dictionary and the run's entries; this
                    # database keeps others: resolve the stored mentions with its own.
                    report.renormalized = store.renormalize(dictionary)
                    report.notes.append("the units were resolved again with this database's dictionary "
                                        "(it has entries the Ray run did not have)")
    finally:
        parts.close()
        report.seconds = time.perf_counter() - started
    return report


# Columns that say when or in which run a row was written, not what a notice holds: a Ray ingest and
# load, and a local ingest of the same files, differ in them and in nothing else.
RUN_COLUMNS = {"run_id", "ingested_at", "started_at", "finished_at", "occurred_at", "seen_at", "added_at"}


def table_fingerprints(db: str | Path) -> dict[str, str]:
    """A content fingerprint of every table of a database (and of its meta values): a SHA-256 over
    its rows, sorted, without RUN_COLUMNS. Two databases with the same fingerprints hold the same
    documents, rows, errors, links and run counts (tests/test_ray.py, pipeline/bench_ray.py).
    DOUBLE values are compared to 9 decimals: a task link's BM25 score is a sum DuckDB adds in the
    order the rows were written, which differs in the last bit between two orders of the same rows."""
    import hashlib

    from schemas.tables import TABLES

    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for table, columns in [*TABLES.items(), ("meta", None)]:
            if columns is None:
                names = ["key", "value"]
            else:
                names = [f"round({c.name}, 9)" if c.type.startswith("DOUBLE") else c.name
                         for c in columns if c.name not in RUN_COLUMNS]
            rows = con.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
            digest = hashlib.sha256()
            for text in sorted(repr(row) for row in rows):
                digest.update(text.encode("utf-8", "surrogateescape") + b"\n")
            out[table] = f"{len(rows)}:{digest.hexdigest()[:16]}"
    return out
