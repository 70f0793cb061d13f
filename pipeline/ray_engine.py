"""`notices ingest PATH... --engine ray --out DIR`: parse on a Ray cluster, rows as Parquet parts.

Ray Data reads the files (a local or shared folder, or s3:// / gs:// paths); each Ray task
parses its files with the code a local ingest runs in its workers (pipeline.ingest.parse_content,
the same dictionary and options) and turns each document into the rows of every table
(pipeline.rows.document_rows). A task writes its files' rows itself, one Parquet part per table:

    DIR/<table>/<part>.parquet   one folder per table: `file` (the source path), then the table's
                                 columns (pipeline.rows.ROW_COLUMNS) with Arrow types fixed from
                                 pipeline.store.TABLES, so every part of a table has one schema
    DIR/rule_units/<part>.parquet  the `units` rows jurisdiction rules built for the documents' mentions
    DIR/failures/<part>.parquet  files that could not be parsed (or were skipped: stage discover)
    DIR/order/files.parquet      the files in the order a local ingest takes them (load writes in it)
    DIR/manifest.json            the run: paths, options, dictionary entries; written last, so a
                                 folder without it is an unfinished run `notices load` refuses

A part is named by its files (paths and content hashes): a task Ray runs again after a worker
died writes the same names over, so nothing is doubled. A new run into the same DIR first clears
the parts of the one before. `notices load DIR --db FILE` (pipeline/load.py) then writes them
into the database with a local ingest's rules.

ray and pyarrow are imported here only, inside functions: the default install has neither.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.errors import NoticeError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
FAILURES = "failures"
RULE_UNITS = "rule_units"  # DocumentRows.rule_units: `units` rows (pipeline.rows.UNIT_COLUMNS)
ORDER = "order"  # the files in discovery order: `file`, `position`
FILE_COLUMN = "file"  # every part's first column: the source path a row belongs to (a document's rows by file)
FAILURE_COLUMNS = ["source_path", "stage", "error_class", "message", "content_hash"]
# Files per batch in a Ray task: a part holds this many documents' rows (fewer, larger Parquet files
# than one per document; small enough that a retried task redoes little).
BATCH_FILES = 16
INSTALL_HINT = "the Ray engine needs Ray: install it with pip install -e '.[ray]'"


@dataclass
class RayReport:
    """What an `ingest --engine ray` run did."""

    out: str
    files: int = 0
    parsed: int = 0
    failed: int = 0
    skipped: int = 0
    items: int = 0
    unit_mentions: int = 0
    parts: int = 0
    workers: int = 0  # CPUs of the Ray cluster
    startup_seconds: float = 0.0  # ray.init: starting (or reaching) the cluster
    parse_seconds: float = 0.0  # summed over the workers: parsing the files and making their rows
    write_seconds: float = 0.0  # summed over the workers: writing the Parquet parts
    seconds: float = 0.0  # the whole run, start-up included
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def files_per_second(self) -> float:
        return (self.parsed + self.failed) / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {
            "out": self.out, "files": self.files, "parsed": self.parsed, "failed": self.failed,
            "skipped": self.skipped, "items": self.items, "unit_mentions": self.unit_mentions, "parts": self.parts,
            "workers": self.workers, "startup_seconds": round(self.startup_seconds, 3),
            "parse_seconds": round(self.parse_seconds, 3), "write_seconds": round(self.write_seconds, 3),
            "seconds": round(self.seconds, 3), "files_per_second": round(self.files_per_second, 2),
            "failures": [{"path": p, "message": m} for p, m in self.failures],
        }


# --- Arrow types, fixed once from the database's own --------------------------------


def arrow_type(duckdb_type: str):
    """The Arrow type of a column of pipeline.store.TABLES (its DuckDB type, constraints ignored)."""
    import pyarrow as pa

    base = duckdb_type.split(" NOT NULL")[0].split(" DEFAULT")[0].split(" PRIMARY")[0].strip()
    if base.endswith("[]"):
        return pa.list_(arrow_type(base[:-2]))
    types = {"VARCHAR": pa.string(), "INTEGER": pa.int32(), "BIGINT": pa.int64(), "DOUBLE": pa.float64(),
             "BOOLEAN": pa.bool_(), "DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us")}
    if base not in types:
        raise ValueError(f"no Arrow type for the DuckDB type {duckdb_type!r}: add it to pipeline/ray_engine.py")
    return types[base]


def table_schema(table: str):
    """The Parquet schema of a table's parts: the file, then the table's row columns."""
    import pyarrow as pa

    from pipeline.rows import ROW_COLUMNS, UNIT_COLUMNS
    from schemas.tables import TABLES

    types = {c.name: c.type for c in TABLES["units" if table == RULE_UNITS else table]}
    names = UNIT_COLUMNS if table == RULE_UNITS else ROW_COLUMNS[table]
    return pa.schema([pa.field(FILE_COLUMN, pa.string(), nullable=False)]
                     + [pa.field(name, arrow_type(types[name])) for name in names])


def failures_schema():
    import pyarrow as pa

    return pa.schema([pa.field(name, pa.string()) for name in FAILURE_COLUMNS])


# --- in a Ray worker -------------------------------------------------------------------


_configured: tuple | None = None  # the options this worker process was set up with


def _configure_worker(options: tuple) -> None:
    """Set up this Ray worker process as a local ingest sets up its workers (once per process)."""
    global _configured
    if _configured == options:
        return
    from pipeline import ingest
    from pipeline import limits as file_limits
    from pipeline.dictionary import with_entries

    entries, strict, first_listed_leads, files = options
    ingest._configure(with_entries(list(entries)), strict, first_listed_leads)
    file_limits.use(files)
    _configured = options


def part_name(files: list[tuple[str, str]]) -> str:
    """A part's name, from its files' (path, content hash): the same files give the same name."""
    digest = hashlib.sha256()
    for path, content in sorted(files):
        digest.update(f"{path}\0{content}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:24]


class ParseBatch:
    """The function Ray Data maps over batches of files: parse each file, write the batch's rows as
    Parquet parts under the output folder, return one summary row per file (for the progress line).

    A plain picklable object: Ray ships it to every worker. `before_parse(path)` is a test's hook
    (a worker that dies mid-task)."""

    def __init__(self, out: str, options: tuple, before_parse: Callable[[str], None] | None = None,
                 remote: list[str] = ()):
        self.out, self.options, self.before_parse = out, options, before_parse
        # Ray Data gives an object store file as bucket/key: its source_path keeps the scheme (s3://bucket/key).
        self.schemes = [(root.split("://", 1)[1], root.split("://", 1)[0]) for root in remote]

    def _source_path(self, path: str) -> str:
        for root, scheme in self.schemes:
            if path.startswith(root.rstrip("/")):
                return f"{scheme}://{path}"
        return path

    def __call__(self, batch: dict) -> dict:
        import pyarrow as pa

        from pipeline import ingest
        from pipeline.ingest import Failed, content_hash

        _configure_worker(self.options)
        tables: dict[str, list[tuple]] = {}
        failures: list[tuple] = []
        columns = ("path", "status", "items", "unit_mentions", "message", "parse_seconds")
        summary: dict[str, list] = {name: [] for name in columns}
        named: list[tuple[str, str]] = []
        for path, data in zip(batch["path"], batch["bytes"]):
            path, data = self._source_path(str(path)), bytes(data)
            if self.before_parse is not None:
                self.before_parse(path)
            clock = time.perf_counter()
            result = ingest.parse_content(Path(path), path, data)
            if ingest._malloc_trim is not None:  # as a local worker: the file's memory back to the system
                ingest._malloc_trim(0)
            named.append((path, content_hash(data)))
            if isinstance(result, Failed):
                failures.append((result.path, result.stage, result.error_class, result.message, result.content_hash))
                values = (path, "failed", 0, 0, result.message)
            else:
                rows = result.rows  # pipeline.rows.DocumentRows, search words split (jieba), as in a local worker
                for table, table_rows in [*rows.tables.items(), (RULE_UNITS, rows.rule_units)]:
                    tables.setdefault(table, []).extend((path, *row) for row in table_rows)
                values = (path, "parsed", rows.items, rows.unit_mentions, "")
            for name, value in zip(columns, (*values, time.perf_counter() - clock)):
                summary[name].append(value)
        clock = time.perf_counter()
        part = part_name(named)
        for table, table_rows in tables.items():
            if table_rows:
                schema = table_schema(table)
                _write_part(self.out, table, part, pa.Table.from_arrays(
                    [pa.array(list(col), type=f.type) for col, f in zip(zip(*table_rows), schema)], schema=schema))
        if failures:
            schema = failures_schema()
            _write_part(self.out, FAILURES, part, pa.Table.from_arrays(
                [pa.array(list(col), type=pa.string()) for col in zip(*failures)], schema=schema))
        summary["write_seconds"] = [time.perf_counter() - clock] + [0.0] * (len(summary["path"]) - 1)
        return summary


def _write_part(out: str, folder: str, name: str, table) -> None:
    """Write one Parquet part whole: to a temporary name, then renamed (a worker killed mid-write
    leaves only a temporary file, which `notices load` does not read and the next run clears)."""
    import pyarrow.parquet as pq
    from pyarrow import fs as pafs

    filesystem, base = pafs.FileSystem.from_uri(out)
    target = f"{base}/{folder}/{name}.parquet"
    temporary = f"{base}/{folder}/.{name}.{os.getpid()}.tmp"
    filesystem.create_dir(f"{base}/{folder}", recursive=True)
    pq.write_table(table, temporary, filesystem=filesystem, compression="zstd")
    filesystem.move(temporary, target)


# --- the driver ---------------------------------------------------------------------


def _is_uri(path: str) -> bool:
    return "://" in str(path)


def _prepare_out(out: Path) -> None:
    """Make DIR ready: created, writable, and empty of an earlier run's parts (a folder holding
    anything else is refused, so a typo cannot delete someone's files)."""
    from pipeline.rows import ROW_COLUMNS

    ours = {*ROW_COLUMNS, RULE_UNITS, FAILURES, ORDER, MANIFEST}
    try:
        out.mkdir(parents=True, exist_ok=True)
        other = sorted(p.name for p in out.iterdir() if p.name not in ours)
        if other:
            raise NoticeError(f"{out} holds other files ({', '.join(other[:3])}); give --out an empty or new folder, "
                              "or the folder of an earlier --engine ray run")
        for name in ours:
            target = out / name
            if target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
        probe = out / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except PermissionError as exc:
        raise NoticeError(f"cannot write to {out} ({exc.strerror}); choose a folder you can write (--out)") from exc
    except OSError as exc:
        raise NoticeError(f"cannot use {out} as the output folder ({exc.strerror or exc}); choose another --out") from exc


def _check_reachable(address: str) -> None:
    """Fail in seconds, in one line, when nothing listens at a cluster address (ray.init would retry for
    minutes). "auto" (the cluster this machine is a node of) is left to Ray."""
    import socket

    hostport = address.split("://", 1)[-1]
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        if address != "auto":
            raise NoticeError(f"--address {address}: give ray://HOST:10001 (Ray client) or HOST:6379 (from a node of "
                              "the cluster)")
        return
    try:
        socket.create_connection((host, int(port)), timeout=10).close()
    except OSError as exc:
        raise NoticeError(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}); is `ray start --head` "
                          "running there, and the port open?") from exc


def _start_ray(address: str | None, workers: int | None):
    """ray.init: a local Ray with `workers` CPUs, or the cluster at `address` (one line if unreachable)."""
    try:
        import ray
    except ImportError as exc:
        raise NoticeError(INSTALL_HINT) from exc
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    # Ray's own notes (token authentication of a local Ray, progress bars off) are not the user's business.
    kwargs = dict(logging_level=logging.ERROR, log_to_driver=False, include_dashboard=False,
                  configure_logging=True)
    if address:
        _check_reachable(address)
    try:
        if address:
            ray.init(address=address, **kwargs)
        else:
            ray.init(num_cpus=workers, **kwargs)
    except (ConnectionError, TimeoutError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise NoticeError(f"cannot reach the Ray cluster at {where} ({first}); start it with `ray start --head` "
                          "there, or check --address (ray://HOST:10001, or HOST:6379 on a cluster node)") from exc
    return ray


def ingest_to_parquet(
    paths: list[str | Path],
    out: str | Path,
    *,
    address: str | None = None,
    workers: int | None = None,
    glob: str | None = None,
    strict: bool = False,
    first_listed_leads: bool = False,
    dictionary_entries: list | None = None,
    files_limits=None,
    on_start: Callable[[int], None] | None = None,
    on_file: Callable | None = None,
    before_parse: Callable[[str], None] | None = None,
) -> RayReport:
    """Parse the notices under `paths` on Ray and write their rows as Parquet parts under `out`.

    Local (and shared) folders are listed as a local ingest lists them (pipeline.ingest.discover:
    the same files, known by the same absolute paths); s3:// and gs:// paths are listed by Ray Data.
    `address`: a running Ray cluster (ray://HOST:10001, or HOST:6379 from a node of it); without it
    a local Ray starts with `workers` CPUs (default: the cores). `dictionary_entries` ((entry, file)
    pairs) are added to the shipped unit dictionary, as `ingest --dictionary` does, and recorded in
    the manifest for `notices load`. A Ray this process started already (ray.init) is used and left running.
    """
    from pipeline import limits as file_limits
    from pipeline.ingest import FileOutcome, discover, source_key
    from pipeline.store import _fingerprint
    from pipeline.dictionary import with_entries

    started = time.perf_counter()
    try:
        import pyarrow  # noqa: F401  (comes with ray[data])
        import ray  # noqa: F401
    except ImportError as exc:
        raise NoticeError(INSTALL_HINT) from exc
    local = [p for p in paths if not _is_uri(str(p))]
    remote = [str(p) for p in paths if _is_uri(str(p))]
    files, others = discover(local, glob) if local else ([], [])
    keys = [source_key(f) for f in files]
    out_uri = str(out)
    if not _is_uri(out_uri):
        out_path = Path(out).absolute()
        _prepare_out(out_path)
        out_uri = out_path.as_posix()
    report = RayReport(out=str(out))
    entries = [entry for entry, _ in dictionary_entries or []]
    options = (tuple(entries), strict, first_listed_leads, files_limits or file_limits.active())

    started_here = not _ray_running()  # a caller (a test, a notebook) may have started Ray: keep it then
    clock = time.perf_counter()
    ray = _start_ray(address, workers) if started_here else __import__("ray")
    report.startup_seconds = time.perf_counter() - clock
    report.workers = int(ray.cluster_resources().get("CPU", 0))
    try:
        if on_start:
            on_start(len(keys) if not remote else 0)
        report.skipped = len(others)
        _write_skipped(out_uri, others)
        _write_order(out_uri, keys)
        sources = keys + remote
        if not sources:
            batches = iter(())
        elif address and address.startswith("ray://"):
            # Ray Data cannot run its executor in a Ray client (ray://): it runs in a task on the
            # cluster, and the summaries come back at its end (no progress line meanwhile).
            batches = iter(ray.get(ray.remote(num_cpus=0)(_summaries_list).remote(
                sources, bool(remote), out_uri, options, before_parse, remote)))
        else:
            batches = _summaries(sources, bool(remote), out_uri, options, before_parse, remote)
        for batch in _batches(ray, batches):
            for path, status, items, mentions, message, parse_s, write_s in zip(
                batch["path"], batch["status"], batch["items"], batch["unit_mentions"], batch["message"],
                batch["parse_seconds"], batch["write_seconds"],
            ):
                report.files += 1
                report.parse_seconds += float(parse_s)
                report.write_seconds += float(write_s)
                if status == "failed":
                    report.failed += 1
                    report.failures.append((str(path), str(message)))
                else:
                    report.parsed += 1
                    report.items += int(items)
                    report.unit_mentions += int(mentions)
                if on_file:
                    on_file(FileOutcome(str(path), str(status), int(items), int(mentions),
                                        message=str(message) or None))
        report.parts = _count_parts(out_uri)
        manifest = {
            "format": FORMAT_VERSION,
            "paths": [str(p) for p in paths],
            "strict": strict,
            "first_listed_leads": first_listed_leads,
            "dictionary": [[e.canonical_name, e.level, e.kind, e.jurisdiction, list(e.aliases), e.note, origin]
                           for e, origin in dictionary_entries or []],
            "dictionary_fingerprint": _fingerprint(with_entries(entries)),
            "files": report.files, "parsed": report.parsed, "failed": report.failed, "skipped": report.skipped,
        }
        _write_text(out_uri, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    finally:
        if started_here:
            ray.shutdown()
        report.seconds = time.perf_counter() - started
    return report


def _summaries(sources: list[str], listed_by_ray: bool, out_uri: str, options: tuple,
               before_parse, remote: list[str]):
    """Run the dataset: Ray Data reads `sources`, ParseBatch parses and writes the parts; yields each
    batch's summary (a dict of columns) as its task ends."""
    import ray.data
    from pipeline.readers import SUPPORTED_SUFFIXES

    logging.getLogger("ray.data").setLevel(logging.ERROR)  # no "execution finished" lines
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # ours is the one a person reads
    context.print_on_execution_start = False
    dataset = ray.data.read_binary_files(
        sources, include_paths=True,
        file_extensions=[s.lstrip(".") for s in SUPPORTED_SUFFIXES] if listed_by_ray else None,
        # A read task of about one batch of files: the work spreads evenly over the CPUs (Ray's own
        # choice, a few large blocks, left a CPU idle at the end), and a retried task redoes little.
        override_num_blocks=None if listed_by_ray else max(1, -(-len(sources) // BATCH_FILES)),
    )
    parse = ParseBatch(out_uri, options, before_parse, remote)
    yield from dataset.map_batches(parse, batch_size=BATCH_FILES, batch_format="numpy").iter_batches(
        batch_size=None, batch_format="numpy")


def _summaries_list(*args) -> list[dict]:
    """_summaries, whole, as plain lists (the task a Ray client runs on the cluster)."""
    return [{k: [v.item() if hasattr(v, "item") else v for v in column] for k, column in batch.items()}
            for batch in _summaries(*args)]


def _batches(ray, summaries):
    """The summary batches as the tasks finish; a task Ray gave up on (a file it cannot read, after its
    retries) is one line, not Ray's traceback."""
    try:
        yield from summaries
    except ray.exceptions.RayError as exc:
        lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
        cause = next((line for line in reversed(lines) if "Error" in line), lines[-1] if lines else type(exc).__name__)
        raise NoticeError(f"the Ray run failed: {cause[:300]}; check that every node reads the files at these paths, "
                          "then run the same command again") from exc


def _ray_running() -> bool:
    try:
        import ray
    except ImportError as exc:
        raise NoticeError(INSTALL_HINT) from exc
    return ray.is_initialized()


def _write_skipped(out: str, others: list[tuple[Path, str]]) -> None:
    """Files a folder held that are no notices: one part of failures, stage discover, as a local
    ingest records them."""
    if not others:
        return
    import pyarrow as pa

    from pipeline.ingest import _printable

    rows = []
    for other, message in others:
        shown = _printable(other.absolute().as_posix())  # not resolved: as a local ingest shows it
        error_class = "UnsupportedFormat" if message.startswith("not a notice format") else "NotAFile"
        rows.append((shown, "discover", error_class, message, None))
    name = part_name([(path, "discover") for path, *_ in rows])
    _write_part(out, FAILURES, name, pa.Table.from_arrays(
        [pa.array(list(col), type=pa.string()) for col in zip(*rows)], schema=failures_schema()))


def _write_order(out: str, keys: list[str]) -> None:
    """The files in the order a local ingest takes them (discovery order: a folder's files, then its
    subfolders'): `notices load` writes the documents in it, so what depends on which document comes
    first (the `units` row a jurisdiction rule builds from two notices) is as a local ingest leaves it."""
    if not keys:
        return
    import pyarrow as pa

    _write_part(out, ORDER, "files", pa.table({"file": pa.array(keys, pa.string()),
                                               "position": pa.array(range(len(keys)), pa.int64())}))


def _write_text(out: str, name: str, text: str) -> None:
    from pyarrow import fs as pafs

    filesystem, base = pafs.FileSystem.from_uri(out)
    with filesystem.open_output_stream(f"{base}/{name}") as stream:
        stream.write(text.encode())


def _count_parts(out: str) -> int:
    from pyarrow import fs as pafs

    filesystem, base = pafs.FileSystem.from_uri(out)
    found = filesystem.get_file_info(pafs.FileSelector(base, recursive=True, allow_not_found=True))
    return sum(1 for info in found if info.path.endswith(".parquet"))
