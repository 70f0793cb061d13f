"""`ingest --glob`: case-insensitive on file systems that ignore case, as their users expect."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import ingest as ingest_module
from pipeline.ingest import case_insensitive_fs, discover


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    for name in ("a.PDF", "b.pdf", "c.Txt", "sub/d.PDF"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    return tmp_path


def _names(found: list[Path]) -> list[str]:
    return sorted(p.name for p in found)


def test_the_answer_follows_the_file_system(tmp_path):
    folder = tmp_path / "Notices" / "2023"  # no letters in 2023: the folder above tells
    folder.mkdir(parents=True)
    (folder / "a.txt").write_bytes(b"x")
    ignores_case = (tmp_path / "NOTICES").exists()
    assert case_insensitive_fs(folder / "a.txt") is ignores_case


def test_case_sensitive_file_system_matches_case(folder):
    assert _names(discover([folder], "*.pdf")[0]) == ["b.pdf"]
    assert _names(discover([folder], "sub/*.PDF")[0]) == ["d.PDF"]


def test_case_insensitive_file_system_ignores_case(folder, monkeypatch):
    monkeypatch.setattr(ingest_module, "case_insensitive_fs", lambda file: True)
    assert _names(discover([folder], "*.pdf")[0]) == ["a.PDF", "b.pdf", "d.PDF"]
    assert _names(discover([folder], "SUB/*.pdf")[0]) == ["d.PDF"]
    assert _names(discover([folder], "*.txt")[0]) == ["c.Txt"]
