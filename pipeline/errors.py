"""Errors a person can act on: each names the file and says what to do."""

from __future__ import annotations


class NoticeError(Exception):
    """Base of the errors policy-notices reports as one line, without a traceback.

    `stage` is where it happened (read, extract, store, usage) and ends up in
    the ingest_errors table.
    """

    stage = "usage"

    def __init__(self, message: str, *, path: str | None = None):
        super().__init__(message)
        self.path = path
        self.message = message

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ReadError(NoticeError):
    """The file cannot be turned into text (unsupported, damaged, not a notice)."""

    stage = "read"


class StoreError(NoticeError):
    """The database cannot be opened or written."""

    stage = "store"
