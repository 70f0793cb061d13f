"""Pure functions: a notice's text in, `schemas` records out. No files, no database."""

__all__ = ["extract_document"]


def __getattr__(name: str):
    # Imported on first use: a command that only reads the database (search, docs) imports
    # extractors.tokens or extractors.dictionary without paying for the whole parser (~0.25 s).
    if name == "extract_document":
        from extractors.notice import extract_document

        return extract_document
    raise AttributeError(f"module 'extractors' has no attribute {name!r}")
