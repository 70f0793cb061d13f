"""Pure functions: a notice's text in, `schemas` records out. No files, no database."""

from extractors.notice import extract_document

__all__ = ["extract_document"]
