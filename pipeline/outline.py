"""One document's outline from the database, for `notices show`: its metadata, its heading tree, and
its tasks with their units and roles, as plain data (`document_outline`, what `--json` prints) and as
a readable tree (`render_outline`, drawn with rich: it reads the same on a terminal, at 80 columns and
piped to a file, where rich draws no colours).

    >>> outline = document_outline(con, resolve_document(con, "京纲要办发〔2023〕2号"))
    >>> outline["parts"][0]["children"][0]["title"]
    '大力弘扬科学家精神，在全社会厚植创新发展沃土'
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb

# The words the notices use for each role (README: Tasks and units), shown beside the stored value.
ROLE_WORDS = {"lead": "牵头", "responsible": "负责", "cooperating": "配合", "participant": "参与", "guiding": "指导"}
ROLE_ORDER = list(ROLE_WORDS)

_DOCUMENT_FIELDS = [
    "document_id", "title", "doc_number", "issued_date", "posted_date", "year", "jurisdiction", "recipients",
    "issuer_banner", "proxy_seal", "forwarded_title", "forwarded_doc_number", "format", "page_count", "source_path",
    "url", "index_number", "first_listed_leads", "warning_count",
]


def document_outline(con: duckdb.DuckDBPyConnection, document_id: str) -> dict[str, Any]:
    """The outline of one stored document: {"document": metadata, "issuers", "attachments", "warnings",
    "counts", "parts": [{"part", "children": [section or item nodes]}]}.

    A section node is {"kind": "section", "key", "label", "title", "children"}; a heading that is also a
    task (same key in items) carries the item's "text", "units_text" and "units" too. An item node is
    {"kind": "item", "key", "label", "category", "text", "units_text", "units"}; each unit is {"name"
    (canonical name, else as written), "raw_text", "role", "is_collective", "resolution", "implied"}."""
    row = con.execute(f"SELECT {', '.join(_DOCUMENT_FIELDS)} FROM documents WHERE document_id = ?", [document_id])
    values = row.fetchone()
    document = {name: _plain(value) for name, value in zip(_DOCUMENT_FIELDS, values)}
    issuers = [r[0] for r in con.execute(
        "SELECT issuer FROM document_issuers WHERE document_id = ? ORDER BY position", [document_id]).fetchall()]
    attachments = [
        {"part": part, "title": title, "found": found, "url": url}
        for part, title, found, url in con.execute(
            "SELECT part, title, found, url FROM attachments WHERE document_id = ? ORDER BY coalesce(number, 0), part",
            [document_id],
        ).fetchall()
    ]
    warnings = [
        {"field": field, "message": message}
        for field, message in con.execute(
            "SELECT field, message FROM document_warnings WHERE document_id = ? ORDER BY rowid", [document_id]
        ).fetchall()
    ]

    units: dict[str, list[dict[str, Any]]] = {}
    for item_key, raw, role, collective, canonical, resolution, implied in con.execute(
        "SELECT item_key, raw_text, role, is_collective, canonical_name, resolution, coalesce(implied, false) "
        "FROM unit_mentions WHERE document_id = ? ORDER BY item_key, position",
        [document_id],
    ).fetchall():
        units.setdefault(item_key, []).append({
            "name": canonical or raw, "raw_text": raw, "role": role, "is_collective": collective,
            "resolution": resolution, "implied": implied,
        })

    # Sections and items in the order of the text; a node's place is its parent heading, else its part.
    nodes: dict[str, dict[str, Any]] = {}
    placed: list[tuple[int, int, str | None, str, dict[str, Any]]] = []  # (line, order, parent, part, node)
    for key, part, label, title, parent, line in con.execute(
        "SELECT section_key, part, label, title, parent_key, first_line FROM sections WHERE document_id = ?",
        [document_id],
    ).fetchall():
        node = {"kind": "section", "key": key, "label": label, "title": title, "children": []}
        nodes[key] = node
        placed.append((line or 0, 0, parent, part, node))
    count_items = 0
    for key, part, section_key, label, category, text, units_text, line, offset in con.execute(
        "SELECT item_key, part, section_key, label, category, text, units_text, first_line, start_offset "
        "FROM items WHERE document_id = ?",
        [document_id],
    ).fetchall():
        count_items += 1
        details = {"text": text, "units_text": units_text, "units": units.get(key, [])}
        if key in nodes:  # a heading that is a task: one node, the section's, with the task's text and units
            nodes[key].update(details, category=category)
            continue
        node = {"kind": "item", "key": key, "label": label, "category": category, **details}
        placed.append((line or 0, 1 + (offset or 0), section_key, part, node))

    parts: dict[str, dict[str, Any]] = {}
    for _, _, parent, part, node in sorted(placed, key=lambda p: (p[0], p[1])):
        if parent and parent in nodes and nodes[parent] is not node:
            nodes[parent]["children"].append(node)
        else:
            parts.setdefault(part, {"part": part, "children": []})["children"].append(node)
    ordered = sorted(parts.values(), key=lambda p: p["part"] != "正文")  # the body first, then attachments in order

    mentions = sum(len(u) for u in units.values())
    return {
        "document": document,
        "issuers": issuers,
        "attachments": attachments,
        "warnings": warnings,
        "counts": {"sections": len(nodes), "items": count_items, "unit_mentions": mentions},
        "parts": ordered,
    }


def units_line(units: list[dict[str, Any]]) -> str:
    """A task's units grouped by role, in the order written, with the notices' role words:
    `牵头：中国科学技术协会；参与：各成员单位*` (* a collective, ? a name no dictionary entry resolves,
    + implied by an earlier note). No spaces: a terminal then wraps the names, not the line before them."""
    groups: dict[str, list[str]] = {}
    for unit in units:
        mark = "*" if unit["is_collective"] else "?" if unit["resolution"] == "unresolved" else ""
        mark += "+" if unit.get("implied") else ""
        groups.setdefault(unit["role"], []).append(unit["name"] + mark)
    order = sorted(groups, key=lambda r: ROLE_ORDER.index(r) if r in ROLE_ORDER else len(ROLE_ORDER))
    return "；".join(f"{ROLE_WORDS.get(role, role)}：{'、'.join(groups[role])}" for role in order)


def render_outline(outline: dict[str, Any], *, full_text: bool = False, width: int | None = None, file=None) -> None:
    """Print the outline as a tree: the metadata first, then each part with its headings and tasks, each
    task on one line (cut to the width, or wrapped whole with full_text) and its units below it."""
    from rich.console import Console

    console = Console(file=file, width=width, highlight=False, soft_wrap=False)
    with console.capture() as captured:
        _print_outline(console, outline, full_text)
    # Lines without the padding rich leaves after a grid's column: a file piped to stays clean.
    text = "\n".join(line.rstrip() for line in captured.get().splitlines())
    console.file.write(text + "\n")


def _print_outline(console, outline: dict[str, Any], full_text: bool) -> None:
    from rich.table import Table
    from rich.text import Text
    from rich.tree import Tree

    doc = outline["document"]
    console.print(Text(doc["title"] or "(no title)", style="bold"))
    facts = [
        ("发文字号", doc["doc_number"]),
        ("发文机关", "、".join(outline["issuers"]) or None),
        ("成文日期", doc["issued_date"]),
        ("发布日期", doc["posted_date"]),
        ("行政区域", doc["jurisdiction"]),
        ("主送机关", doc["recipients"]),
        ("转发", " ".join(x for x in (doc["forwarded_title"], doc["forwarded_doc_number"]) if x) or None),
        ("文件", f"{doc['source_path']} ({doc['format']}" + (f", {doc['page_count']} pages)" if doc["page_count"] else ")")),
        ("网址", doc["url"]),
        ("id", doc["document_id"]),
    ]
    counts = outline["counts"]
    summary = f"{counts['sections']} headings, {counts['items']} tasks, {counts['unit_mentions']} unit mentions"
    if outline["warnings"]:
        summary += f", {len(outline['warnings'])} warnings (" + ", ".join(w["field"] for w in outline["warnings"]) + ")"
    facts.append(("内容", summary))
    facts += [(a["part"], (a["title"] or "") + ("" if a["found"] else " (not in the file)")) for a in outline["attachments"]]
    # A grid: a long value (主送机关, a path) wraps within its column, under itself, not under the labels.
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in facts:
        if value:
            grid.add_row(f"  {label}", str(value))
    console.print(grid)

    overflow = "fold" if full_text else "ellipsis"
    for part in outline["parts"]:
        tree = Tree(Text(part["part"], style="bold"), guide_style="dim")
        _add_nodes(tree, part["children"], full_text, overflow)
        console.print(tree)
    console.print(Text("  → units: " + ", ".join(f"{w} {r}" for r, w in ROLE_WORDS.items())
                       + "; * collective, ? unresolved name, + implied by an earlier note", style="dim"), overflow="fold")


def _add_nodes(tree, nodes: list[dict[str, Any]], full_text: bool, overflow: str) -> None:
    from rich.console import Group
    from rich.text import Text

    category = None
    for node in nodes:
        if node["kind"] == "section":
            head = Text.assemble((f"{node['label'] or ''}{node['title'] or ''}", "bold"), (f"  [{node['key']}]", "dim"))
            if "text" in node:  # also a task
                head = Text.assemble(head, ("  task", "cyan"))
        else:
            # A task table's category column, shown where it changes (rows of one category follow each other).
            shown = f"〔{node['category']}〕" if node.get("category") and node["category"] != category else ""
            category = node.get("category")
            text = node["text"] if full_text else " ".join(node["text"].split("\n"))
            head = Text.assemble((f"[{node['key']}] ", "dim"), (f"{node['label'] or ''} ", "bold"), shown, text)
        head.no_wrap = not full_text
        head.overflow = overflow
        lines = [head]
        if node["kind"] == "section" and "text" in node and full_text:
            lines.append(Text(node["text"], overflow="fold"))
        if node.get("units"):
            lines.append(Text("→" + units_line(node["units"]), style="green", overflow="fold"))
        branch = tree.add(Group(*lines) if len(lines) > 1 else head)
        _add_nodes(branch, node.get("children", []), full_text, overflow)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value
