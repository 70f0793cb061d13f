"""`notices report`: one self-contained HTML page of a database, to send to someone.

Two steps: `gather` reads the figures from the database as plain data (tested against SQL over
the database of data/raw/), `render` turns them into the page. The charts are Vega-Lite specs drawn in
the browser by Vega, whose script (with Vega-Lite and vega-embed, ~0.9 MB) vl-convert-python
ships inside its wheel and is inlined: the page loads nothing at view time.
"""

from __future__ import annotations

import html
import json
import math
import os
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Any

from pipeline.errors import NoticeError
from pipeline.store import Store

# The network shows the units sharing the most tasks: a few hundred nodes are unreadable.
NETWORK_UNITS = 40
WORKLOAD_UNITS = 25
HINTED_NAMES = 100
# Jurisdictions beyond these many get one colour, "(other)": a legend of 26 places is no help.
YEAR_CHART_JURISDICTIONS = 9
NO_YEAR = "(no year)"
UNKNOWN_PLACE = "(unknown)"
OTHER_PLACES = "(other)"
UNRESOLVED_KIND = "unresolved"

TABLEAU10 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
             "#bab0ac"]
GREYS = {OTHER_PLACES: "#9e9e9e", UNKNOWN_PLACE: "#d0d0d0"}
# The kinds of units.tsv (README), and names no entry resolves.
KIND_COLOURS = {
    "government": "#1f77b4", "party": "#d62728", "people_organization": "#2ca02c", "public_institution": "#ff7f0e",
    "legislature_judiciary": "#9467bd", "military": "#8c564b", "enterprise": "#e377c2", "jurisdiction": "#17becf",
    UNRESOLVED_KIND: "#a0a0a0",
}
ROLE_NAMES = {"lead": "牵头", "responsible": "负责", "cooperating": "配合", "participant": "参与", "guiding": "指导"}


class ReportError(NoticeError):
    """The report cannot be made (nothing to report, the output cannot be written)."""

    stage = "report"


@dataclass
class UnitTasks:
    unit: str
    led: int  # tasks whose clause names the unit as lead (牵头)
    co_handled: int  # tasks naming it in another role
    total: int


@dataclass
class NetworkNode:
    unit: str
    kind: str  # units.kind, or "unresolved" for a name no dictionary entry resolves
    shared_tasks: int  # tasks it shares with at least one other (non-collective) unit
    x: float = 0.0
    y: float = 0.0


@dataclass
class NetworkEdge:
    source: str
    target: str
    shared_tasks: int


@dataclass
class UnresolvedName:
    name: str
    mentions: int
    uses: list[tuple[str, str, str | None]]  # (document title or path, item key, jurisdiction)
    hints: list[str]


@dataclass
class TaskRow:
    item_key: str
    text: str
    units: list[tuple[str, str, bool, bool]]  # (name, role, is_collective, unresolved), in clause order


@dataclass
class DocumentPage:
    document_id: str
    title: str
    file_name: str
    doc_number: str | None
    issuers: list[str]
    issued_date: str | None
    year: int | None
    jurisdiction: str | None
    format: str | None
    tasks: list[TaskRow] = field(default_factory=list)
    unit_mentions: int = 0


@dataclass
class ReportData:
    database: str
    generated_at: str
    documents_by_year: list[dict[str, Any]]  # {"year", "jurisdiction", "documents"}
    top_units: list[UnitTasks]
    collective_units: list[UnitTasks]
    network_nodes: list[NetworkNode]
    network_edges: list[NetworkEdge]
    network_units_total: int  # non-collective units sharing a task with another, before the cap
    unresolved: list[UnresolvedName]
    documents: list[DocumentPage]
    totals: dict[str, int]


# -- gathering ---------------------------------------------------------------------------

# One row per (task, unit): a unit named twice in one task's clauses carries that task once.
_TASK_UNITS = """
    SELECT m.document_id, m.item_key, coalesce(m.canonical_name, m.raw_text) AS unit,
           bool_or(m.is_collective) AS is_collective, bool_or(m.role = 'lead') AS led
    FROM unit_mentions m JOIN documents d USING (document_id)
    WHERE d.is_current
    GROUP BY ALL"""


def gather(store: Store, *, network_units: int = NETWORK_UNITS, workload_units: int = WORKLOAD_UNITS) -> ReportData:
    """The figures of the report, from the current documents of `store`."""
    con = store.con
    documents = _documents(store)
    if not documents:
        raise ReportError(
            "the database holds no current documents; ingest notices first: notices ingest PATH --db FILE",
            path=store.path,
        )
    workload = con.execute(
        f"""SELECT unit, is_collective, count(*) FILTER (WHERE led), count(*) FILTER (WHERE NOT led), count(*)
            FROM ({_TASK_UNITS}) GROUP BY ALL ORDER BY 5 DESC, 1"""
    ).fetchall()
    top_units = [UnitTasks(u, led, co, n) for u, coll, led, co, n in workload if not coll][:workload_units]
    collective_units = [UnitTasks(u, led, co, n) for u, coll, led, co, n in workload if coll]
    nodes, edges, network_total = _network(store, network_units)
    totals = dict(
        zip(
            ["documents", "tasks", "unit_mentions", "units"],
            con.execute(
                """SELECT (SELECT count(*) FROM documents WHERE is_current),
                          (SELECT count(*) FROM items JOIN documents d USING (document_id) WHERE d.is_current),
                          (SELECT count(*) FROM unit_mentions JOIN documents d USING (document_id) WHERE d.is_current),
                          (SELECT count(DISTINCT coalesce(canonical_name, raw_text)) FROM unit_mentions
                           JOIN documents d USING (document_id) WHERE d.is_current AND NOT is_collective)"""
            ).fetchone(),
        )
    )
    return ReportData(
        database=Path(store.path).name,
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        documents_by_year=_documents_by_year(store),
        top_units=top_units,
        collective_units=collective_units,
        network_nodes=nodes,
        network_edges=edges,
        network_units_total=network_total,
        unresolved=_unresolved(store),
        documents=documents,
        totals=totals,
    )


def _documents_by_year(store: Store) -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT year, jurisdiction, count(*) FROM documents WHERE is_current GROUP BY ALL"
    ).fetchall()
    per_place: dict[str, int] = {}
    for _, place, n in rows:
        per_place[place or UNKNOWN_PLACE] = per_place.get(place or UNKNOWN_PLACE, 0) + n
    shown = {p for p, _ in sorted(per_place.items(), key=lambda x: (-x[1], x[0]))[:YEAR_CHART_JURISDICTIONS]}
    if len(per_place) == YEAR_CHART_JURISDICTIONS + 1:
        shown = set(per_place)  # "(other)" for a single place hides it for nothing
    counts: dict[tuple[str, str], int] = {}
    for year, place, n in rows:
        place = place or UNKNOWN_PLACE
        key = (str(year) if year is not None else NO_YEAR, place if place in shown else OTHER_PLACES)
        counts[key] = counts.get(key, 0) + n
    return [
        {"year": y, "jurisdiction": p, "documents": n}
        for (y, p), n in sorted(counts.items(), key=lambda x: (x[0][0] == NO_YEAR, x[0][0], -x[1], x[0][1]))
    ]


def _network(store: Store, limit: int) -> tuple[list[NetworkNode], list[NetworkEdge], int]:
    """Units linked by the tasks they share. Collective units (各区政府, 有关部门) are left out:
    they name no one unit, and as hubs they would tie every unit to every other."""
    pairs = store.con.execute(
        f"""WITH t AS (SELECT * FROM ({_TASK_UNITS}) WHERE NOT is_collective)
            SELECT a.unit, b.unit, count(*) FROM t a JOIN t b
              ON a.document_id = b.document_id AND a.item_key = b.item_key AND a.unit < b.unit
            GROUP BY ALL"""
    ).fetchall()
    strength = dict(
        store.con.execute(
            f"""WITH t AS (SELECT * FROM ({_TASK_UNITS}) WHERE NOT is_collective),
                     shared AS (SELECT document_id, item_key FROM t GROUP BY ALL HAVING count(*) >= 2)
                SELECT unit, count(*) FROM t JOIN shared USING (document_id, item_key) GROUP BY unit"""
        ).fetchall()
    )
    kept = [u for u, _ in sorted(strength.items(), key=lambda x: (-x[1], x[0]))[:limit]]
    kinds = dict(
        store.con.execute(
            "SELECT u.canonical_name, u.kind FROM units u WHERE u.canonical_name IN (SELECT unnest(?))", [kept]
        ).fetchall()
    )
    nodes = [NetworkNode(u, kinds.get(u) or UNRESOLVED_KIND, strength[u]) for u in kept]
    keep = set(kept)
    edges = sorted(
        (NetworkEdge(a, b, n) for a, b, n in pairs if a in keep and b in keep),
        key=lambda e: (-e.shared_tasks, e.source, e.target),
    )
    _spring_layout(nodes, edges)
    return nodes, edges, len(strength)


# Pull to the centre: without it, units cut off from the rest drift to the corners.
GRAVITY = 3.0


def _spring_layout(nodes: list[NetworkNode], edges: list[NetworkEdge], iterations: int = 300) -> None:
    """Fruchterman–Reingold with a pull to the centre (so units whose partners are cut off stay
    near), seeded: the same database gives the same picture. Positions in [0, 1]."""
    n = len(nodes)
    if n == 0:
        return
    rng = random.Random(0)
    index = {node.unit: i for i, node in enumerate(nodes)}
    pos = [[rng.random(), rng.random()] for _ in nodes]
    links = [(index[e.source], index[e.target], 1 + 0.25 * math.log1p(e.shared_tasks)) for e in edges]
    k = 1.3 * math.sqrt(1.0 / n)
    temperature = 0.1
    for step in range(iterations):
        disp = [[0.0, 0.0] for _ in nodes]
        for i in range(n):
            xi, yi = pos[i]
            for j in range(i + 1, n):
                dx, dy = xi - pos[j][0], yi - pos[j][1]
                d2 = dx * dx + dy * dy or 1e-9
                f = k * k / d2
                disp[i][0] += dx * f
                disp[i][1] += dy * f
                disp[j][0] -= dx * f
                disp[j][1] -= dy * f
        for i, j, w in links:
            dx, dy = pos[i][0] - pos[j][0], pos[i][1] - pos[j][1]
            d = math.hypot(dx, dy) or 1e-9
            f = d * w / k
            disp[i][0] -= dx * f
            disp[i][1] -= dy * f
            disp[j][0] += dx * f
            disp[j][1] += dy * f
        for i in range(n):
            disp[i][0] += (0.5 - pos[i][0]) * GRAVITY
            disp[i][1] += (0.5 - pos[i][1]) * GRAVITY
            d = math.hypot(*disp[i]) or 1e-9
            step_len = min(d, temperature)
            pos[i][0] += disp[i][0] / d * step_len
            pos[i][1] += disp[i][1] / d * step_len
        temperature = 0.1 * (1 - step / iterations) + 0.002
    xs, ys = [p[0] for p in pos], [p[1] for p in pos]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
    for node, (x, y) in zip(nodes, pos):
        node.x = round((x - min(xs)) / span, 4)
        node.y = round((y - min(ys)) / span, 4)


def _unresolved(store: Store) -> list[UnresolvedName]:
    from extractors.jurisdiction import place_named
    from extractors.normalize import suggest
    from pipeline.dictionary import with_entries

    dictionary = with_entries(store.custom_units())
    # Hints (a fuzzy match over every alias) for the most frequent names only: a corpus with
    # thousands of unresolved names would wait seconds for hints nobody reads that far down.
    return [
        UnresolvedName(name, count, uses,
                       suggest(name, place_named(uses[0][2]), dictionary) if rank < HINTED_NAMES else [])
        for rank, (name, count, uses) in enumerate(store.unresolved_mentions())
    ]


def _documents(store: Store) -> list[DocumentPage]:
    con = store.con
    pages = {
        row[0]: DocumentPage(
            document_id=row[0], title=row[1] or Path(row[2]).name, file_name=Path(row[2]).name, doc_number=row[3],
            issuers=list(row[4] or []), issued_date=str(row[5]) if row[5] else None, year=row[6],
            jurisdiction=row[7], format=row[8],
        )
        for row in con.execute(
            """SELECT d.document_id, d.title, d.source_path, d.doc_number,
                      (SELECT list(x.issuer ORDER BY x.position) FROM document_issuers x
                       WHERE x.document_id = d.document_id),
                      d.issued_date, d.year, d.jurisdiction, d.format
               FROM documents d WHERE d.is_current
               ORDER BY d.year NULLS LAST, d.issued_date NULLS LAST, d.title, d.source_path"""
        ).fetchall()
    }
    rows = con.execute(
        """SELECT i.document_id, i.item_key, i.text,
                  list((coalesce(m.canonical_name, m.raw_text), m.role, m.is_collective, m.resolution = 'unresolved')
                       ORDER BY m.position) FILTER (WHERE m.position IS NOT NULL)
           FROM items i JOIN documents d USING (document_id)
           LEFT JOIN unit_mentions m USING (document_id, item_key)
           WHERE d.is_current
           GROUP BY i.document_id, i.item_key, i.text, i.start_offset
           ORDER BY i.document_id, i.start_offset, i.item_key"""
    ).fetchall()
    for document_id, item_key, text, units in rows:
        page = pages[document_id]
        units = [tuple(u.values()) if isinstance(u, dict) else tuple(u) for u in units or []]
        page.tasks.append(TaskRow(item_key, text or "", units))
        page.unit_mentions += len(units)
    return list(pages.values())


# -- rendering ---------------------------------------------------------------------------

_FONTS = ('system-ui, -apple-system, "Segoe UI", "PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", '
          '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", sans-serif')


def _vega_lite_major() -> str:
    """The Vega-Lite major version of the inlined bundle (its latest): a spec naming another one
    makes vega-embed warn in the console."""
    import vl_convert

    return vl_convert.get_vegalite_versions()[-1].split(".")[0]


def chart_specs(data: ReportData) -> dict[str, dict[str, Any]]:
    """The Vega-Lite spec of each chart, by the id of the element it is drawn in."""
    schema = f"https://vega.github.io/schema/vega-lite/v{_vega_lite_major()}.json"
    config = {"font": _FONTS, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 12},
              "legend": {"labelFontSize": 11, "titleFontSize": 12}}
    # Places by their number of documents, the greys of "(other)" and "(unknown)" last.
    totals: dict[str, int] = {}
    for r in data.documents_by_year:
        totals[r["jurisdiction"]] = totals.get(r["jurisdiction"], 0) + r["documents"]
    named = sorted((p for p in totals if p not in GREYS), key=lambda p: (-totals[p], p))
    places = named + [p for p in GREYS if p in totals]
    years = sorted({r["year"] for r in data.documents_by_year}, key=lambda y: (y == NO_YEAR, y))
    documents = {
        "$schema": schema,
        "config": config,
        "width": "container", "height": 260,
        "data": {"values": data.documents_by_year},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "year", "type": "ordinal", "sort": years, "title": "year",
                  "axis": {"labelAngle": 0 if len(years) <= 10 else -45}},
            "y": {"field": "documents", "type": "quantitative", "title": "documents", "stack": "zero"},
            "color": {"field": "jurisdiction", "type": "nominal", "title": "jurisdiction",
                      "scale": {"domain": places, "range": [TABLEAU10[i % 10] for i in range(len(named))]
                                + [GREYS[p] for p in places[len(named):]]}},
            "order": {"field": "documents", "type": "quantitative", "sort": "descending"},
            "tooltip": [{"field": "year"}, {"field": "jurisdiction"}, {"field": "documents"}],
        },
    }
    units_order = [u.unit for u in data.top_units]
    workload_rows = [
        {"unit": u.unit, "role": role, "tasks": n, "total": u.total}
        for u in data.top_units for role, n in (("led (牵头)", u.led), ("co-handled", u.co_handled)) if n
    ]
    workload = {
        "$schema": schema,
        "config": config,
        "width": "container", "height": max(120, 18 * len(units_order)),
        "data": {"values": workload_rows},
        "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "y": {"field": "unit", "type": "nominal", "sort": units_order, "title": None,
                  "axis": {"labelLimit": 260}},
            "x": {"field": "tasks", "type": "quantitative", "title": "tasks", "stack": "zero"},
            "color": {"field": "role", "type": "nominal", "title": "role",
                      "scale": {"domain": ["led (牵头)", "co-handled"], "range": ["#d62728", "#1f77b4"]}},
            "order": {"field": "role", "sort": "descending"},
            "tooltip": [{"field": "unit"}, {"field": "role"}, {"field": "tasks"}, {"field": "total"}],
        },
    }
    position = {node.unit: node for node in data.network_nodes}
    edge_rows = [
        {"source": e.source, "target": e.target, "shared_tasks": e.shared_tasks,
         "x": position[e.source].x, "y": position[e.source].y, "x2": position[e.target].x, "y2": position[e.target].y}
        for e in data.network_edges
    ]
    labelled = {n.unit for n in sorted(data.network_nodes, key=lambda n: -n.shared_tasks)[:15]}
    node_rows = [
        {"unit": n.unit, "kind": n.kind, "shared_tasks": n.shared_tasks, "x": n.x, "y": n.y,
         "label": n.unit if n.unit in labelled else ""}
        for n in data.network_nodes
    ]
    # One colour per kind in every report, in the dictionary's order of kinds.
    kinds = [k for k in KIND_COLOURS if any(n.kind == k for n in data.network_nodes)]
    kinds += sorted({n.kind for n in data.network_nodes} - set(kinds))
    unit_scale = {"domain": [-0.05, 1.05], "nice": False}
    xy = {"x": {"field": "x", "type": "quantitative", "axis": None, "scale": unit_scale},
          "y": {"field": "y", "type": "quantitative", "axis": None, "scale": unit_scale}}
    network = {
        "$schema": schema,
        "config": config,
        "width": "container", "height": 560,
        "layer": ([
            {"data": {"values": edge_rows},
             "mark": {"type": "rule", "color": "#8c8c8c", "tooltip": True},
             "encoding": {**xy, "x2": {"field": "x2"}, "y2": {"field": "y2"},
                          "strokeWidth": {"field": "shared_tasks", "type": "quantitative", "title": "shared tasks",
                                          "scale": {"range": [0.6, 6]}},
                          "opacity": {"value": 0.45},
                          "tooltip": [{"field": "source"}, {"field": "target"}, {"field": "shared_tasks"}]}},
        ] if edge_rows else []) + [  # no links (units whose partners are cut off): no empty layer to warn about
            {"data": {"values": node_rows},
             "mark": {"type": "circle", "stroke": "white", "strokeWidth": 1, "opacity": 0.95, "tooltip": True},
             "encoding": {**xy,
                          "size": {"field": "shared_tasks", "type": "quantitative", "title": "tasks shared",
                                   "scale": {"range": [40, 900]}},
                          "color": {"field": "kind", "type": "nominal", "title": "kind of unit",
                                    "scale": {"domain": kinds, "range": [KIND_COLOURS.get(k, "#bcbd22") for k in kinds]}},
                          "tooltip": [{"field": "unit"}, {"field": "kind"}, {"field": "shared_tasks"}]}},
            {"data": {"values": node_rows},
             "mark": {"type": "text", "dy": -12, "fontSize": 11, "color": "#222"},
             "encoding": {**xy, "text": {"field": "label"}}},
        ],
    }
    # A chart without data is left out (Vega would warn of empty extents); the page says why instead.
    charts = {"chart-documents": (documents, data.documents_by_year), "chart-workload": (workload, workload_rows),
              "chart-network": (network, node_rows)}
    return {name: spec for name, (spec, rows) in charts.items() if rows}


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _json_for_script(value: Any) -> str:
    """JSON that cannot end its <script> element whatever the documents' text holds."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _unit_chip(name: str, role: str, is_collective: bool, unresolved: bool) -> str:
    classes = ["unit", f"role-{role}"] + (["collective"] if is_collective else []) + (["unresolved"] if unresolved else [])
    label = ROLE_NAMES.get(role, role)
    return f'<span class="{" ".join(classes)}" title="{_e(role)}">{_e(name)}<small>{_e(label)}</small></span>'


def _document_section(page: DocumentPage) -> str:
    meta = " · ".join(_e(x) for x in [page.doc_number, "、".join(page.issuers) or None, page.issued_date,
                                        page.jurisdiction, page.file_name] if x)
    rows = "\n".join(
        f'<tr><td class="key">{_e(t.item_key)}</td><td class="text">{_e(t.text)}</td>'
        f'<td class="units">{"".join(_unit_chip(*u) for u in t.units)}</td></tr>'
        for t in page.tasks
    )
    table = (
        f'<table class="tasks"><thead><tr><th>item</th><th>task</th><th>units (role)</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
        if page.tasks else "<p class=\"note\">No tasks found in this document.</p>"
    )
    return (
        f'<details class="document" id="doc-{_e(page.document_id)}"><summary><span class="title">{_e(page.title)}</span>'
        f' <span class="counts">{len(page.tasks)} tasks · {page.unit_mentions} unit mentions</span></summary>'
        f'<p class="meta">{meta}</p>{table}</details>'
    )


def render(data: ReportData, script: str | None = None) -> str:
    """The report page. `script` is the Vega bundle (default: vl-convert's, inlined)."""
    if script is None:
        import vl_convert

        script = vl_convert.javascript_bundle()
    # An inlined script must not hold its own end tag (the bundle does not; a later one might).
    script = script.replace("</script", "<\\/script")
    t = data.totals
    specs = chart_specs(data)
    index_rows = "\n".join(
        f'<tr><td><a href="#doc-{_e(p.document_id)}">{_e(p.title)}</a></td><td>{_e(p.doc_number)}</td>'
        f'<td>{_e(p.year)}</td><td>{_e(p.jurisdiction)}</td><td class="n">{len(p.tasks)}</td>'
        f'<td class="n">{p.unit_mentions}</td></tr>'
        for p in data.documents
    )
    collective_rows = "\n".join(
        f'<tr><td>{_e(u.unit)}</td><td class="n">{u.total}</td><td class="n">{u.led}</td></tr>'
        for u in data.collective_units
    )
    unresolved_rows = "\n".join(
        f'<tr><td>{_e(u.name)}</td><td class="n">{u.mentions}</td><td>{_e(u.uses[0][2])}</td>'
        f'<td>{"<br>".join(f"{_e(w)} · {_e(k)}" for w, k, _ in u.uses[:3])}'
        f'{f"<br>… and {len(u.uses) - 3} more" if len(u.uses) > 3 else ""}</td>'
        f'<td>{"<br>".join(_e(h) for h in u.hints)}</td></tr>'
        for u in data.unresolved
    )
    shown = len(data.network_nodes)
    network_note = (
        f"The {shown} units sharing the most tasks (of {data.network_units_total} that share any), "
        f"{len(data.network_edges)} links. A link is a task whose clauses name both units; its width, how many. "
        "Collective units (各区政府, 各成员单位, 有关部门) are left out: they name no one unit. "
        "Names no dictionary entry resolves are drawn as kind “unresolved”."
    )
    fields = {
        "TITLE": _e(f"Policy notices report: {data.database}"),
        "DATABASE": _e(data.database),
        "GENERATED": _e(data.generated_at),
        "TOTALS": _e(f"{t['documents']} documents · {t['tasks']} tasks · {t['unit_mentions']} unit mentions · "
                     f"{t['units']} units · {len(data.unresolved)} unresolved names"),
        "NETWORK_NOTE": _e(network_note),
        "WORKLOAD_NOTE": _e(f"The {len(data.top_units)} units (not collective) named in the most tasks; a task whose "
                            "clause names a unit twice counts once."),
        "INDEX_ROWS": index_rows,
        "COLLECTIVE_ROWS": collective_rows or '<tr><td colspan="3">none</td></tr>',
        "UNRESOLVED_COUNT": str(len(data.unresolved)),
        "UNRESOLVED_ROWS": unresolved_rows or '<tr><td colspan="5">every unit name resolves</td></tr>',
        "DOCUMENTS": "\n".join(_document_section(p) for p in data.documents),
        "FONTS": _FONTS,
        "SPECS": _json_for_script(specs),
        "WORKLOAD_EMPTY": "" if "chart-workload" in specs else '<p class="note">No task names a unit.</p>',
        "NETWORK_EMPTY": "" if "chart-network" in specs else '<p class="note">No two units share a task.</p>',
        "VEGA": script,
    }
    page = resources.files("pipeline").joinpath("report_template.html").read_text(encoding="utf-8")
    # One pass over the markers: a value holding "{{…}}" (a title) is not read as a marker.
    return _fill(page, fields)


def _fill(template: str, fields: dict[str, str]) -> str:
    out, rest = [], template
    while (start := rest.find("{{")) >= 0:
        end = rest.index("}}", start)
        out.append(rest[:start])
        out.append(fields[rest[start + 2:end].strip()])
        rest = rest[end + 2:]
    out.append(rest)
    return "".join(out)


def write_report(db: str | Path, out: str | Path, *, network_units: int = NETWORK_UNITS) -> tuple[Path, ReportData]:
    """Gather from the database at `db` (read-only) and write the page to `out` (replaced whole)."""
    out = Path(out)
    if not out.parent.exists():
        raise ReportError(f"the folder {out.parent} does not exist; create it or choose another --out path",
                          path=str(out))
    with Store.open(db, read_only=True) as store:
        data = gather(store, network_units=network_units)
    page = render(data)
    partial = out.with_name(f".{out.name}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, out)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ReportError(f"cannot write the report: {exc.strerror or exc}; choose another --out path",
                          path=str(out)) from exc
    return out, data
