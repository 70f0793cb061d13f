"""Accuracy of the parser against the reviewed outputs: `make eval` or `python -m pipeline.evaluate`.

For every file in the raw folder that has a reviewed output, prints items
found/expected, headings found/expected, metadata fields right/total, unit
mentions found/expected and resolved/total, then the totals. Unlike
`notices check` (which fails on any difference), this measures how close the
parser is, so the figures can be tracked as the corpus grows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pipeline.golden import expected_path, raw_files
from pipeline.ingest import parse_file

METADATA_FIELDS = ["title", "doc_number", "issuers", "date", "recipients", "forwarded", "proxy_seal"]


def score(expected: dict, got: dict) -> dict[str, tuple[int, int]]:
    """(right, total) for each measure of one document."""

    def matched(records_e, records_g, same) -> int:
        by_key = {r["key"]: r for r in records_g}
        return sum(1 for r in records_e if r["key"] in by_key and same(r, by_key[r["key"]]))

    def mentions(items: list[dict]) -> set[tuple]:
        return {(i["key"], m["position"], m["raw_text"], m["role"]) for i in items for m in i["responsible_units"]}

    exp_items, got_items = expected["items"], got["items"]
    exp_mentions, got_mentions = mentions(exp_items), mentions(got_items)
    all_got = [m for i in got_items for m in i["responsible_units"]]
    return {
        "items": (matched(exp_items, got_items, lambda a, b: a["text"] == b["text"]), len(exp_items)),
        "extra_items": (len({i["key"] for i in got_items} - {i["key"] for i in exp_items}), 0),
        "headings": (
            matched(expected["sections"], got["sections"], lambda a, b: a["title"] == b["title"]),
            len(expected["sections"]),
        ),
        "metadata": (sum(1 for f in METADATA_FIELDS if expected.get(f) == got.get(f)), len(METADATA_FIELDS)),
        "unit_mentions": (len(exp_mentions & got_mentions), len(exp_mentions)),
        "resolved": (sum(1 for m in all_got if m["resolution"] != "unresolved"), len(all_got)),
    }


def evaluate(raw_dir: Path, parsed_dir: Path) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    rows = []
    for raw in raw_files(raw_dir):
        target = expected_path(raw, parsed_dir)
        if not target.exists():
            continue
        expected = json.loads(target.read_text(encoding="utf-8"))
        got = parse_file(raw, source_path=raw.name).model_dump(mode="json")
        rows.append((raw.name, score(expected, got)))
    return rows


def _cell(pair: tuple[int, int]) -> str:
    right, total = pair
    return f"{right}/{total}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=Path("data/raw"))
    parser.add_argument("--parsed", type=Path, default=Path("data/parsed"))
    args = parser.parse_args(argv)
    rows = evaluate(args.raw, args.parsed)
    if not rows:
        print(f"no file in {args.raw} has a reviewed output in {args.parsed}")
        return 2
    measures = list(rows[0][1])
    header = ["file"] + measures
    table = [[name] + [_cell(s[m]) for m in measures] for name, s in rows]
    totals = {m: (sum(s[m][0] for _, s in rows), sum(s[m][1] for _, s in rows)) for m in measures}
    table.append(["TOTAL"] + [_cell(totals[m]) for m in measures])
    widths = [max(len(str(r[k])) for r in [header] + table) for k in range(len(header))]
    for row in [header] + table:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print("extra_items counts items found that the reviewed output does not have (should be 0).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
