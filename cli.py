"""`notices`: the command line over policy-notices (a thin layer on pipeline/)."""

from __future__ import annotations

import dataclasses
import enum
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from pipeline.errors import NoticeError
from pipeline.limits import MEMORY_MB_PER_WORKER, SECONDS_PER_FILE, FileLimits, WorkerLimits

app = typer.Typer(
    help="Turn Chinese policy notices (txt, pdf, docx) into structured data in DuckDB.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

DictionaryOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--dictionary",
        metavar="FILE",
        help="Extra unit dictionary (TSV: canonical_name, level, kind, jurisdiction, aliases|…); repeatable. "
        "Its entries are kept in the database (custom_units): later commands use them without the flag.",
    ),
]
DbOption = Annotated[Path, typer.Option("--db", metavar="FILE", help="DuckDB file made by `notices ingest`.")]
WaitOption = Annotated[
    float | None,
    typer.Option("--wait", min=0, metavar="SECONDS",
                 help="How long to wait for another command writing the database, or a program holding it "
                 "read-write, before giving up (default 300; 0: fail at once). Read-only readers never hold it up."),
]

# The filters every reading command shares (search, docs, export, report): see pipeline/lookup.py.
JurisdictionOption = Annotated[
    str | None, typer.Option("--jurisdiction", metavar="PLACE", help="行政区域: 北京市, or its start (北京).")
]
YearOption = Annotated[int | None, typer.Option("--year", metavar="YEAR", help="Year of the document (成文日期, else 发文字号).")]
SinceOption = Annotated[
    str | None, typer.Option("--since", metavar="DATE", help="成文日期 on or after DATE (2023-04-13, 2023-04 or 2023).")
]
UntilOption = Annotated[
    str | None, typer.Option("--until", metavar="DATE", help="成文日期 on or before DATE (2023-04-13, 2023-04 or 2023).")
]
IssuerOption = Annotated[str | None, typer.Option("--issuer", metavar="NAME", help="Part of an issuing organ's name.")]
UnitOption = Annotated[
    str | None, typer.Option("--unit", metavar="NAME", help="A responsible unit, canonical name or alias (市科协).")
]
DocOption = Annotated[
    list[str] | None,
    typer.Option("--doc", metavar="DOC", help="A document: id, 发文字号, file name or part of the title; repeatable."),
]


def document_filter(
    jurisdiction: str | None = None,
    year: int | None = None,
    since: str | None = None,
    until: str | None = None,
    issuer: str | None = None,
    unit: str | None = None,
    doc: list[str] | None = None,
):
    """The DocumentFilter of a command's filter options (a bad date is a NoticeError)."""
    from pipeline.lookup import DocumentFilter, date_bound

    return DocumentFilter(
        jurisdiction=jurisdiction,
        year=year,
        since=date_bound(since) if since else None,
        until=date_bound(until, end=True) if until else None,
        issuer=issuer,
        unit=unit,
        docs=tuple(doc or ()),
    )


EXIT_CODES = """Exit codes: 0 all files ingested, or the only failures are files that failed before and did not change (listed; with --strict they count); 1 some files failed (the others are in); 2 usage or environment error (bad path, locked database, full disk)."""


def _interrupted() -> NoReturn:
    """Ctrl-C during a command that writes (ingest, load): what it wrote is kept."""
    typer.echo("interrupted: every document written so far is complete; run the same command again to resume",
               err=True)
    raise typer.Exit(130) from None


def _report_run(report, reporter, as_json: bool) -> NoReturn:
    """The summary of an ingest or a load (JSON, or the reporter's lines), and its exit code."""
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        reporter.summary(report)
    raise typer.Exit(report.exit_code)


def _fail(exc: Exception, code: int = 2) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


FirstListedLeadsOption = Annotated[
    bool,
    typer.Option(
        "--first-listed-leads",
        help="Read the first unit of every plain unit list as its lead (a convention of some issuing systems; "
        "by default a list that names no lead gives every unit the role responsible). Recorded on each document.",
    ),
]


class Engine(str, enum.Enum):
    local = "local"
    ray = "ray"


class OcrMode(str, enum.Enum):
    auto = "auto"
    off = "off"
    force = "force"


OcrOption = Annotated[
    OcrMode,
    typer.Option(
        "--ocr",
        metavar="MODE",
        help="auto, off or force. PDF pages without a usable text layer (scans, fonts without a Unicode map): "
        "auto reads only those pages by OCR, off refuses them as before, force reads every page of every PDF by OCR.",
    ),
]


@app.command()
def parse(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A notice file (.txt, .pdf, .docx, .html).")],
    first_listed_leads: FirstListedLeadsOption = False,
    ocr: OcrOption = OcrMode.auto,
) -> None:
    """Parse one notice and print it as JSON.

    Example: notices parse data/raw/003_b8b4a31499fe38d2.txt
    Example: notices parse data/raw/000_69453124e71ca7c9.txt --first-listed-leads
    Example: notices parse ~/scans/notice.pdf --ocr force
    """
    from pipeline import limits as file_limits
    from pipeline.golden import document_json
    from pipeline.ingest import parse_file

    file_limits.use(dataclasses.replace(file_limits.active(), ocr=ocr.value))
    try:
        if not file.exists():
            raise NoticeError(f"no such file: {file}")
        if file.is_dir():
            raise NoticeError(f"{file} is a folder; parse takes one file (use ingest for folders)")
        doc = parse_file(file, first_listed_leads=first_listed_leads)
    except NoticeError as exc:
        _fail(exc)
    sys.stdout.write(document_json(doc))


@app.command(epilog=EXIT_CODES)
def ingest(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Files or folders (searched recursively).")],
    db: Annotated[Path, typer.Option("--db", metavar="FILE", help="DuckDB file to create or update.")] = Path("data/notices.duckdb"),
    force: Annotated[bool, typer.Option(help="Re-parse files even when unchanged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="One line per file.")] = False,
    dictionary: DictionaryOption = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, metavar="N",
                     help="Processes that parse files (default and most: the number of cores)."),
    ] = None,
    glob: Annotated[str | None, typer.Option("--glob", metavar="PATTERN", help="Only files matching this pattern, e.g. '*.pdf'.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Treat any parse warning as a failure of that file.")] = False,
    first_listed_leads: FirstListedLeadsOption = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Parse again files whose unchanged content failed before.")
    ] = False,
    max_seconds: Annotated[
        float, typer.Option("--max-seconds", min=1, metavar="SECONDS", help="Wall time a worker may spend on one file before it is stopped.")
    ] = SECONDS_PER_FILE,
    max_memory_mb: Annotated[
        int, typer.Option("--max-memory-mb", min=256, metavar="MB", help="Memory (address space) each worker process may use.")
    ] = MEMORY_MB_PER_WORKER,
    file_limit: Annotated[
        list[str] | None,
        typer.Option("--file-limit", metavar="NAME=N",
                     help="Raise (or lower) what one file may hold, e.g. pdf_pages=5000; repeatable. Names: "
                     + ", ".join(f"{f.name} (default {f.default:,})" for f in dataclasses.fields(FileLimits)
                                 if f.type in (int, "int")) + "."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option("--prune", help="Retire stored documents under PATHS whose files are gone (history rows kept)."),
    ] = False,
    wait: WaitOption = None,
    publish_every: Annotated[
        float | None,
        typer.Option("--publish-every", min=0, metavar="SECONDS",
                     help="During a long run, let readers see the documents written so far this often (default 60; "
                     "never more often than 10 times a publish's cost). Always at the end."),
    ] = None,
    ocr: OcrOption = OcrMode.auto,
    engine: Annotated[
        Engine, typer.Option("--engine", metavar="ENGINE",
                             help="local (parse here, write --db) or ray (parse on Ray, write Parquet parts to --out "
                             "for `notices load`; needs the extra: pip install -e '.\\[ray]').")
    ] = Engine.local,
    out: Annotated[
        Path | None, typer.Option("--out", metavar="DIR", help="--engine ray: the folder of Parquet parts (or s3://…).")
    ] = None,
    address: Annotated[
        str | None, typer.Option("--address", metavar="ADDRESS",
                                 help="--engine ray: a running Ray cluster, ray://HOST:10001 (default: a local Ray).")
    ] = None,
) -> None:
    """Ingest notices (txt, pdf, docx, html) into a DuckDB file; unchanged files are skipped.

    Folders are searched recursively; other files are listed as skipped (and
    noted in ingest_errors). Ctrl-C stops cleanly; run the same command to resume.

    Example: notices ingest data/raw --db data/notices.duckdb
    Example: notices ingest ~/notices --glob '*.pdf' --workers 2 --json
    Example: notices ingest ~/kexie_ledgers --first-listed-leads --force
    Example: notices ingest ~/scans --max-seconds 600 --max-memory-mb 4096
    Example: notices ingest ~/notices --prune   (files deleted from ~/notices leave the current data)
    Example: notices ingest ~/notices --wait 3600 --publish-every 300
    Example: notices ingest ~/scans --ocr force   (read every PDF page by OCR, text layer or not)
    Example: notices ingest /shared/notices --engine ray --address ray://head:10001 --out /shared/parts

    While it runs, the database can be read (notices search, units, export,
    or duckdb.connect(FILE, read_only=True)): readers see what was last
    published, at most --publish-every seconds old. A second command that
    writes waits for this one, up to --wait seconds.

    Files are parsed in worker processes under a wall-time and a memory
    limit; a file that overruns them, or whose worker dies, is one row in
    ingest_errors and the batch goes on (with --workers 1 files are parsed
    in this process, without those limits: for debugging). A file whose
    content failed before is not parsed again until it changes (or with
    --retry-failed, or --force); it is listed as failed before.

    A file is known by its absolute path, so the same folder ingested from
    another working directory is not stored again. A file with the same
    bytes as a stored document is one document with two locations (listed
    in duplicate_files; its tasks are not counted twice); a stored file
    found at a new path, its old path gone, is the same document moved.
    """
    from pipeline.ingest import ingest as run_ingest
    from pipeline.progress import Reporter

    from pipeline.dictionary import read_dictionary_files

    reporter = Reporter(quiet=quiet or as_json, verbose=verbose)
    try:
        entries = read_dictionary_files(dictionary)
        files = FileLimits(ocr=ocr.value)
        for override in file_limit or []:
            try:
                files = files.with_override(override)
            except ValueError as exc:
                raise NoticeError(str(exc)) from exc
        if engine == Engine.ray or out is not None or address is not None:
            local_only = [name for name, given in [("--prune", prune), ("--force", force), ("--retry-failed", retry_failed),
                                                   ("--publish-every", publish_every is not None),
                                                   ("--wait", wait is not None)] if given]
            _ingest_on_ray(paths, out, address, workers, glob, strict, first_listed_leads, entries, files,
                           engine, local_only, reporter, as_json)
        with reporter:
            report = run_ingest(
                paths,
                db,
                force=force,
                workers=workers,
                glob=glob,
                strict=strict,
                dictionary_entries=entries,
                first_listed_leads=first_listed_leads,
                limits=WorkerLimits(seconds=max_seconds, memory_mb=max_memory_mb, files=files),
                retry_failed=retry_failed,
                prune=prune,
                on_start=reporter.start,
                on_file=reporter.file_done,
                wait=wait,
                publish_every=publish_every,
                on_pages=reporter.pages_recognized,
            )
    except NoticeError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _interrupted()
    _report_run(report, reporter, as_json)


def _ingest_on_ray(paths, out, address, workers, glob, strict, first_listed_leads, entries, files, engine,
                   local_only, reporter, as_json) -> None:
    """`ingest --engine ray`: parse on Ray into Parquet parts (pipeline/ray_engine.py); exits."""
    from pipeline.ray_engine import ingest_to_parquet

    if engine != Engine.ray:
        raise NoticeError("--out and --address go with --engine ray")
    if out is None:
        raise NoticeError("--engine ray writes Parquet parts, not the database: give --out DIR, then run "
                          "notices load DIR --db FILE")
    if local_only:
        raise NoticeError(f"{', '.join(local_only)}: not with --engine ray (notices load decides what is unchanged; "
                          "use --force / --retry-failed / --wait there)")
    with reporter:
        report = ingest_to_parquet(
            paths, out, address=address, workers=workers, glob=glob, strict=strict,
            first_listed_leads=first_listed_leads, dictionary_entries=entries, files_limits=files,
            on_start=reporter.start, on_file=reporter.file_done,
        )
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False))
    else:
        typer.echo(
            f"{out}: {report.parsed} parsed, {report.failed} failed, {report.skipped} skipped files in "
            f"{report.seconds:.1f}s ({report.files_per_second:.1f} files/s on {report.workers} Ray CPUs, "
            f"{report.startup_seconds:.1f}s of it starting Ray); {report.items} items, "
            f"{report.unit_mentions} unit mentions in {report.parts} Parquet parts"
        )
        for path, message in report.failures:
            typer.echo(f"  failed: {path}: {message}")
        typer.echo(f"next: notices load {out} --db FILE")
    raise typer.Exit(1 if report.failed else 0)


@app.command(epilog=EXIT_CODES)
def load(
    folder: Annotated[Path, typer.Argument(metavar="DIR", help="The --out folder of `notices ingest --engine ray`.")],
    db: Annotated[Path, typer.Option("--db", metavar="FILE", help="DuckDB file to create or update.")] = Path("data/notices.duckdb"),
    force: Annotated[bool, typer.Option(help="Write documents again even when unchanged.")] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Record again files whose unchanged content failed before.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="One line per file.")] = False,
    wait: WaitOption = None,
) -> None:
    """Load the Parquet parts of `notices ingest --engine ray` into a DuckDB file, as a local ingest writes.

    Unchanged files are skipped, changed ones replaced, a copy of a stored document is a duplicate,
    failures are rows of ingest_errors; loading the same folder again changes nothing. Needs neither
    Ray nor pyarrow: run it where the database lives.

    Example: notices ingest data/raw --engine ray --out /tmp/parts && notices load /tmp/parts --db data/notices.duckdb
    Example: notices load /shared/parts --db notices.duckdb --json
    """
    from pipeline.load import load as run_load
    from pipeline.progress import Reporter

    reporter = Reporter(quiet=quiet or as_json, verbose=verbose)
    try:
        with reporter:
            report = run_load(folder, db, force=force, retry_failed=retry_failed, on_start=reporter.start,
                              on_file=reporter.file_done, wait=wait)
    except NoticeError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        _interrupted()
    _report_run(report, reporter, as_json)


@app.command()
def remove(
    paths: Annotated[list[Path], typer.Argument(metavar="PATH", help="Stored files or folders to let go of (they may be gone).")],
    db: DbOption = Path("data/notices.duckdb"),
    wait: WaitOption = None,
) -> None:
    """Retire the documents of files or folders from the current data (their rows stay as history).

    A document whose bytes are also at another stored path stays current there.

    Example: notices remove data/raw/old_notice.pdf --db data/notices.duckdb
    Example: notices remove ~/notices/2019 --db data/notices.duckdb
    """
    from pipeline.ingest import display_path, remove as run_remove

    try:
        if not db.exists():
            raise NoticeError(f"no database at {db}; nothing to remove")
        matched, counts = run_remove(db, paths, wait=wait)
    except NoticeError as exc:
        _fail(exc)
    if not matched:
        typer.echo(f"nothing stored at {', '.join(map(str, paths))}; see: SELECT source_path FROM documents WHERE is_current")
        raise typer.Exit(1)
    for key in matched:
        typer.echo(f"removed  {display_path(key)}")
    typer.echo(
        f"{db}: {counts['retired']} documents retired, {counts['relocated']} kept at another file with the same "
        f"content, {counts['duplicates_dropped']} duplicate notes dropped"
    )


@app.command()
def check(
    update: Annotated[bool, typer.Option(help="Rewrite the expected outputs from the current parser.")] = False,
    raw: Annotated[Path, typer.Option(metavar="FOLDER", help="Folder of input notices.")] = Path("data/raw"),
    parsed: Annotated[Path, typer.Option(metavar="FOLDER", help="Folder of reviewed outputs.")] = Path("data/parsed"),
) -> None:
    """Compare the parse of every file in data/raw/ with its reviewed output in data/parsed/.

    Example: notices check            (exit 1 and a per-field diff on any difference)
    Example: notices check --update   (after reviewing the change against the source)
    """
    from pipeline.golden import check as run_check

    if not raw.is_dir():
        _fail(NoticeError(f"no such folder: {raw}"))
    results = run_check(raw, parsed, update=update)
    if not results:
        _fail(NoticeError(f"no notices in {raw}"))
    failed = 0
    for result in results:
        if result.ok:
            typer.echo(f"ok       {result.file}" + ("  (expected output written)" if update else ""))
            continue
        failed += 1
        if result.error:
            typer.echo(f"ERROR    {result.file}: {result.error}")
        elif result.missing_expected:
            typer.echo(f"MISSING  {result.file}: no {parsed}/{result.file}.json; review the parse, then --update")
        else:
            typer.echo(f"DIFFERS  {result.file}: {len(result.differences)} difference(s)")
            for line in result.differences[:25]:
                typer.echo(f"    {line}")
            if len(result.differences) > 25:
                typer.echo(f"    … and {len(result.differences) - 25} more")
    typer.echo(f"{len(results) - failed} of {len(results)} files match their reviewed output")
    raise typer.Exit(1 if failed else 0)


@app.command()
def units(
    db: DbOption = Path("data/notices.duckdb"),
    unresolved: Annotated[bool, typer.Option("--unresolved", help="List unit names no dictionary entry resolves.")] = False,
    dictionary: DictionaryOption = None,
    limit: Annotated[int, typer.Option(min=1, metavar="N", help="Show at most this many names.")] = 50,
) -> None:
    """List responsible units: the most mentioned, or with --unresolved the names to review.

    Example: notices units --unresolved --db data/notices.duckdb
    """
    from extractors.jurisdiction import place_named
    from extractors.normalize import suggest
    from pipeline.dictionary import read_dictionary_files, with_entries

    try:
        with _open_db(db) as store:
            # Entries given here only help the hints; kept entries come from the database.
            units_dictionary = with_entries(store.custom_units() + [e for e, _ in read_dictionary_files(dictionary)])
            if not unresolved:
                rows = store.con.execute(
                    "SELECT unit, sum(items_led), sum(items_co_handled), sum(items_total) FROM unit_workload "
                    "WHERE NOT is_collective GROUP BY unit ORDER BY 4 DESC, 1 LIMIT ?",
                    [limit],
                ).fetchall()
                typer.echo(f"{'led':>5} {'co':>5} {'total':>6}  unit")
                for unit, led, co, total in rows:
                    typer.echo(f"{led:>5} {co:>5} {total:>6}  {unit}")
                return
            found = store.unresolved_mentions()
    except NoticeError as exc:
        _fail(exc)
    if not found:
        typer.echo("every unit mention resolves to a canonical unit or a collective")
        return
    typer.echo(f"{len(found)} unresolved unit names ({sum(c for _, c, _ in found)} mentions):")
    for name, count, uses in found[:limit]:
        jurisdiction = uses[0][2]
        hints = suggest(name, place_named(jurisdiction), units_dictionary)
        typer.echo(f"{count:>4}  {name}" + (f"   (read in {jurisdiction})" if jurisdiction else ""))
        for where, item_key, _ in uses[:3]:
            typer.echo(f"        in {where}, item {item_key}")
        if len(uses) > 3:
            typer.echo(f"        … and {len(uses) - 3} more")
        if hints:
            typer.echo(f"        closest entries: {'; '.join(hints)}")
    typer.echo("Add entries to a dictionary file, then: notices renormalize --db FILE --dictionary FILE")


@app.command()
def renormalize(
    db: DbOption = Path("data/notices.duckdb"),
    dictionary: DictionaryOption = None,
    reset_dictionary: Annotated[
        bool, typer.Option("--reset-dictionary", help="Forget the entries kept from earlier --dictionary files.")
    ] = False,
    wait: WaitOption = None,
) -> None:
    """Re-resolve every stored unit mention with the database's dictionary, without re-parsing files.

    Entries of --dictionary files are added to the ones the database keeps (custom_units).

    Example: notices renormalize --db data/notices.duckdb --dictionary my_units.tsv
    Example: notices renormalize --db data/notices.duckdb --reset-dictionary
    """
    from pipeline.dictionary import read_dictionary_files
    from pipeline.staging import WAIT_SECONDS, writing

    try:
        entries = read_dictionary_files(dictionary)
        if not db.exists():
            raise NoticeError(f"no database at {db}; create it with: notices ingest PATH --db {db}")
        # Through a staging copy, published at the end: readers are not held up.
        with writing(db, wait=WAIT_SECONDS if wait is None else wait) as staged:
            store = staged.store
            units_dictionary, result = store.use_dictionary(entries, reset=reset_dictionary)
            if result is None:
                result = store.renormalize(units_dictionary)
            kept = len(store.custom_units())
            links = store.resolve_links(full=True)
    except NoticeError as exc:
        _fail(exc)
    typer.echo(
        f"{db}: {result['mentions_after']} unit mentions re-resolved (were {result['mentions_before']}); "
        f"{result['unresolved']} unresolved; {kept} custom dictionary entr{'y' if kept == 1 else 'ies'} kept "
        "(SELECT * FROM custom_units)"
    )
    typer.echo(
        f"{db}: {links['resolved']} of {links['citations']} citations name a stored document; "
        f"{links['task_links']} task links (SELECT * FROM citation_graph; SELECT * FROM task_links)"
    )


JsonOption = Annotated[bool, typer.Option("--json", help="Print a JSON list of objects.")]
CsvOption = Annotated[bool, typer.Option("--csv", help="Print CSV (UTF-8 with BOM, for Excel) with a header row.")]


def _print_rows(rows: list[dict], columns: list[str], as_json: bool, as_csv: bool) -> None:
    from pipeline.listing import as_csv as csv_bytes, as_json as json_text

    if as_json:
        typer.echo(json_text(rows), nl=False)
    else:
        stream = typer.get_binary_stream("stdout")
        stream.write(csv_bytes(rows, columns))
        stream.flush()


@app.command()
def search(
    query: Annotated[str, typer.Argument(metavar="WORDS", help="Words to look for, e.g. '科普 老年人'.")],
    db: DbOption = Path("data/notices.duckdb"),
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, metavar="N", help="How many hits to show.")] = 10,
    jurisdiction: JurisdictionOption = None,
    year: YearOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    issuer: IssuerOption = None,
    unit: UnitOption = None,
    doc: DocOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """Full-text search over the whole text (tasks, titles, headings, paragraphs), best first (BM25).

    Each hit: rank, score, date, jurisdiction, file, where it is (item key, 标题, 章节 key, or the
    heading and line of a paragraph), the text around the match, and a task's units with their
    roles (★ the lead). With --unit, only tasks that name the unit.

    Example: notices search "应急科普" --db data/notices.duckdb
    Example: notices search 限购 --jurisdiction 沈阳 --since 2022-01 --json
    Example: notices search 科普 --unit 市科协 --year 2023 --csv > hits.csv
    Example: notices search 老年人 --doc 京纲要办发〔2023〕2号 -n 20
    The tasks' ranking in SQL: SELECT * FROM search_items('应急 科普') LIMIT 10;
    """
    from pipeline.search import SEARCH_COLUMNS, search as run_search, snippet, unindexed_documents

    try:
        if as_json and as_csv:
            raise NoticeError("give --json or --csv, not both")
        flt = document_filter(jurisdiction, year, since, until, issuer, unit, doc)
        with _open_db(db) as store:
            hits = run_search(store.con, query, flt, limit=limit)
            unindexed = unindexed_documents(store.con)
    except NoticeError as exc:
        _fail(exc)
    if unindexed:
        typer.echo(
            f"note: {unindexed} document{'s were' if unindexed != 1 else ' was'} stored by an older policy-notices: "
            "only the tasks, title and headings are searched; read the rest with: notices ingest PATH --force "
            f"--db {db}",
            err=True,
        )
    if as_json or as_csv:
        rows = [{"rank": rank, **(hit.as_dict() if as_json else hit.as_row())} for rank, hit in enumerate(hits, 1)]
        _print_rows(rows, SEARCH_COLUMNS, as_json, as_csv)
        if not hits:
            raise typer.Exit(1)
        return
    if not hits:
        where = "" if flt.is_empty() else " in the documents the filters select"
        typer.echo(f"no item matches {query!r}, nor any title, heading or paragraph{where}")
        raise typer.Exit(1)
    colour = sys.stdout.isatty()
    roles = {"lead": "牵头", "responsible": "负责", "cooperating": "配合", "participant": "参与", "guiding": "指导"}
    for rank, hit in enumerate(hits, start=1):
        name = hit.source_path.rsplit("/", 1)[-1]
        date = hit.issued_date.isoformat() if hit.issued_date else "(no date)"
        typer.echo(f"{rank:>2}. {hit.score:5.2f}  {date}  {hit.jurisdiction or '—'}  {name}  [{hit.location}]")
        mark = (lambda w: typer.style(w, bold=True, fg="red")) if colour else (lambda w: w)
        typer.echo(f"      {snippet(hit.text, hit.matched_words, mark=mark)}")
        if hit.kind == "item":
            units = "、".join(f"{'★' if role == 'lead' else ''}{unit_name} {roles.get(role, role)}"
                             for unit_name, role in hit.units)
            typer.echo(f"      units: {units or '—'}")
        else:
            typer.echo(f"      in: {hit.title or name}")


@app.command()
def docs(
    db: DbOption = Path("data/notices.duckdb"),
    jurisdiction: JurisdictionOption = None,
    year: YearOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    issuer: IssuerOption = None,
    unit: UnitOption = None,
    doc: DocOption = None,
    as_json: JsonOption = False,
    as_csv: CsvOption = False,
) -> None:
    """List the current documents, by date: id, 成文日期, 发文字号, jurisdiction, title, tasks, unit mentions, file.

    Example: notices docs --db data/notices.duckdb
    Example: notices docs --jurisdiction 北京 --year 2023
    Example: notices docs --unit 市科协 --since 2022-06 --csv > documents.csv
    Example: notices docs --issuer 国务院 --json
    """
    from pipeline.search import DOCUMENT_COLUMNS, documents

    try:
        if as_json and as_csv:
            raise NoticeError("give --json or --csv, not both")
        flt = document_filter(jurisdiction, year, since, until, issuer, unit, doc)
        with _open_db(db) as store:
            rows = documents(store.con, flt)
    except NoticeError as exc:
        _fail(exc)
    if as_json or as_csv:
        _print_rows(rows, DOCUMENT_COLUMNS, as_json, as_csv)
    elif rows:
        typer.echo("id                date        items  units  jurisdiction  发文字号 / title / file")
        for row in rows:
            date = row["issued_date"].isoformat() if row["issued_date"] else "(no date)  "
            title = row["title"] or "(no title)"
            title = title if len(title) <= 40 else title[:39] + "…"
            typer.echo(
                f"{row['document_id']}  {date:<10}  {row['items']:>5}  {row['unit_mentions']:>5}  "
                f"{row['jurisdiction'] or '—'}  {row['doc_number'] or '(no number)'}  {title}  "
                f"({row['source_path'].rsplit('/', 1)[-1]})"
            )
        typer.echo(f"{len(rows)} document{'s' if len(rows) != 1 else ''}")
    if not rows:
        if not (as_json or as_csv):
            typer.echo("no document matches" + ("" if flt.is_empty() else " the filters"))
        raise typer.Exit(1)


@app.command()
def export(
    out_dir: Annotated[Path, typer.Argument(metavar="FOLDER", help="Folder to write the files into.")],
    db: DbOption = Path("data/notices.duckdb"),
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="parquet, csv (UTF-8 with BOM, for Excel) or "
                                     "jsonl (a file per table and view), xlsx (one workbook, a sheet each), or duckdb1 "
                                     "(the whole database as one file DuckDB 1.0 and later open).")] = "parquet",
    unit: UnitOption = None,
    doc: DocOption = None,
    jurisdiction: JurisdictionOption = None,
    year: YearOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    issuer: IssuerOption = None,
) -> None:
    """Write every table and view (item_units, unit_workload, document_summary) to files, or with a
    filter the tasks it selects as one table, tasks.<format>.

    --unit: the tasks naming that unit (with its role in each: unit_role); --doc: a document's tasks;
    --jurisdiction, --year, --since, --until, --issuer narrow the documents. A task row holds the
    document's title, 发文字号 and date, the task's text, its lead unit and every unit with its role.
    CSV starts with a BOM so Excel reads the Chinese text; lists are joined with 、 in CSV and xlsx.

    Example: notices export exports/ --db data/notices.duckdb --format csv
    Example: notices export exports/ --db data/notices.duckdb --format xlsx
    Example: notices export kexie/ --db data/notices.duckdb --unit 市科协 --format xlsx
    Example: notices export one/ --db data/notices.duckdb --doc 京纲要办发〔2023〕2号 --format csv
    Example: notices export for_dbeaver/ --db data/notices.duckdb --format duckdb1
    """
    from pipeline.export import export_database, export_tasks

    try:
        flt = document_filter(jurisdiction=jurisdiction, year=year, since=since, until=until, issuer=issuer,
                              unit=unit, doc=doc)
        with _open_db(db) as store:
            if flt.is_empty():
                result = export_database(store, out_dir, fmt)
            else:
                result = export_tasks(store, out_dir, fmt, flt)
    except NoticeError as exc:
        _fail(exc)
    written = result.files
    typer.echo(f"wrote {len(written)} file{'s' if len(written) != 1 else ''} to {out_dir}: " + ", ".join(p.name for p in written))
    if not flt.is_empty():
        count = result.rows.get("tasks", 0)
        typer.echo(f"{count} task{'' if count == 1 else 's'}" + ("" if count else "; the filter selects no task"))
    for note in result.notes:
        typer.echo(f"note: {note}")


@app.command()
def show(
    doc: Annotated[str, typer.Argument(metavar="DOC", help="A document: id, 发文字号, file name or part of the title.")],
    db: DbOption = Path("data/notices.duckdb"),
    as_json: Annotated[bool, typer.Option("--json", help="The same outline as one JSON object.")] = False,
    full: Annotated[bool, typer.Option("--full", help="Each task's whole text, wrapped (default: one line, cut).")] = False,
) -> None:
    """Print one document's outline: metadata, heading tree, tasks with their units and roles.

    Each task is one line (cut to the width; --full wraps its whole text) with its key, then its units
    by role (牵头 lead, 负责 responsible, 配合 cooperating, 参与 participant, 指导 guiding).

    Example: notices show 京纲要办发〔2023〕2号 --db data/notices.duckdb
    Example: notices show 003_b8b4a31499fe38d2.txt --db data/notices.duckdb --full | less
    Example: notices show d05638e1 --db data/notices.duckdb --json
    """
    from pipeline.lookup import resolve_document
    from pipeline.outline import document_outline, render_outline

    try:
        with _open_db(db) as store:
            outline = document_outline(store.con, resolve_document(store.con, doc))
    except NoticeError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps(outline, ensure_ascii=False, indent=1))
    else:
        render_outline(outline, full_text=full, file=sys.stdout)


@app.command()
def sql(
    query: Annotated[
        str | None,
        typer.Argument(metavar="QUERY", help="The SQL, or - to read it from standard input."),
    ] = None,
    db: DbOption = Path("data/notices.duckdb"),
    file: Annotated[Path | None, typer.Option("--file", "-f", metavar="FILE", help="Read the SQL from this file.")] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Every row as CSV (UTF-8 with BOM, for Excel).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Every row as a JSON list of objects.")] = False,
    limit: Annotated[int, typer.Option("--limit", "-n", min=0, metavar="N", help="Rows the table shows (not --csv/--json).")] = 40,
) -> None:
    """Run a query on the database read-only and print its rows as a table.

    Tables, views (item_units, unit_workload, document_summary) and search_items(...) are there, as in
    any DuckDB client. A query cannot change the database, attach others, or read or write files (use
    export for files); a refused or wrong query is one line with DuckDB's message. A query that
    starts with a -- comment is read from --file or -, or given after a lone --.

    Example: notices sql "SELECT * FROM document_summary" --db data/notices.duckdb
    Example: notices sql --file my_query.sql --db data/notices.duckdb --csv > result.csv
    Example: notices sql - --db data/notices.duckdb < my_query.sql
    Example: notices sql "SELECT * FROM search_items('应急 科普') LIMIT 5" --json
    """
    from pipeline.query import lock_down, run_query, write_csv, write_json, write_table

    try:
        if as_csv and as_json:
            raise NoticeError("give --csv or --json, not both")
        if file is not None and query is not None:
            raise NoticeError("give the query or --file FILE, not both")
        if file is not None:
            try:
                text = file.read_text(encoding="utf-8-sig")
            except (OSError, UnicodeDecodeError) as exc:
                raise NoticeError(f"cannot read the query file {file}: {getattr(exc, 'strerror', None) or exc}") from exc
        elif query == "-":
            text = sys.stdin.read()
        elif query is not None:
            text = query
        else:
            raise NoticeError('give a query: notices sql "SELECT …", --file FILE, or - to read standard input')
        with _open_db(db) as store:
            lock_down(store.con)
            result = run_query(store.con, text)
            if as_csv:
                sys.stdout.write("\ufeff")
                write_csv(result, sys.stdout)
            elif as_json:
                write_json(result, sys.stdout)
            else:
                write_table(result, sys.stdout, limit)
    except NoticeError as exc:
        _fail(exc)


@app.command()
def report(
    db: DbOption = Path("data/notices.duckdb"),
    out: Annotated[Path, typer.Option("--out", metavar="FILE", help="HTML file to write (replaced if it exists).")] = Path("report.html"),
    network_units: Annotated[
        int, typer.Option("--network-units", min=2, metavar="N", help="Units shown in the network: the N sharing the most tasks.")
    ] = 40,
) -> None:
    """Write one self-contained HTML page of the database, to read or send.

    Documents by year and jurisdiction, the units carrying the most tasks (led
    and co-handled), the network of units that share tasks, unit names to
    review, and each document's task table. The charts' script is inside the
    file: it opens offline in any browser.

    Example: notices report --db data/notices.duckdb --out report.html
    Example: notices report --db notices.duckdb --out ~/Desktop/notices.html --network-units 60
    """
    from pipeline.report import write_report

    try:
        if not db.exists():
            raise NoticeError(f"no database at {db}; create it with: notices ingest PATH --db {db}")
        written, data = write_report(db, out, network_units=network_units)
    except NoticeError as exc:
        _fail(exc)
    size = written.stat().st_size
    documents, tasks, names = len(data.documents), sum(len(p.tasks) for p in data.documents), len(data.unresolved)
    typer.echo(f"wrote {written} ({size / 1e6:.1f} MB): {documents} document{'s' if documents != 1 else ''}, "
               f"{tasks} task{'s' if tasks != 1 else ''}, {names} unresolved name{'s' if names != 1 else ''}")


@app.command()
def cites(
    ref: Annotated[str, typer.Argument(metavar="DOC_NUMBER_OR_TITLE", help="A 发文字号 (any brackets), a title, or a stored document.")],
    db: DbOption = Path("data/notices.duckdb"),
    as_json: JsonOption = False,
) -> None:
    """List the notices that cite a document, and what the document cites (when it is stored).

    A citation is a 发文字号 or a 《title》 written in a notice, or the document a 转发/印发 notice
    forwards; it names a stored document when its number (normalized) or title matches one.
    SQL: SELECT * FROM citation_graph.

    Example: notices cites 国办发〔2018〕117号 --db data/notices.duckdb
    Example: notices cites 关于新时代进一步加强科学技术普及工作的意见 --db data/notices.duckdb
    Example: notices cites html_215c41a7559ce16e.html --db data/notices.duckdb --json
    """
    from pipeline.links_query import citations_of

    try:
        with _open_db(db) as store:
            found = citations_of(store.con, ref)
    except NoticeError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps({"ref": found.ref,
                               "documents": [dict(zip(("document_id", "source_path", "doc_number", "title"), d))
                                             for d in found.documents],
                               "cited_by": [dataclasses.asdict(r) for r in found.cited_by],
                               "cites": [dataclasses.asdict(r) for r in found.cites]}, ensure_ascii=False, indent=1))
        return
    for doc_id, path, number, title in found.documents:
        typer.echo(f"{doc_id}  {title or Path(path).name}{f'  {number}' if number else ''}")
    typer.echo(f"cited by {len(found.cited_by)}:")
    for r in found.cited_by:
        written = "".join(x for x in (f"《{r.cited_title}》" if r.cited_title else "", r.cited_number or ""))
        typer.echo(f"  {r.citing_title or r.citing_file}  [{r.where}]  {written}")
    if found.documents:
        typer.echo(f"cites {len(found.cites)}:")
        for r in found.cites:
            written = "".join(x for x in (f"《{r.cited_title}》" if r.cited_title else "", r.cited_number or ""))
            stored = f"  → {r.cited_id} ({r.resolved_by})" if r.cited_id else ""
            typer.echo(f"  [{r.where}]  {written}{stored}")


@app.command()
def trace(
    item_key: Annotated[str, typer.Argument(metavar="ITEM_KEY", help="A task's key, e.g. 附件1/2.2/10.")],
    db: DbOption = Path("data/notices.duckdb"),
    doc: Annotated[str | None, typer.Option("--doc", metavar="DOC", help="The task's document (id, 发文字号, file name or part of the title).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a task's chain: the upper tasks it carries out, and the local tasks that carry it out.

    Links come from the task_links table (BM25 over the tasks' words, between a notice and one it
    cites, forwards, or shares its title root and year with); up the chain follows each best link.

    Example: notices trace 附件1/2.2/10 --doc 003_b8b4a31499fe38d2.txt --db data/notices.duckdb
    Example: notices trace 附件/33 --doc 000_69453124e71ca7c9.txt --db data/notices.duckdb --json
    """
    from pipeline.links_query import trace as task_trace

    try:
        with _open_db(db) as store:
            steps = task_trace(store.con, item_key, doc)
    except NoticeError as exc:
        _fail(exc)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(s) for s in steps], ensure_ascii=False, indent=1))
        return
    if len(steps) == 1:
        typer.echo("no linked tasks (its notice implements no stored notice, and none implements it)")
    for s in steps:
        mark = "▲" if s.depth < 0 else ("▼" if s.depth > 0 else "●")
        score = f"  [{s.via}, #{s.rank}, {s.score:.1f}]" if s.score is not None else ""
        text = s.text if len(s.text) <= 60 else s.text[:59] + "…"
        typer.echo(f"{'  ' * abs(s.depth)}{mark} {s.document}  {s.item_key}{score}\n{'  ' * abs(s.depth)}  {text}")


def _open_db(db: Path, *, read_only: bool = True):
    """The Store of an existing database (a command that reads must not create an empty one).
    Read-only unless the command writes: several readers at once, and read-only copies, work."""
    from pipeline.store import Store

    if not db.exists():
        raise NoticeError(f"no database at {db}; create it with: notices ingest PATH --db {db}")
    return Store.open(db, read_only=read_only)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a parsed document.

    Example: notices schema > document.schema.json
    """
    from schemas import json_schema

    typer.echo(json.dumps(json_schema(), ensure_ascii=False, indent=1))


def main() -> None:
    """The console script. A usage error (a bad option value, a missing argument) is one line
    naming the command to ask for help, not the box typer draws."""
    try:
        code = app(standalone_mode=False, prog_name="notices")
    except Exception as exc:
        if not (hasattr(exc, "format_message") and hasattr(exc, "exit_code")):  # not click's usage error
            raise
        ctx = getattr(exc, "ctx", None)
        hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
        typer.echo(f"error: {exc.format_message()}{hint}", err=True)
        raise SystemExit(exc.exit_code) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
