"""The limits every file is parsed under, in one place.

A notice is a few MB and a few hundred pages at most; a file far beyond
that is a dump, an accident or an attack, and must not take a batch down.
`notices ingest --max-seconds/--max-memory-mb` change the first two.
"""

from __future__ import annotations

from dataclasses import dataclass

SECONDS_PER_FILE = 120  # wall time a worker may spend on one file, then it is stopped
MEMORY_MB_PER_WORKER = 2048  # address space of a worker process (RLIMIT_AS)

MAX_FILE_BYTES = 200 * 1024 * 1024  # any file
MAX_TEXT_CHARS = 5_000_000  # text a reader may produce (≈ 2,500 pages of Chinese)
MAX_PDF_PAGES = 3000
MAX_PDF_PAGE_CONTENT_BYTES = 16 * 1024 * 1024  # a PDF page's drawing instructions (or a form's), inflated; a dense page: ~100 KB
MAX_PDF_STREAM_BYTES = 64 * 1024 * 1024  # a PDF object stream or cross-reference stream, inflated
PDF_MAX_RULE_CROSSINGS = 40_000  # ruling lines crossing on one page (a 200 x 200 grid); beyond: read as plain lines
MAX_PAGE_BYTES = 16 * 1024 * 1024  # a web page
DOCX_MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a .docx archive, inflated
DOCX_MAX_RATIO = 100  # inflated / packed, beyond 10 MB inflated
DOCX_MAX_BLOCKS = 200_000  # paragraphs and tables of a .docx body
TABLE_MAX_COLUMNS = 64  # Word's own maximum is 63; a span beyond it is damage


@dataclass(frozen=True)
class WorkerLimits:
    """What a worker process may use for one file."""

    seconds: float = SECONDS_PER_FILE
    memory_mb: int = MEMORY_MB_PER_WORKER
