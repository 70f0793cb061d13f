"""Orchestration: read files, call the extractors, store the records in DuckDB."""
