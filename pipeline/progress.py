"""What an ingest shows a person: a progress bar on a terminal, plain lines elsewhere."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

# Width of the bar's fixed columns (count, bar, rate, errors, clock) at most; the file being read
# gets what is left of the terminal, so the line fits 80 columns without wrapping.
_FIXED_WIDTH = 56
_BAR_WIDTH = 16

from pipeline.ingest import FileOutcome, IngestReport, display_path


class Reporter:
    """Progress of one ingest; use as a context manager around the run."""

    def __init__(self, *, quiet: bool = False, verbose: bool = False, err: Console | None = None):
        self.err = err or Console(stderr=True, highlight=False, soft_wrap=True)
        self.out = Console(highlight=False, soft_wrap=True)
        self.quiet = quiet
        self.verbose = verbose
        self.failed = 0
        self._bar: Progress | None = None
        self._task = None
        # The bar only where a person watches; logs get one line per file instead.
        self._live = self.err.is_terminal and not quiet and not verbose

    def __enter__(self) -> Reporter:
        if self._live:
            # Count first, the file last: a narrow terminal cuts the path, never the count.
            self._bar = Progress(
                MofNCompleteColumn(),
                BarColumn(bar_width=_BAR_WIDTH),
                TextColumn("{task.fields[rate]}/s  {task.fields[errors]} failed"),
                TimeElapsedColumn(),
                TextColumn("{task.fields[current]}"),
                console=self.err,
                transient=True,
            )
            self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def start(self, total: int) -> None:
        if self._bar is not None:
            self._task = self._bar.add_task("ingest", total=total, rate="0.0", errors=0, current="")

    def pages_recognized(self, path: str, done: int, total: int) -> None:
        """A file's pages being read by OCR: the bar shows how far (`OCR 3/6` before the file)."""
        if self._bar is not None and self._task is not None:
            label = f"OCR {done}/{total} "
            current = label + shorten(display_path(path), self.err.width - _FIXED_WIDTH - len(label))
            self._bar.update(self._task, current=current)
        elif self.verbose and done == total:
            self.err.print(f"recognized {display_path(path)}: {total} page{'s' if total > 1 else ''} read by OCR")

    def file_done(self, outcome: FileOutcome) -> None:
        path = display_path(outcome.path)  # stored absolute; shown relative to where the person is
        if outcome.status in ("failed", "unchanged_failed"):
            self.failed += 1
        if self._bar is not None and self._task is not None:
            if outcome.status not in ("skipped", "removed"):
                task = self._bar.tasks[0]
                elapsed = task.elapsed or 0.0
                rate = f"{(task.completed + 1) / elapsed:.1f}" if elapsed > 0 else "-"
                current = shorten(path, self.err.width - _FIXED_WIDTH)
                self._bar.update(self._task, advance=1, rate=rate, errors=self.failed, current=current)
            if outcome.status == "failed":
                self._bar.console.print(f"[red]failed[/red] {path}: {outcome.message}")
            elif outcome.status == "unchanged_failed":
                self._bar.console.print(f"[yellow]failed before[/yellow] {path}: {outcome.message}")
            elif outcome.status in ("duplicate", "moved", "removed"):
                self._bar.console.print(f"{outcome.status} {path}: {outcome.message}")
            return
        if self.quiet:
            return
        if outcome.status == "failed":
            self.err.print(f"failed     {path}: {outcome.message}")
        elif outcome.status == "unchanged_failed":
            self.err.print(f"failed before {path}: {outcome.message}")
        elif self.verbose or outcome.status != "unchanged":
            extra = f"  {outcome.items} items, {outcome.unit_mentions} unit mentions" if outcome.items else ""
            if outcome.status in ("duplicate", "moved", "removed"):
                extra = f": {outcome.message}"
            self.err.print(f"{outcome.status:<10} {path}{extra}")

    def summary(self, report: IngestReport) -> None:
        c = report.counts
        self.out.print(
            f"{report.db}: {c['new']} new, {c['replaced']} replaced, {c['unchanged']} unchanged, "
            f"{c['failed']} failed, "
            + (f"{c['unchanged_failed']} failed before (unchanged, not retried), " if c["unchanged_failed"] else "")
            + "".join(f"{c[k]} {label}, " for k, label in
                      [("duplicate", "duplicates (same content as a stored document)"), ("moved", "moved"),
                       ("removed", "removed (file gone)")] if c[k])
            + f"{c['skipped']} skipped files in {report.seconds:.1f}s "
            f"({report.files_per_second:.1f} files/s, {report.workers} worker{'s' if report.workers > 1 else ''})"
        )
        self.out.print(
            f"added {_count(report.items_added, 'item')} and {_count(report.unit_mentions_added, 'unit mention')}; "
            f"{_count(report.warnings, 'warning')} in the database (see the document_warnings table)"
        )
        for note in report.notes:
            self.out.print(f"note: {note}")
        if report.renormalized:
            r = report.renormalized
            self.out.print(f"the unit dictionary changed: {r['mentions_after']} stored unit mentions resolved again "
                           f"({r['unresolved']} unresolved)")
        if report.unresolved:
            names = ", ".join(f"{name} ({n})" for name, n in report.unresolved)
            self.out.print(f"unresolved unit names: {names}; review with: notices units --unresolved --db {report.db}")
        for failure in report.failures:
            self.out.print(f"  failed: {display_path(failure.path)}: {failure.message}")
        if report.failures:
            self.out.print("  (each failure is also a row in the ingest_errors table)")
        if report.counts["unchanged_failed"] and not report.counts["failed"] and report.exit_code == 0:
            self.out.print("exit code 0: the only failures are files that failed before and did not change "
                           "(--retry-failed parses them again; --strict counts them)")


def shorten(path: str, width: int) -> str:
    """`path` in at most `width` characters (at least 8), keeping its end, where the file name is:
    data/raw/html_46f43358a5bf2d45.html at 30 → …/html_46f43358a5bf2d45.html."""
    width = max(width, 8)
    if len(path) <= width:
        return path
    return "…" + path[-(width - 1):]


def _count(n: int, noun: str) -> str:
    """"1 warning", "2 warnings"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"
