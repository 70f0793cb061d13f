"""Task links against reviewed expectations (data/parsed/task_links.json): precision@1 and recall@3.

Part of `make eval` (pipeline/evaluate.py calls `report` when the file exists). The seeds are
ingested into a temporary database; each reviewed local task is looked up in task_links
(what the store computed: BM25 over the stored jieba words), and the same pairs are ranked by a
second cheap measure, character-bigram cosine of the task texts, so the two can be compared.

- precision@1: of the reviewed local tasks the measure links (rank 1 exists), the share whose
  first upper task is one of the reviewed ones (a task reviewed as having no counterpart that is
  linked counts as wrong);
- recall@3: of the reviewed local tasks with a counterpart, the share with one of the reviewed
  upper tasks among the first three (a task the measure does not link counts as not found).

Both are also given for two halves of the reviewed file: `tune` (北京 附件1, the tasks the
constants of pipeline/links.py were chosen on) and `held-out` (北京 附件2 and 唐山, not used to
choose them).
"""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import duckdb

EXPECTATIONS = Path("data/parsed/task_links.json")
TARGET_P_AT_1 = 0.8
# The reviewed tasks the constants of pipeline/links.py were chosen on (the others are held out).
TUNE_FILE, TUNE_PART = "003_b8b4a31499fe38d2.txt", "附件1/"


def is_tune(link: dict) -> bool:
    """Whether a reviewed link belongs to the half the link constants were chosen on."""
    return link["local"]["file"] == TUNE_FILE and link["local"]["item_key"].startswith(TUNE_PART)


def halves(expectations: dict) -> dict[str, dict]:
    """The reviewed file whole and in its two halves: {'all', 'tune', 'held-out'}."""
    links = expectations["links"]
    return {"all": expectations,
            "tune": {**expectations, "links": [l for l in links if is_tune(l)]},
            "held-out": {**expectations, "links": [l for l in links if not is_tune(l)]}}


@dataclass(frozen=True)
class LinkScores:
    method: str
    linked: int  # reviewed local tasks the method links
    right_at_1: int
    with_upper: int  # reviewed local tasks that have a counterpart
    found_at_3: int

    @property
    def precision_at_1(self) -> float | None:
        return self.right_at_1 / self.linked if self.linked else None

    @property
    def recall_at_3(self) -> float | None:
        return self.found_at_3 / self.with_upper if self.with_upper else None


def _file_ids(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    rows = con.execute("SELECT regexp_extract(source_path, '[^/]*$'), document_id FROM documents WHERE is_current")
    return dict(rows.fetchall())


def bm25_ranking(con: duckdb.DuckDBPyConnection, local_id: str, item_key: str, upper_id: str) -> list[str]:
    """Upper task keys task_links gives this local task, best first."""
    rows = con.execute(
        "SELECT upper_item_key FROM task_links WHERE document_id = ? AND item_key = ? AND upper_document_id = ? "
        "ORDER BY rank", [local_id, item_key, upper_id]).fetchall()
    return [r[0] for r in rows]


def _bigrams(text: str) -> Counter:
    chars = [c for c in text if not c.isspace()]
    return Counter(a + b for a, b in zip(chars, chars[1:]))


def _cosine(a: Counter, b: Counter) -> float:
    dot = sum(v * b[k] for k, v in a.items() if k in b)
    norm = math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values()))
    return dot / norm if norm else 0.0


def bigram_ranking(con: duckdb.DuckDBPyConnection, local_id: str, item_key: str, upper_id: str) -> list[str]:
    """The upper notice's tasks by character-bigram cosine with the local task's text, best three."""
    (text,) = con.execute("SELECT text FROM items WHERE document_id = ? AND item_key = ?",
                          [local_id, item_key]).fetchone()
    query = _bigrams(text)
    scored = [(_cosine(query, _bigrams(t)), k) for k, t in con.execute(
        "SELECT item_key, text FROM items WHERE document_id = ?", [upper_id]).fetchall()]
    scored = sorted((s for s in scored if s[0] > 0), key=lambda s: (-s[0], s[1]))
    return [k for _, k in scored[:3]]


RANKINGS = {"bm25_units": bm25_ranking, "bigram_cosine": bigram_ranking}


def score_links(con: duckdb.DuckDBPyConnection, expectations: dict) -> list[LinkScores]:
    """precision@1 and recall@3 of each measure over the reviewed links (see the module's docstring)."""
    ids = _file_ids(con)
    out = []
    for method, ranking in RANKINGS.items():
        linked = right = with_upper = found = 0
        for link in expectations["links"]:
            local = link["local"]
            local_id = ids[local["file"]]
            uppers = [(ids[u["file"]], u["item_key"]) for u in link["upper"]]
            # A task with no counterpart is checked against the notices its document is paired with.
            upper_ids = sorted({u for u, _ in uppers}) or [r[0] for r in con.execute(
                "SELECT DISTINCT upper_document_id FROM task_links WHERE document_id = ?", [local_id]).fetchall()]
            best: list[tuple[str, str]] = []
            for upper_id in upper_ids:
                best += [(upper_id, k) for k in ranking(con, local_id, local["item_key"], upper_id)]
            if best:
                linked += 1
                right += best[0] in uppers
            if uppers:
                with_upper += 1
                found += any(b in uppers for b in best[:3])
        out.append(LinkScores(method, linked, right, with_upper, found))
    return out


def seed_database(raw: Path, folder: Path) -> Path:
    """The seeds of `raw` (000-004) ingested into a new database in `folder`."""
    from pipeline.ingest import ingest

    db = folder / "links.duckdb"
    ingest(sorted(raw.glob("00[0-4]_*.txt")), db, workers=1)
    return db


def report(raw: Path, expectations_path: Path = EXPECTATIONS) -> list[LinkScores] | None:
    """Print precision@1 and recall@3 of each measure (None when there are no reviewed links)."""
    if not expectations_path.exists():
        print(f"task links: no reviewed links ({expectations_path} is missing)")
        return None
    expectations = json.loads(expectations_path.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        con = duckdb.connect(str(seed_database(raw, Path(folder))), read_only=True)
        try:
            parts = {name: score_links(con, part) for name, part in halves(expectations).items()}
        finally:
            con.close()
    scores = parts["all"]
    print(f"task links ({len(expectations['links'])} reviewed local tasks, {expectations_path}):")
    for name, part in parts.items():
        if name != "all" and not any(s.linked or s.with_upper for s in part):
            continue  # a file without the halves' documents
        for s in part:
            p1 = "-" if s.precision_at_1 is None else f"{s.precision_at_1:.3f}"
            r3 = "-" if s.recall_at_3 is None else f"{s.recall_at_3:.3f}"
            kept = " (stored: task_links.method)" if s.method == "bm25_units" else ""
            print(f"  {name:8} {s.method:14} precision@1 {p1} ({s.right_at_1}/{s.linked})  "
                  f"recall@3 {r3} ({s.found_at_3}/{s.with_upper}){kept}")
    bm25 = scores[0].precision_at_1
    if bm25 is not None:
        print(f"  target precision@1 >= {TARGET_P_AT_1}: {'met' if bm25 >= TARGET_P_AT_1 else 'missed'}")
    return scores
