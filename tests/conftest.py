"""Shared fixtures: the seed notices in data/raw/ and the optional ../shared/ corpus."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pipeline.ingest import parse_file
from schemas import Document

ROOT = Path(__file__).resolve().parent.parent
RAW = ROOT / "data" / "raw"
PARSED = ROOT / "data" / "parsed"
SHARED = ROOT.parent / "shared"
# The five seed notices; data/raw/ also holds reviewed real notices (see data/SOURCES.md).
SEED_FILES = sorted(RAW.glob("00[0-4]_*.txt"))


def seed_path(prefix: str) -> Path:
    """The seed whose name starts with `prefix` (000 … 004)."""
    (path,) = RAW.glob(f"{prefix}_*.txt")
    return path


@cache
def seed(prefix: str) -> Document:
    path = seed_path(prefix)
    return parse_file(path, source_path=path.name)


def seed_text(prefix: str) -> str:
    return seed_path(prefix).read_text(encoding="utf-8")


def docx_with_body(document_xml: str) -> bytes:
    """A DOCX file (python-docx's blank one) whose word/document.xml is `document_xml`: for files
    python-docx would not write (hostile spans, millions of paragraphs, deep nesting)."""
    import io
    import zipfile

    import docx

    buffer = io.BytesIO()
    docx.Document().save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = document_xml.encode()
            target.writestr(info, data)
    return out.getvalue()


@pytest.fixture
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.skip("../shared/ is not beside the project")
    return SHARED


@pytest.fixture(scope="session")
def seeds_dir(tmp_path_factory) -> Path:
    """A folder holding only the five seed notices (read it, do not write)."""
    import shutil

    folder = tmp_path_factory.mktemp("seeds")
    for path in SEED_FILES:
        shutil.copy(path, folder / path.name)
    return folder


@pytest.fixture(scope="session")
def seed_db(tmp_path_factory) -> Path:
    """A database of the five seed notices, made once per test session (read it, do not write)."""
    from pipeline.ingest import ingest

    db = tmp_path_factory.mktemp("seed_db") / "seeds.duckdb"
    report = ingest(SEED_FILES, db)
    assert report.exit_code == 0, report.failures
    return db


@pytest.fixture(scope="session")
def raw_db(tmp_path_factory) -> Path:
    """A database of every sample in data/raw/ (seeds, DOCX, PDF, web pages), made once per test
    session (read it, do not write)."""
    from pipeline.ingest import ingest

    db = tmp_path_factory.mktemp("raw_db") / "raw.duckdb"
    report = ingest([RAW], db)
    assert report.exit_code == 0, report.failures
    return db
