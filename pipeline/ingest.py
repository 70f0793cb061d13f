"""Read → extract → store, for one file or a whole folder.

A bad file never stops a batch: its error is recorded in ingest_errors and
counted in the report. An unchanged file (same content hash as the current
version of the same path) is skipped without being read as a notice.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from extractors import extract_document
from extractors.dictionary import UnitDictionary, default_dictionary
from pipeline.errors import NoticeError, ReadError
from pipeline.readers import SUPPORTED_SUFFIXES, read_bytes
from pipeline.store import Store
from schemas import Document


def display_path(path: Path) -> str:
    """Path as stored: relative to the working directory when inside it, else absolute."""
    absolute = path.absolute()
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return absolute.as_posix()


def discover(paths: list[str | Path]) -> tuple[list[Path], list[Path]]:
    """Notice files under `paths` (recursively, sorted) and the other files seen.

    Raises NoticeError for a path that does not exist or a folder with no notices.
    """
    found: list[Path] = []
    others: list[Path] = []
    for given in paths:
        path = Path(given)
        if not path.exists():
            raise NoticeError(f"no such file or folder: {path}")
        if path.is_file():
            found.append(path)
            continue
        before = len(found)
        for file in _walk(path):
            (found if file.suffix.lower() in SUPPORTED_SUFFIXES else others).append(file)
        if len(found) == before:
            kinds = ", ".join(SUPPORTED_SUFFIXES)
            raise NoticeError(f"no notices ({kinds}) under {path}")
    return found, others


def _walk(folder: Path) -> Iterator[Path]:
    # followlinks=False: a symlink loop cannot make the walk endless.
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_bytes(path: Path, data: bytes, source_path: str | None = None) -> Document:
    """Parse a file's content into a Document (no database)."""
    source = read_bytes(path, data)
    return extract_document(
        source, source_path=source_path or display_path(path), content_hash=content_hash(data)
    )


def parse_file(path: str | Path, source_path: str | None = None) -> Document:
    """Parse one notice file into a Document (no database)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from exc
    try:
        return parse_bytes(path, data, source_path)
    except NoticeError as exc:
        exc.path = exc.path or str(path)
        raise


@dataclass
class FileOutcome:
    path: str
    status: str  # new, replaced, rewritten, unchanged, failed, skipped
    items: int = 0
    unit_mentions: int = 0
    message: str | None = None


@dataclass
class IngestReport:
    db: str
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(["new", "unchanged", "replaced", "failed", "skipped"], 0)
    )
    items_added: int = 0
    unit_mentions_added: int = 0
    warnings: int = 0
    failures: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.counts["failed"] else 0

    def as_dict(self) -> dict:
        return {
            "db": self.db,
            "files": dict(self.counts),
            "items_added": self.items_added,
            "unit_mentions_added": self.unit_mentions_added,
            "warnings": self.warnings,
            "failures": [{"path": f.path, "message": f.message} for f in self.failures],
            "seconds": round(self.seconds, 3),
            "exit_code": self.exit_code,
        }


def ingest(
    paths: list[str | Path],
    db: str | Path,
    *,
    force: bool = False,
    dictionary: UnitDictionary | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest every notice under `paths` into the DuckDB file `db`.

    `on_start(total)` and `on_file(outcome)` let a caller show progress.
    `dictionary` defaults to the shipped unit dictionary; it is also written
    to the units and unit_aliases tables.
    """
    started = time.perf_counter()
    dictionary = dictionary or default_dictionary()
    files, others = discover(paths)
    report = IngestReport(db=str(db))
    with Store.open(db) as store:
        store.load_dictionary(dictionary)
        run_id = store.start_run([str(p) for p in paths])
        if on_start:
            on_start(len(files))
        for other in others:
            report.counts["skipped"] += 1
            if on_file:
                on_file(FileOutcome(display_path(other), "skipped", message="not a supported notice format"))
        try:
            for path in files:
                outcome = _ingest_one(store, run_id, path, force, dictionary)
                key = "new" if outcome.status == "rewritten" else outcome.status
                report.counts[key] += 1
                report.items_added += outcome.items
                report.unit_mentions_added += outcome.unit_mentions
                if outcome.status == "failed":
                    report.failures.append(outcome)
                if on_file:
                    on_file(outcome)
        finally:
            store.finish_run(run_id, report.counts)
            report.warnings = store.con.execute(
                "SELECT count(*) FROM document_warnings w JOIN documents d USING (document_id) WHERE d.is_current"
            ).fetchone()[0]
    report.seconds = time.perf_counter() - started
    return report


def _ingest_one(store: Store, run_id: int, path: Path, force: bool, dictionary: UnitDictionary) -> FileOutcome:
    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}; check it exists and is readable"
        store.record_error(run_id, shown, "read", type(exc).__name__, message)
        return FileOutcome(shown, "failed", message=message)
    digest = content_hash(data)
    current = store.current_versions().get(shown)
    if current is not None and current[1] == digest and not force:
        return FileOutcome(shown, "unchanged")
    stage = "read"
    try:
        source = read_bytes(path, data)
        stage = "extract"
        doc = extract_document(source, source_path=shown, content_hash=digest, dictionary=dictionary)
        stage = "store"
        status = store.write_document(doc, run_id)
    except NoticeError as exc:
        store.record_error(run_id, shown, exc.stage, type(exc).__name__, exc.message)
        return FileOutcome(shown, "failed", message=exc.message)
    except Exception as exc:  # a bug must not stop the batch; it is recorded with its class
        message = f"{type(exc).__name__}: {exc} (a bug in policy-notices: please report it with this file)"
        store.record_error(run_id, shown, stage, type(exc).__name__, message)
        return FileOutcome(shown, "failed", message=message)
    mentions = sum(len(i.responsible_units) for i in doc.items)
    return FileOutcome(shown, status, items=len(doc.items), unit_mentions=mentions)
