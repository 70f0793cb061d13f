"""Read → extract → store, for one file or a whole folder, on all cores.

Files are parsed in worker processes (read, extract, resolve units, split
search words) and written by this process alone, several documents per
transaction, each document whole or not at all. A bad file never stops a
batch: its error is recorded in ingest_errors and counted in the report. An
unchanged file (same content hash as the current version of the same path)
is skipped without being parsed. Memory stays flat: only a window of files
is in flight, and results are written as they come.
"""

from __future__ import annotations

import contextlib
import ctypes
import fnmatch
import functools
import gc
import hashlib
import itertools
import multiprocessing
import multiprocessing.connection
import os
import re
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from extractors import extract_document
from extractors.dictionary import UnitDictionary, UnitEntry
from pipeline.errors import NoticeError, ReadError
from pipeline import limits as file_limits
from pipeline.limits import SECONDS_PER_OCR_PAGE, WorkerLimits, raise_hint
from pipeline.readers import SUPPORTED_SUFFIXES, read_bytes
from pipeline.rows import DocumentRows, document_rows
from schemas import Document

if TYPE_CHECKING:
    from pipeline.store import Store

# Documents per write transaction. A commit has a fixed cost (~60 ms of the writer's time on the
# bench mix, `make bench-store`): 64 instead of 16 cut the writer's time a document by a quarter.
BATCH_DOCUMENTS = 64
WRITER_MEMORY_MB = 64  # DuckDB's memory in the writing process to start with (raised when its indexes need more)
WORKER_NICENESS = 10  # workers run at lower priority than the writer
TASKS_PER_WORKER = 1000  # a worker is replaced after this many files, so its memory cannot creep (starting one costs ~0.3 s of CPU)


def source_key(path: Path) -> str:
    """A file's identity in the database: its absolute path, symlinks resolved.

    The same file reached from another working directory, or through a
    symlinked folder, is the same document (stored once). A name that is
    not valid UTF-8 (bytes from another system) keeps its odd bytes as
    \\xNN escapes, so it can be stored and shown.
    """
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: the path as given
        resolved = path.absolute()
    return _printable(resolved.as_posix())


def display_path(path: str | Path) -> str:
    """A path as shown to a person: relative to the working directory when inside it."""
    absolute = Path(path).absolute()
    try:
        shown = absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        shown = absolute.as_posix()
    return _printable(shown)


def _printable(name: str) -> str:
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def stored_file(key: str) -> Path:
    """The file a stored path names (\\xNN escapes back to the bytes they stand for)."""
    if "\\x" not in key:
        return Path(key)
    raw = re.sub(r"\\x([0-9a-f]{2})", lambda m: chr(0xDC00 + int(m[1], 16)), key)
    return Path(raw) if Path(raw).exists() or not Path(key).exists() else Path(key)


def discover(
    paths: list[str | Path], glob: str | None = None, *, allow_none: bool = False
) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Notice files under `paths` (recursively, sorted, each once) and the other files seen, with why
    they are skipped (not a notice format; not a regular file: a FIFO, device or socket would block).

    `glob` keeps only files whose name (or path, if the pattern has a /)
    matches, e.g. `*.pdf` or `2023/*`. Raises NoticeError for a path that
    does not exist or a folder with no notices, unless `allow_none` (a prune
    of a folder whose files are all gone).
    """
    found: list[Path] = []
    others: list[tuple[Path, str]] = []
    seen: set[Path] = set()

    def add(file: Path, explicit: bool) -> None:
        key = Path(source_key(file))  # a symlink to a file already found is that file
        if key in seen or (glob and not _matches(file, glob)):
            return
        seen.add(key)
        irregular = _not_regular(file)
        if irregular:
            others.append((file, irregular))
        elif explicit or file.suffix.lower() in SUPPORTED_SUFFIXES:
            found.append(file)  # an explicitly named file is tried whatever its suffix (content decides)
        else:
            kinds = ", ".join(SUPPORTED_SUFFIXES)
            others.append((file, f"not a notice format ({file.suffix or 'no suffix'}); supported: {kinds}"))

    for given in paths:
        path = Path(given)
        if not path.exists() and not path.is_symlink():
            if allow_none:
                continue
            raise NoticeError(f"no such file or folder: {path}")
        if not path.is_dir():
            add(path, explicit=True)
            continue
        before = len(found)
        for file in _walk(path):
            add(file, explicit=False)
        if len(found) == before and not allow_none:
            kinds = ", ".join(SUPPORTED_SUFFIXES)
            what = f"matching {glob!r} " if glob else ""
            raise NoticeError(f"no notices ({kinds}) {what}under {path}")
    return found, others


def _not_regular(file: Path) -> str | None:
    """Why a path is not a file to read, or None: reading a FIFO or /dev/urandom never ends."""
    try:
        mode = file.stat().st_mode  # follows a symlink to what it names
    except OSError:
        return None  # gone or unreadable: the read reports it
    if stat.S_ISREG(mode):
        return None
    kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
            else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
    target = " (through a symlink)" if file.is_symlink() else ""
    return f"{kind}{target}, not a file: skipped (reading it could block forever)"


def _matches(file: Path, pattern: str) -> bool:
    """`--glob`: case-insensitive where the file system is (macOS, Windows: `*.pdf` takes X.PDF, as
    the system's own file dialogs would), case-sensitive elsewhere."""
    name, path = file.name, file.as_posix()
    if case_insensitive_fs(file):
        name, path, pattern = name.casefold(), path.casefold(), pattern.casefold()
    if "/" in pattern:
        return PurePosixPath(path).match(pattern)
    return fnmatch.fnmatchcase(name, pattern)


def case_insensitive_fs(file: Path) -> bool:
    """Whether the folder holding `file` ignores case: the folder's name in other case is the same folder."""
    return _folder_ignores_case(str(file.parent.absolute()))


@functools.lru_cache(maxsize=256)
def _folder_ignores_case(folder: str) -> bool:
    head, name = os.path.split(folder)
    while name and name.swapcase() == name:  # no letters to try: look at the folder above
        head, name = os.path.split(head)
    if not name:
        return os.path.normcase("A") == os.path.normcase("a")  # only the root: as the OS says
    other = os.path.join(head, name.swapcase())
    try:
        return os.path.samefile(os.path.join(head, name), other)
    except OSError:
        return False


def _walk(folder: Path) -> Iterator[Path]:
    # followlinks=False: a symlink loop cannot make the walk endless.
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith("."):
                yield Path(root) / name


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_bytes(
    path: Path,
    data: bytes,
    source_path: str | None = None,
    dictionary: UnitDictionary | None = None,
    first_listed_leads: bool = False,
) -> Document:
    """Parse a file's content into a Document (no database).

    `first_listed_leads`: the first unit of a plain list leads (a convention of the issuing system).
    """
    source = read_bytes(path, data)
    most = file_limits.active().text_chars
    if len(source.text) > most:
        raise ReadError(
            f"{len(source.text):,} characters of text, far beyond a notice (limit {most:,}; "
            f"{raise_hint('text_chars')}); is it several documents in one? split it"
        )
    return extract_document(
        source,
        source_path=source_path or display_path(path),
        content_hash=content_hash(data),
        dictionary=dictionary,
        first_listed_leads=first_listed_leads,
    )


def _check_size(size: int) -> None:
    most = file_limits.active().file_mb
    if size > most * 2**20:
        raise ReadError(
            f"{size / 2**20:.0f} MB, far beyond a notice (limit {most} MB; {raise_hint('file_mb')}); "
            "is it the right file?"
        )


def _read(path: Path) -> bytes:
    try:
        _check_size(path.stat().st_size)
        return path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}; check it exists and is readable") from exc


def parse_file(path: str | Path, source_path: str | None = None, *, first_listed_leads: bool = False) -> Document:
    """Parse one notice file into a Document (no database)."""
    path = Path(path)
    try:
        return parse_bytes(path, _read(path), source_path, first_listed_leads=first_listed_leads)
    except NoticeError as exc:
        exc.path = exc.path or str(path)
        raise


# --- one file, in a worker ----------------------------------------------------------


@dataclass
class Parsed:
    """A file parsed by a worker, ready to store."""

    path: str
    rows: DocumentRows  # the rows of every table, search words included: the writer only appends them


@dataclass
class Failed:
    path: str
    stage: str  # read, extract, store
    error_class: str
    message: str
    content_hash: str | None = None  # of the content that failed, when it was read


_worker_dictionary: UnitDictionary | None = None
_worker_strict = False
_worker_first_listed_leads = False
_worker_memory_mb: int | None = None  # the address-space cap of this worker, when one is set


def _init_worker(dictionary: UnitDictionary, strict: bool, first_listed_leads: bool, main_pid: int) -> None:
    """Set up a worker process: the dictionary once, Ctrl-C left to the main process.

    A worker also ends when the main process is gone (killed with SIGKILL,
    say), instead of lingering and holding the terminal's pipes open.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The writer is the one serial step: when it has documents to store it
    # should get a core at once, not a third of two. Workers yield to it.
    if hasattr(os, "nice"):
        os.nice(WORKER_NICENESS)
    _configure(dictionary, strict, first_listed_leads)
    # What exists now (modules, the dictionary) lives as long as the worker:
    # frozen, it is not traversed again by every garbage collection.
    gc.freeze()
    threading.Thread(target=_exit_with, args=(main_pid,), daemon=True).start()


def _configure(dictionary: UnitDictionary, strict: bool, first_listed_leads: bool = False) -> None:
    """What _parse_one reads: set in each worker, or here when parsing in this process."""
    global _worker_dictionary, _worker_strict, _worker_first_listed_leads
    _worker_dictionary, _worker_strict, _worker_first_listed_leads = dictionary, strict, first_listed_leads


try:
    _malloc_trim = ctypes.CDLL(None).malloc_trim  # glibc; elsewhere there is nothing to trim
except (OSError, AttributeError):
    _malloc_trim = None


def _exit_with(main_pid: int) -> None:
    while True:
        time.sleep(0.5)
        try:
            os.kill(main_pid, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:
            pass


def _parse_in_worker(path: Path, shown: str) -> Parsed | Failed:
    """_parse_one, then hand the memory the file needed back to the system (~0.3 ms).

    glibc keeps freed memory in its arenas, so without the trim a worker's
    RSS stays at the high-water mark of the largest file it parsed.
    """
    try:
        return _parse_one(path, shown)
    finally:
        if _malloc_trim is not None:
            _malloc_trim(0)


def _parse_one(path: Path, shown: str) -> Parsed | Failed:
    """Read and extract one file; never raises."""
    try:
        data = _read(path)
    except NoticeError as exc:
        return Failed(shown, exc.stage, type(exc).__name__, exc.message)
    except MemoryError:
        return Failed(shown, "read", "OutOfMemory", _out_of_memory_message(_worker_memory_mb))
    return parse_content(path, shown, data)


def parse_content(path: Path, shown: str, data: bytes) -> Parsed | Failed:
    """Extract one file's bytes, already read (by _parse_one here, by Ray Data on a cluster:
    pipeline/ray_engine.py), with what _configure set; never raises."""
    try:
        _check_size(len(data))
    except ReadError as exc:  # as _read says it (no content hash: the bytes are not a notice's)
        return Failed(shown, exc.stage, type(exc).__name__, exc.message)
    stage = "extract"
    digest = content_hash(data)
    try:
        doc = parse_bytes(path, data, shown, _worker_dictionary, _worker_first_listed_leads)
        if _worker_strict and doc.warnings:
            details = "; ".join(f"{w.field}: {w.message}" for w in doc.warnings[:5])
            return Failed(
                shown, "extract", "StrictWarning", f"--strict: {len(doc.warnings)} warning(s): {details}", digest
            )
        # Turned into rows here, in parallel, with the search words split (jieba): the writer is the
        # one serial step of an ingest, and unpickling a pydantic Document cost it more than the rows.
        return Parsed(shown, document_rows(doc))
    except NoticeError as exc:
        return Failed(shown, exc.stage, type(exc).__name__, exc.message, digest)
    except MemoryError:
        return Failed(shown, stage, "OutOfMemory", _out_of_memory_message(_worker_memory_mb), digest)
    except Exception as exc:  # a bug must not stop the batch; it is recorded with its class
        message = f"{type(exc).__name__}: {exc} (a bug in policy-notices: please report it with this file)"
        return Failed(shown, stage, type(exc).__name__, message, digest)


def _widen(conn: multiprocessing.connection.Connection) -> None:
    """Let a worker's end of its pipe (a socket pair) hold _SEND_BUFFER, where the system allows."""
    try:
        import socket

        end = socket.socket(fileno=conn.fileno())
        try:
            end.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _SEND_BUFFER)
        finally:
            end.detach()  # the connection keeps its descriptor
    except (OSError, ValueError):
        pass  # not a socket here, or the option refused: the default buffer works, more slowly


# --- the batch ---------------------------------------------------------------------


@dataclass
class FileOutcome:
    path: str
    # new, replaced, rewritten, unchanged, failed, unchanged_failed (failed before, not retried), skipped,
    # duplicate (the bytes of a stored document: a second location), moved (a stored document's file at a new path),
    # removed (gone, retired by --prune)
    status: str
    items: int = 0
    unit_mentions: int = 0
    pages: int = 0
    message: str | None = None


@dataclass
class IngestReport:
    db: str
    counts: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ["new", "unchanged", "replaced", "failed", "unchanged_failed", "skipped", "duplicate", "moved", "removed"], 0
        )
    )
    items_added: int = 0
    unit_mentions_added: int = 0
    pages: int = 0
    warnings: int = 0
    workers: int = 1
    failures: list[FileOutcome] = field(default_factory=list)
    unresolved: list[tuple[str, int]] = field(default_factory=list)  # top unresolved unit names
    seconds: float = 0.0
    interrupted: bool = False
    notes: list[str] = field(default_factory=list)  # what was adjusted (shown with the summary)
    renormalized: dict[str, int] | None = None  # stored mentions resolved again: the dictionary changed

    strict: bool = False

    def add(self, outcome: FileOutcome) -> None:
        """Count one file's outcome (ingest and load alike)."""
        self.counts["new" if outcome.status == "rewritten" else outcome.status] += 1
        self.items_added += outcome.items
        self.unit_mentions_added += outcome.unit_mentions
        self.pages += outcome.pages
        if outcome.status in ("failed", "unchanged_failed"):
            self.failures.append(outcome)

    @property
    def exit_code(self) -> int:
        """1 when a file failed in this run; files that failed before and did not change are
        reported, not counted (a weekly re-run is not an error for them), except with --strict."""
        return 1 if self.counts["failed"] or (self.strict and self.counts["unchanged_failed"]) else 0

    @property
    def files_per_second(self) -> float:
        done = sum(v for k, v in self.counts.items() if k not in ("skipped", "removed"))
        return done / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "db": self.db,
            "files": dict(self.counts),
            "items_added": self.items_added,
            "unit_mentions_added": self.unit_mentions_added,
            "pages": self.pages,
            "warnings": self.warnings,
            "unresolved_units": [{"name": n, "mentions": c} for n, c in self.unresolved],
            "failures": [{"path": f.path, "message": f.message} for f in self.failures],
            "workers": self.workers,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(self.files_per_second, 2),
            "interrupted": self.interrupted,
            "renormalized": self.renormalized,
            "notes": self.notes,
            "exit_code": self.exit_code,
        }


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def ingest(
    paths: list[str | Path],
    db: str | Path,
    *,
    force: bool = False,
    workers: int | None = None,
    glob: str | None = None,
    strict: bool = False,
    dictionary_entries: list[tuple[UnitEntry, str]] | None = None,
    first_listed_leads: bool = False,
    limits: WorkerLimits | None = None,
    retry_failed: bool = False,
    prune: bool = False,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    wait: float | None = None,
    publish_every: float | None = None,
    on_wait: Callable[[str], None] | None = None,
    on_pages: Callable[[str, int, int], None] | None = None,
) -> IngestReport:
    """Ingest every notice under `paths` into the DuckDB file `db`.

    `workers` processes parse files (default: the number of cores; 1 parses
    in this process). `on_start(total)` and `on_file(outcome)` let a caller
    show progress; `on_pages(path, done, total)` tells of pages recognized by OCR. Units are resolved with the database's dictionary: the
    shipped one and the entries kept in custom_units, to which
    `dictionary_entries` ((entry, file) pairs, see
    pipeline.dictionary.read_dictionary_files) are added for good; when it
    changed, stored mentions are resolved again (report.renormalized). `strict` turns
    any parse warning into a failure of that file. `first_listed_leads`
    reads the first unit of every plain list as its lead (files already
    stored are re-read only with `force`). `limits` bound each worker's
    time and memory per file. A file whose content failed before is
    reported as `unchanged_failed` without parsing, unless `retry_failed`
    (or `force`). A file with the bytes of a stored document at another
    path is one document with two locations (status `duplicate`, a row in
    duplicate_files), or, when the other path is gone, the document moved.
    `prune` retires the documents under `paths` whose files are gone.
    On Ctrl-C the documents already parsed are written, the run is closed,
    and KeyboardInterrupt propagates; re-running the command resumes.
    The database is written through a staging copy and published (see
    pipeline.staging): readers of `db` see the last published state;
    `publish_every` seconds between publishes during a long run, `wait`
    seconds to wait for another writer or a read-write connection (each
    wait is announced through `on_wait`, by default on stderr).
    A script that calls this with workers > 1 needs the usual
    `if __name__ == "__main__":` guard of multiprocessing.
    """
    started = time.perf_counter()
    limits = limits or WorkerLimits()
    cores = default_workers()
    asked = workers
    workers = min(max(1, workers or cores), cores)
    files, others = discover(paths, glob, allow_none=prune)
    report = IngestReport(db=str(db), workers=workers, strict=strict)
    if asked and asked > cores:
        # Parsing is CPU-bound: more workers than cores only add memory and switching.
        report.notes.append(f"--workers {asked} is more than the {cores} cores this process may use; using {cores}")

    def done(outcome: FileOutcome) -> None:
        report.add(outcome)
        if on_file:
            on_file(outcome)

    with writing_run(db, wait, publish_every, on_wait) as staged:
        store = staged.store
        dictionary, report.renormalized = store.use_dictionary(dictionary_entries or [])
        run_id = store.start_run([str(p) for p in paths])
        if on_start:
            on_start(len(files))
        for other, message in others:
            shown = _printable(other.absolute().as_posix())  # not resolved: /dev/urandom says less than the link
            error_class = "UnsupportedFormat" if message.startswith("not a notice format") else "NotAFile"
            store.record_error(run_id, shown, "discover", error_class, message)
            done(FileOutcome(shown, "skipped", message=message))
        writer = _Writer(store, run_id, done, staged.maybe_publish)
        try:
            with closing_run(store, writer, run_id, report):
                options = (strict, first_listed_leads, retry_failed)
                _run(files, store, writer, workers, force, options, dictionary, done, limits, on_pages)
                writer.flush()
                if prune:
                    for gone in _prune(store, paths, glob):
                        done(FileOutcome(gone, "removed", message="file gone: retired"))
        finally:
            report.seconds = time.perf_counter() - started
    return report


def writing_run(db: str | Path, wait: float | None, publish_every: float | None,
                on_wait: Callable[[str], None] | None):
    """The staging copy an ingest or a load writes (pipeline/staging.py: lock, publishes), with the
    writer's settings: one DuckDB thread (the workers have the cores), WRITER_MEMORY_MB to start."""
    from pipeline.staging import PUBLISH_EVERY_SECONDS, WAIT_SECONDS, writing  # workers never need DuckDB

    return writing(
        db, wait=WAIT_SECONDS if wait is None else wait,
        publish_every=PUBLISH_EVERY_SECONDS if publish_every is None else publish_every,
        threads=1, memory_limit_mb=WRITER_MEMORY_MB, say=on_wait,
    )


@contextlib.contextmanager
def closing_run(store: Store, writer: _Writer, run_id: int, report: IngestReport) -> Iterator[None]:
    """Around the writing of a run (ingest, load): whatever ends it, what is parsed is written and
    the run closed. Ctrl-C keeps what is parsed (it is complete) and marks the run interrupted; a
    bug closes what it can; the disk full or the file damaged closes the run row if the disk lets
    us, and the error raised (one line, see Store.__exit__) says what to do."""
    from pipeline.store import as_store_error

    try:
        yield
    except KeyboardInterrupt:
        report.interrupted = True
        _close_run(store, writer, run_id, report)
        raise
    except Exception as exc:
        if as_store_error(exc, store.path) is None:
            with contextlib.suppress(Exception):
                _close_run(store, writer, run_id, report)
            raise
        with contextlib.suppress(Exception):
            store.finish_run(run_id, report.counts)
        raise
    else:
        _close_run(store, writer, run_id, report)


def _close_run(store: Store, writer: _Writer, run_id: int, report: IngestReport) -> None:
    """Write what is parsed, close the run row and fill the report's figures from the database."""
    writer.flush()
    store.resolve_links()  # the new documents' citations and task links, and citations that name them
    store.finish_run(run_id, report.counts)
    report.warnings = store.con.execute(
        "SELECT count(*) FROM document_warnings w JOIN documents d USING (document_id) WHERE d.is_current"
    ).fetchone()[0]
    report.unresolved = store.con.execute(
        "SELECT m.raw_text, count(*) AS n FROM unit_mentions m JOIN documents d USING (document_id) "
        "WHERE d.is_current AND d.run_id = ? AND m.resolution = 'unresolved' "
        "GROUP BY m.raw_text ORDER BY n DESC, m.raw_text LIMIT 10",
        [run_id],
    ).fetchall()


class _Writer:
    """Collects parsed files and writes them BATCH_DOCUMENTS at a time."""

    def __init__(self, store: Store, run_id: int, done: Callable[[FileOutcome], None],
                 written: Callable[[], None] | None = None):
        self.store, self.run_id, self.done = store, run_id, done
        self.written = written  # after each batch, between transactions: where the database may be published
        self.pending: list[Parsed] = []

    def add(self, result: Parsed | Failed) -> None:
        if isinstance(result, Failed):
            self.store.record_error(
                self.run_id, result.path, result.stage, result.error_class, result.message, result.content_hash
            )
            self.done(FileOutcome(result.path, "failed", message=result.message))
            return
        if self._same_as_stored(result):
            return
        self.pending.append(result)
        if len(self.pending) >= BATCH_DOCUMENTS:
            self.flush()

    def _same_as_stored(self, result: Parsed) -> bool:
        """A file with the bytes of a stored (or pending) document at another path is not stored
        twice: it is a second location of that document, or the document's new place when its
        old file is gone."""
        digest, key = result.rows.content_hash, result.path
        if any(p.rows.content_hash == digest for p in self.pending):
            self.flush()  # the first of two equal files is stored first, so the second can point at it
        same = self.store.current_with_content(digest)
        if same is None or same[1] == key:
            return False
        doc_id, where = same
        if source_key(stored_file(where)) == key or not still_holds(where, digest):
            # Its stored path names this very file (written by an older version, relative or
            # through a symlink), or no longer holds these bytes: the document is here now.
            self.store.relocate(doc_id, key)
            self.done(FileOutcome(key, "moved", message=f"was {display_path(where)}"))
        elif key < where:
            # Two files, one content: the document is at the first path in order, whichever
            # was parsed first (one worker or two give the same database).
            self.store.relocate(doc_id, key)
            self.store.record_duplicate(where, doc_id, digest, self.run_id)
            self.done(FileOutcome(key, "duplicate", message=f"same content as {display_path(where)} "
                                  "(the document is now at this path, the first of the two)"))
        else:
            self.store.record_duplicate(key, doc_id, digest, self.run_id)
            self.done(FileOutcome(key, "duplicate", message=f"same content as {display_path(where)}"))
        return True

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        try:
            statuses = self.store.write_rows([p.rows for p in batch], self.run_id)
        except KeyboardInterrupt:
            # Ctrl-C mid-write: the transaction is undone, but the batch is parsed; back to pending,
            # so the run's closing flush (_close_run) writes it as ingest promises.
            self.pending = batch + self.pending
            raise
        except Exception as exc:
            from pipeline.store import as_store_error

            if as_store_error(exc, self.store.path) is not None:
                raise  # the disk or the database file, not a document: the batch cannot go on
            # Find the document that cannot be stored; keep the others.
            statuses = [self._write_alone(parsed) for parsed in batch]
        for parsed, status in zip(batch, statuses):
            if status is None:
                continue  # reported by _write_alone
            rows = parsed.rows
            self.done(FileOutcome(parsed.path, status, rows.items, rows.unit_mentions, rows.page_count))
        if self.written is not None:
            self.written()

    def _write_alone(self, parsed: Parsed) -> str | None:
        try:
            return self.store.write_rows([parsed.rows], self.run_id)[0]
        except Exception as exc:
            from pipeline.store import as_store_error

            if as_store_error(exc, self.store.path) is not None:
                raise
            message = f"cannot store: {type(exc).__name__}: {exc}"
            self.store.record_error(self.run_id, parsed.path, "store", type(exc).__name__, message)
            self.done(FileOutcome(parsed.path, "failed", message=message))
            return None


def _run(files, store, writer, workers, force, options, dictionary, done, limits: WorkerLimits, on_pages=None) -> None:
    strict, first_listed_leads, retry_failed = options
    current = store.current_versions()
    failed = {} if force or retry_failed else store.failed_versions()

    duplicates = store.duplicate_versions()

    def changed() -> Iterator[tuple[Path, str]]:
        """Files to parse; unchanged ones (and content that failed before) are reported here, without parsing."""
        for path in files:
            shown = source_key(path)
            if ((current.get(shown) or duplicates.get(shown)) is not None and not force) or shown in failed:
                try:
                    digest = content_hash(_read(path))
                except ReadError:
                    digest = None  # the worker reports it
                outcome = already_stored(shown, digest, current, duplicates, failed, force)
                if outcome is not None:
                    done(outcome)
                    continue
            yield path, shown

    todo = changed()
    if workers == 1:
        _configure(dictionary, strict, first_listed_leads)
        previous = file_limits.use(limits.files)
        from pipeline import ocr  # light: the engine itself is imported only when a page needs it

        try:
            for path, shown in todo:
                ocr.on_page = (lambda d, t, shown=shown: on_pages(shown, d, t)) if on_pages else None
                writer.add(_parse_one(path, shown))
        finally:
            file_limits.use(previous)
            ocr.on_page = None
        return
    initargs = (dictionary, strict, first_listed_leads, os.getpid(), limits.memory_mb, limits.files)
    _Supervisor(workers, initargs, limits, on_pages).run(todo, writer.add)


def already_stored(shown: str, digest: str | None, current: dict, duplicates: dict, failed: dict,
                   force: bool) -> FileOutcome | None:
    """The outcome of a file that needs no writing, or None: its content is stored at its path
    (unchanged), or failed before there (unchanged_failed; `failed` is empty with --retry-failed).
    `current`, `duplicates`, `failed`: Store.current_versions, duplicate_versions, failed_versions.
    A local ingest asks before parsing; `notices load` before writing what Ray parsed."""
    known = current.get(shown) or duplicates.get(shown)
    failure = failed.get(shown)
    if known is not None and not force and digest == known[1]:
        return FileOutcome(shown, "unchanged")
    if failure is not None and digest == failure[0]:
        message = f"{failure[2]} (failed before on this content; --retry-failed parses it again)"
        return FileOutcome(shown, "unchanged_failed", message=message)
    return None


# Each worker holds this many files, so it keeps parsing while the writer stores a batch (~0.3 s
# for 64 documents: 4-8 files of the bench mix). With 2 a worker stood idle through each write, and
# 2 workers were 1.5x one; with 8, 1.8x (make bench).
_QUEUE_DEPTH = 8
# What a worker may have sent before the writer reads it (its results wait in the socket meanwhile;
# a notice's rows are ~90 KB pickled). Linux caps it at net.core.wmem_max.
_SEND_BUFFER = 4 * 1024 * 1024
_READY = "ready"
_OCR_PAGES = "ocr_pages"  # a worker's note: (it, pages recognized, pages to recognize) of its current file
# A worker that is not ready after this long is stuck (not its files' fault): it is replaced.
_STARTUP_SECONDS = 120.0


@dataclass
class _Worker:
    """A worker process, the pipe to it and the files it holds, oldest first."""

    process: multiprocessing.process.BaseProcess
    conn: multiprocessing.connection.Connection
    queue: list[tuple[Path, str]] = field(default_factory=list)
    started: float = 0.0  # when it began the oldest file of its queue (or was started, until ready)
    parsed: int = 0
    ready: bool = False
    # Wall time its current file may take beyond the per-file limit: SECONDS_PER_OCR_PAGE for each
    # page it said it will recognize by OCR (a 6-page scan takes ~30 s on 2 cores, a 100-page one minutes).
    allowance: float = 0.0


class _Supervisor:
    """Worker processes that parse one file at a time under limits they cannot escape.

    A worker that dies (the OOM killer, a crash in a C library), or overruns
    the wall time on a file, is stopped and replaced; the file it held is
    recorded as failed with the cause, and the batch goes on. Workers fork
    from a server that preloads the parsing code and jieba's table
    (pipeline/worker_preload.py): the workers share those pages instead of
    each loading its own copy, and a new worker starts in milliseconds.
    """

    def __init__(self, workers: int, initargs: tuple, limits: WorkerLimits, on_pages=None):
        self.context = multiprocessing.get_context("forkserver")
        # The fork server loads the parsing code and jieba's table once; its workers share them.
        self.context.set_forkserver_preload(["pipeline.worker_preload"])
        self.count, self.initargs, self.limits, self.on_pages = workers, initargs, limits, on_pages
        self.workers: list[_Worker] = []

    def _start(self) -> _Worker:
        parent, child = self.context.Pipe()
        _widen(child)
        process = self.context.Process(target=_worker_main, args=(child, self.initargs), daemon=True)
        process.start()
        child.close()
        return _Worker(process, parent, started=time.monotonic())

    def run(self, todo: Iterator[tuple[Path, str]], deliver: Callable[[Parsed | Failed], None]) -> None:
        from multiprocessing.connection import wait

        tasks = iter(todo)
        first = next(tasks, None)
        if first is None:
            return  # nothing to parse (an unchanged re-run): no fork server, no worker started
        tasks = itertools.chain([first], tasks)
        self.workers = [self._start() for _ in range(self.count)]
        try:
            while True:
                self._fill(tasks)
                busy = [w for w in self.workers if w.queue]
                if not busy:
                    return
                deadline = min(
                    w.started + (self.limits.seconds + w.allowance if w.ready else _STARTUP_SECONDS) for w in busy
                )
                wait([w.conn for w in busy] + [w.process.sentinel for w in busy],
                     timeout=max(0.0, deadline - time.monotonic()))
                for worker in busy:
                    self._collect(worker, deliver)
        except KeyboardInterrupt:
            # Ctrl-C: what the workers have sent (up to _QUEUE_DEPTH files each, waiting in their
            # sockets) is parsed, and ingest keeps what is parsed.
            for worker in self.workers:
                self._drain(worker, deliver)
            raise
        finally:
            for worker in self.workers:
                self._stop(worker)

    def _fill(self, tasks: Iterator[tuple[Path, str]]) -> None:
        # One file at a time to the worker holding fewest: a batch of fewer files than the queues
        # hold (_QUEUE_DEPTH each) is shared among the workers, not queued at the first.
        while True:
            # A worker is retired after TASKS_PER_WORKER files, so its memory cannot creep.
            open_ = [w for w in self.workers
                     if len(w.queue) < _QUEUE_DEPTH and w.parsed + len(w.queue) < TASKS_PER_WORKER]
            if not open_:
                return
            worker = min(open_, key=lambda w: len(w.queue))
            task = next(tasks, None)
            if task is None:
                return
            if not worker.queue and worker.ready:
                worker.started = time.monotonic()
            worker.queue.append(task)
            worker.conn.send(task)

    def _collect(self, worker: _Worker, deliver: Callable[[Parsed | Failed], None]) -> None:
        while worker.queue and worker.conn.poll():
            try:
                result = worker.conn.recv()
            except (EOFError, OSError):
                break  # the worker is gone: its sentinel says why
            if isinstance(result, tuple) and result[0] == _OCR_PAGES:
                _, pages_done, pages = result
                worker.allowance = pages * SECONDS_PER_OCR_PAGE
                if self.on_pages:
                    self.on_pages(worker.queue[0][1], pages_done, pages)
                continue
            worker.started = time.monotonic()
            worker.allowance = 0.0
            if result == _READY:
                worker.ready = True
                continue
            worker.queue.pop(0)
            worker.parsed += 1
            deliver(result)
        if not worker.queue:
            if worker.parsed >= TASKS_PER_WORKER:
                self._replace(worker)
            return
        limit = self.limits.seconds + worker.allowance if worker.ready else _STARTUP_SECONDS
        overran = time.monotonic() - worker.started > limit
        if worker.process.is_alive() and not overran:
            return
        if overran and worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
            if not worker.ready:
                raise NoticeError(f"a worker process did not start within {_STARTUP_SECONDS:.0f} s; "
                                    "is the machine out of memory or processes? Try --workers 1")
            cause = ("TimedOut", f"stopped after {limit:.0f} s on this file (limit; --max-seconds "
                     "raises it); is it far larger than a notice?")
        else:
            worker.process.join()
            cause = _death_cause(worker.process.exitcode, self.limits.memory_mb)
        path, shown = worker.queue.pop(0)
        deliver(Failed(shown, "extract", cause[0], cause[1], _hash_of(path)))
        # The files queued behind it were not parsed: they go to the new worker.
        pending = worker.queue
        self._replace(worker)
        for task in pending:
            worker.queue.append(task)
            worker.conn.send(task)

    def _drain(self, worker: _Worker, deliver: Callable[[Parsed | Failed], None]) -> None:
        """Deliver the results `worker` has already sent, without waiting for more."""
        while worker.queue:
            try:
                if not worker.conn.poll():
                    return
                result = worker.conn.recv()
            except Exception:  # gone, or a message cut short by the interrupt: nothing more to read
                return
            if isinstance(result, (Parsed, Failed)):
                worker.queue.pop(0)
                deliver(result)

    def _replace(self, worker: _Worker) -> None:
        self._stop(worker)
        fresh = self._start()
        worker.process, worker.conn, worker.queue, worker.parsed = fresh.process, fresh.conn, [], 0
        worker.started, worker.ready, worker.allowance = fresh.started, False, 0.0

    def _stop(self, worker: _Worker) -> None:
        if worker.process.is_alive():
            try:
                worker.conn.send(None)
            except (OSError, ValueError):
                pass
            worker.process.join(timeout=1)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        worker.conn.close()


def _prune(store: Store, paths: list[str | Path], glob: str | None) -> list[str]:
    """Retire the stored documents (and duplicate notes) under `paths` whose files are gone;
    returns their paths. Only under the paths given: a folder ingested from elsewhere, or a
    drive not mounted today, is left alone."""
    roots = [_root_key(Path(p)) for p in paths]
    gone = [
        key for key in store.stored_paths()
        if _under(key, roots)
        and (not glob or _matches(Path(key), glob))
        and _gone(key)
    ]
    if gone:
        store.remove(gone)
    return gone


def remove(db: str | Path, paths: list[str | Path], *, wait: float | None = None,
           on_wait: Callable[[str], None] | None = None) -> tuple[list[str], dict[str, int]]:
    """Let go of the stored files at `paths` (files or folders, existing or not): their documents
    are retired, or stay current at a duplicate file with the same bytes. Returns the stored
    paths matched and the counts of `Store.remove`. Written through a staging copy, like an
    ingest (`wait`: see ingest)."""
    from pipeline.staging import WAIT_SECONDS, writing

    roots = [_root_key(Path(p)) for p in paths]
    with writing(db, wait=WAIT_SECONDS if wait is None else wait, say=on_wait) as staged:
        store = staged.store
        matched = [key for key in store.stored_paths() if _under(key, roots)]
        counts = store.remove(matched) if matched else {"retired": 0, "relocated": 0, "duplicates_dropped": 0}
        if matched:
            store.resolve_links()  # citations of retired documents are open again
    return matched, counts


def _gone(key: str) -> bool:
    """A stored file that is gone, or now a symlink to another file (stored under its own path)."""
    file = stored_file(key)
    return not file.exists() or source_key(file) != key


def _under(key: str, roots: list[str]) -> bool:
    """Whether a stored path is one of `roots` or inside one. A relative path (stored by an
    older version) is taken from the working directory."""
    if not key.startswith("/"):
        key = source_key(stored_file(key))
    return any(key == root or key.startswith(root.rstrip("/") + "/") for root in roots)


def _root_key(path: Path) -> str:
    """A path given to prune or remove, as stored paths start: a folder resolved (symlinks
    followed), a file by its own name (a symlink to another file names the link, not its target)."""
    if path.is_symlink() and not path.is_dir():
        return _printable((Path(source_key(path.parent)) / path.name).as_posix())
    return source_key(path)


def _hash_of(path: Path) -> str | None:
    try:
        return content_hash(_read(path))
    except ReadError:
        return None


def still_holds(stored_path: str, digest: str) -> bool:
    """Whether the file at a stored path is there and still holds the bytes `digest` names."""
    return _hash_of(stored_file(stored_path)) == digest


def _death_cause(exitcode: int | None, memory_mb: int) -> tuple[str, str]:
    """What an ended worker's exit code says, as (error class, message)."""
    if exitcode == -signal.SIGKILL:
        return ("WorkerKilled", "the worker parsing this file was killed (by the system's out-of-memory killer?); "
                f"the file needs more memory than the machine gives (workers may use {memory_mb} MB each)")
    if exitcode is not None and exitcode < 0:
        name = signal.Signals(-exitcode).name if -exitcode in signal.Signals._value2member_map_ else str(-exitcode)
        return ("WorkerCrashed", f"the worker parsing this file crashed ({name}); the file may be damaged: "
                "get a fresh copy, or report it with this file")
    return ("WorkerCrashed", f"the worker parsing this file exited (code {exitcode}); report it with this file")


def _worker_main(conn, initargs: tuple) -> None:
    """A worker: parse the files the supervisor sends, one at a time, until it sends None."""
    *setup, memory_mb, files = initargs
    _init_worker(*setup)
    file_limits.use(files)
    # Search words are split here (pipeline/rows.py): the tokenizer's table, inherited from the fork
    # server (or built now, where it preloaded nothing), comes on top of what a file may take.
    from pipeline.worker_preload import WORDS_MB

    _limit_memory(memory_mb, WORDS_MB)
    from pipeline import ocr  # light: the engine itself is imported only when a page needs it

    # Pages recognized, told to the supervisor: the progress bar shows them, and they extend the file's time.
    ocr.on_page = lambda done, total: conn.send((_OCR_PAGES, done, total))
    # The wall-time clock starts when the worker is ready, not when its first file is sent:
    # starting a worker (imports, the dictionary) is not the file's time.
    conn.send(_READY)
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        result = _parse_in_worker(*task)
        try:
            conn.send(result)
        except MemoryError:
            conn.send(Failed(task[1], "extract", "OutOfMemory", _out_of_memory_message(memory_mb)))


def _limit_memory(memory_mb: int, held_mb: int = 0) -> None:
    """Cap the worker's address space: a file that would fill memory raises MemoryError in it instead.
    `held_mb`: what the worker holds for every file (the tokenizer's table), on top of the cap."""
    try:
        import resource
    except ImportError:  # not on this platform: the supervisor still catches a killed worker
        return
    limit = (memory_mb + held_mb) * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    global _worker_memory_mb
    _worker_memory_mb = memory_mb


def _out_of_memory_message(memory_mb: int | None) -> str:
    limit = f" ({memory_mb} MB a worker; --max-memory-mb raises it)" if memory_mb else ""
    return f"parsing needs more memory than allowed{limit}; is the file far larger than a notice?"
