"""Reviewed outputs: data/parsed/<file name>.json for every file in data/raw/.

`notices check` re-parses each raw file and reports, field by field, where
the result differs from the reviewed output.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.ingest import parse_file
from pipeline.readers import SUPPORTED_SUFFIXES
from schemas import Document


def document_json(doc: Document) -> str:
    """Deterministic JSON of a document: sorted keys, no timestamps, UTF-8 text."""
    data = doc.model_dump(mode="json")
    # OCR fields only where pages were read by OCR: the reviewed outputs of text files stay as they are.
    if data.get("ocr") is None:
        data.pop("ocr", None)
        for item in data["items"]:
            item.pop("ocr_confidence", None)
    return json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def expected_path(raw_file: Path, parsed_dir: Path) -> Path:
    return parsed_dir / f"{raw_file.name}.json"


def raw_files(raw_dir: Path) -> list[Path]:
    return sorted(p for p in raw_dir.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)


@dataclass
class CheckResult:
    file: str
    differences: list[str]
    missing_expected: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return not self.differences and not self.missing_expected and self.error is None


def check(raw_dir: Path, parsed_dir: Path, *, update: bool = False) -> list[CheckResult]:
    """Compare (or, with update, rewrite) the reviewed output of every raw file."""
    results = []
    for raw in raw_files(raw_dir):
        try:
            doc = parse_file(raw, source_path=raw.name)
        except Exception as exc:  # reported per file; the check goes on
            results.append(CheckResult(raw.name, [], error=str(exc)))
            continue
        target = expected_path(raw, parsed_dir)
        got = document_json(doc)
        if update:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(got, encoding="utf-8")
            results.append(CheckResult(raw.name, []))
            continue
        if not target.exists():
            results.append(CheckResult(raw.name, [], missing_expected=True))
            continue
        expected = json.loads(target.read_text(encoding="utf-8"))
        results.append(CheckResult(raw.name, diff(expected, json.loads(got))))
    return results


def diff(expected: Any, got: Any, path: str = "") -> list[str]:
    """Readable differences: `items[附件/7].text: expected '…', got '…'`.

    Lists of records with a `key` (sections, items) are matched by key, so an
    inserted item shows as one missing/extra item, not as every later one changed.
    """
    if isinstance(expected, dict) and isinstance(got, dict):
        out = []
        for k in sorted(set(expected) | set(got)):
            sub = f"{path}.{k}" if path else k
            if k not in got:
                out.append(f"{sub}: missing (expected {_short(expected[k])})")
            elif k not in expected:
                out.append(f"{sub}: unexpected {_short(got[k])}")
            else:
                out.extend(diff(expected[k], got[k], sub))
        return out
    if isinstance(expected, list) and isinstance(got, list):
        if _keyed(expected) and _keyed(got):
            exp = {e["key"]: e for e in expected}
            act = {g["key"]: g for g in got}
            out = [f"{path}[{k}]: missing" for k in exp if k not in act]
            out += [f"{path}[{k}]: unexpected" for k in act if k not in exp]
            for k in exp:
                if k in act:
                    out.extend(diff(exp[k], act[k], f"{path}[{k}]"))
            return out
        if len(expected) != len(got):
            return [f"{path}: expected {len(expected)} entries, got {len(got)}: {_short(expected)} vs {_short(got)}"]
        out = []
        for n, (e, g) in enumerate(zip(expected, got)):
            out.extend(diff(e, g, f"{path}[{n}]"))
        return out
    if expected != got:
        return [f"{path}: expected {_short(expected)}, got {_short(got)}"]
    return []


def _keyed(records: list) -> bool:
    return bool(records) and all(isinstance(r, dict) and "key" in r for r in records)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"
