"""The limits every file is parsed under, in one place.

A notice is a few MB and a few hundred pages at most; a file far beyond
that is a dump, an accident or an attack, and must not take a batch down.
`notices ingest --max-seconds/--max-memory-mb` change a worker's limits and
`--file-limit NAME=VALUE` what one file may hold (FileLimits; the readers ask
`active()` when they read, so a worker runs with the values its ingest was given).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

SECONDS_PER_FILE = 120  # wall time a worker may spend on one file, then it is stopped
# Added to a file's wall time for each page it reads by OCR: ~5 s a page on this 2-core machine idle,
# up to 15 s loaded; a 100-page scan may take its time, a stuck worker is still stopped.
SECONDS_PER_OCR_PAGE = 30
MEMORY_MB_PER_WORKER = 2048  # address space of a worker process (RLIMIT_AS)
# Address space a worker may use once it reads pages by OCR (pipeline/ocr.py raises its own cap to this when it
# loads the engine): onnxruntime's detection at page resolution peaks at ~2.5 GB of address space, ~0.75 GB of
# RSS per page in flight (2 at once on 2 cores). A larger --max-memory-mb stays as given.
OCR_MEMORY_MB_PER_WORKER = 5120

MAX_FILE_BYTES = 200 * 1024 * 1024  # any file
MAX_TEXT_CHARS = 5_000_000  # text a reader may produce (≈ 2,500 pages of Chinese)
MAX_PDF_PAGES = 3000
MAX_PDF_PAGE_CONTENT_BYTES = 16 * 1024 * 1024  # a PDF page's drawing instructions (or a form's), inflated; a dense page: ~100 KB
MAX_PDF_STREAM_BYTES = 64 * 1024 * 1024  # a PDF object stream or cross-reference stream, inflated
PDF_MAX_RULE_CROSSINGS = 40_000  # ruling lines crossing on one page (a 200 x 200 grid); beyond: read as plain lines
MAX_PAGE_BYTES = 16 * 1024 * 1024  # a web page
DOCX_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a .docx archive, inflated
DOCX_MAX_RATIO = 100  # inflated / packed, beyond 10 MB inflated
DOCX_MAX_BLOCKS = 200_000  # paragraphs and tables of a .docx body, those inside tables included
TABLE_MAX_COLUMNS = 64  # Word's own maximum is 63; a span beyond it is damage


@dataclass(frozen=True)
class FileLimits:
    """What one file may hold before it is refused as not being one notice.

    Names are those of `notices ingest --file-limit NAME=VALUE`.
    """

    file_mb: int = MAX_FILE_BYTES // 2**20  # any file, on disk
    text_chars: int = MAX_TEXT_CHARS  # text a reader may produce
    pdf_pages: int = MAX_PDF_PAGES
    pdf_page_content_mb: int = MAX_PDF_PAGE_CONTENT_BYTES // 2**20  # a PDF page's content streams, inflated
    html_mb: int = MAX_PAGE_BYTES // 2**20  # a web page
    docx_inflated_mb: int = DOCX_MAX_UNCOMPRESSED // 2**20  # a .docx archive, inflated
    docx_blocks: int = DOCX_MAX_BLOCKS  # paragraphs and tables of a .docx body
    # Not a limit: how PDF pages without a usable text layer are read (auto, off, force; pipeline/ocr.py).
    # It travels with the limits because every worker needs it where the readers run.
    ocr: str = "auto"

    def with_override(self, text: str) -> FileLimits:
        """These limits with one NAME=VALUE changed; ValueError saying what is allowed."""
        names = [f.name for f in fields(self) if f.type in (int, "int")]
        name, _, value = text.partition("=")
        name = name.strip().replace("-", "_")
        if name not in names or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"--file-limit takes NAME=VALUE, a whole number >= 1 and NAME one of "
                             f"{', '.join(names)}; got {text!r}")
        return replace(self, **{name: int(value)})


@dataclass(frozen=True)
class WorkerLimits:
    """What a worker process may use for one file, and what the file may hold."""

    seconds: float = SECONDS_PER_FILE
    memory_mb: int = MEMORY_MB_PER_WORKER
    files: FileLimits = field(default_factory=FileLimits)


_active = FileLimits()


def active() -> FileLimits:
    """The file limits in force in this process."""
    return _active


def use(limits: FileLimits) -> FileLimits:
    """Put `limits` in force in this process; returns the ones it replaces."""
    global _active
    previous, _active = _active, limits
    return previous


def raise_hint(name: str) -> str:
    """How to raise the file limit `name`, for a refusal message."""
    return f"--file-limit {name}=N raises it"
