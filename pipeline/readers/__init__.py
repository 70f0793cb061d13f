"""Readers turn a file's bytes into `SourceText`. One module per format.

A reader module defines FORMAT, SUFFIXES, sniff(head) -> bool (does the
content look like this format) and read(data) -> SourceText. The format is
chosen by content first, then by the file name, so a PDF named .txt is still
read as a PDF. Adding a format is adding a module to READERS.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from pipeline.errors import ReadError
from pipeline.readers import docx, html, legacy, pdf, text
from schemas import SourceText

# Most specific first: text sniffs as "anything without NUL bytes".
READERS: list[ModuleType] = [pdf, docx, legacy, html, text]
SUPPORTED_SUFFIXES = tuple(s for r in READERS for s in r.SUFFIXES)


def reader_for(path: Path, head: bytes) -> ModuleType:
    """The reader for a file, by its content and then its name."""
    by_name = next((r for r in READERS if path.suffix.lower() in r.SUFFIXES), None)
    for reader in READERS:
        if reader is not text and reader.sniff(head):
            return reader
    if by_name is not None:
        return by_name
    names = ", ".join(SUPPORTED_SUFFIXES)
    raise ReadError(f"unsupported file type '{path.suffix or '(none)'}'; supported: {names}")


def read_bytes(path: Path, data: bytes) -> SourceText:
    """Read a file's content (already loaded) with the reader its content calls for; errors name the file."""
    try:
        return reader_for(path, data[:4096]).read(data)
    except ReadError as exc:
        exc.path = exc.path or str(path)
        raise


def read_file(path: str | Path) -> SourceText:
    """Read one notice file into text with provenance."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReadError(f"cannot read the file: {exc.strerror or exc}", path=str(path)) from exc
    try:
        return read_bytes(path, data)
    except ReadError as exc:
        exc.path = exc.path or str(path)
        raise
