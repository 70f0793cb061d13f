"""Tables drawn with ruling lines on a PDF page, found from what pdfium already parsed.

The method is pdfplumber's default ("lines") table finder: collect the
horizontal and vertical rules the page draws, snap rules within 3 pt to one
position, join pieces along a line, intersect, take the smallest rectangles
the rules close as cells, group cells that share corners into tables, and put
each character in the cell holding its centre. Done on pdfium's path objects
and character boxes, it avoids a second parse of the file by pdfminer, which
cost ~0.1 s and ~1 MB per table page.

One deliberate difference from pdfplumber: a *filled* shape counts as a rule
only when it is thin (a bar ≤ 3 pt across). A wide filled box is a background
or a highlight; read as cell borders it cut a real notice's paragraphs into a
two-column table that repeated lines.

The work is near-linear in the rule crossings, and a page whose rules cross
more than PDF_MAX_RULE_CROSSINGS times (a 200 x 200 grid; a notice's tables
cross a few thousand times) raises TooDense: the reader reads that page as
plain lines. Without the cap a 1,400 x 1,400 grid of lines, a 67 KB file,
would be millions of cells.

Coordinates are top-down (y grows downward from the page's top), as in pdfplumber.
"""

from __future__ import annotations

import ctypes
import gc
from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import regex

from pipeline.limits import PDF_MAX_RULE_CROSSINGS

SNAP = 3.0  # rules this close are one rule
JOIN = 3.0  # pieces of a rule with a gap this small are one rule
MIN_RULE = 3.0  # shorter rules are ticks, not borders
CROSS = 3.0  # how near a rule's end may pass another rule and still meet it
THIN = 3.0  # a filled bar at most this thick is a rule
LINE_GAP = 3.0  # characters whose tops differ by more start a new line in a cell
ART_SCAN = 16  # a path with curves or slanted lines among its first segments is drawing or glyph art

# Characters next to which pdfium's made-up spaces are dropped (the page text and cells alike).
CJK = regex.compile(r"[\p{Han}\p{Ps}\p{Pe}\u3000-\u303f\uff00-\uffef“”‘’、，。：；！？《》…—]")


@dataclass
class Table:
    """A table on one page: its box (x0, top, x1, bottom) and the text of its rows.

    A merged cell appears once, in its first row and column; the other
    slots it covers are empty strings.
    """

    bbox: tuple[float, float, float, float]
    rows: list[list[str]]


class TooDense(Exception):
    """The page's rules cross too often to look for tables in them."""


@dataclass
class _Rule:
    horizontal: bool
    at: float  # y of a horizontal rule, x of a vertical one
    start: float  # x0 or top
    end: float  # x1 or bottom


def find_tables(
    page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, max_crossings: int = PDF_MAX_RULE_CROSSINGS
) -> list[Table]:
    """The ruled tables on a page, top to bottom; [] when it draws none.

    Raises TooDense when the rules cross more than `max_crossings` times.
    """
    height = page.get_height()
    rules = _merge(list(_rules(page.raw, height)))
    horizontal = [r for r in rules if r.horizontal]
    vertical = [r for r in rules if not r.horizontal]
    if len(horizontal) < 2 or len(vertical) < 2:
        return []
    with _no_gc():
        groups = _tables_of(_cells(horizontal, vertical, max_crossings))
        if not groups:
            return []
        chars = list(_chars(textpage, height))
        return [_table(cells, chars, max_crossings) for cells in groups]


@contextmanager
def _no_gc() -> Iterator[None]:
    """No cyclic garbage collection while cells are found: they make tens of thousands of small sets and
    tuples (no cycles), and the collections those trigger walk every object the process holds, which
    made a dense page's cost grow faster than its crossings."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- rules from path objects ---------------------------------------------------


def _rules(page_raw, height: float) -> Iterator[_Rule]:
    count = pdfium_c.FPDFPage_CountObjects(page_raw)
    yield from _rules_in(
        (pdfium_c.FPDFPage_GetObject(page_raw, k) for k in range(count)), (1, 0, 0, 1, 0, 0), height, depth=0
    )


def _rules_in(objects, outer: tuple, height: float, depth: int) -> Iterator[_Rule]:
    matrix = pdfium_c.FS_MATRIX()
    for obj in objects:
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (pdfium_c.FPDF_PAGEOBJ_PATH, pdfium_c.FPDF_PAGEOBJ_FORM):
            continue
        if not pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(matrix)):
            continue
        m = _compose((matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f), outer)
        if kind == pdfium_c.FPDF_PAGEOBJ_FORM:
            if depth < 4:  # forms inside forms: rare, and a cycle must not recurse forever
                count = pdfium_c.FPDFFormObj_CountObjects(obj)
                yield from _rules_in((pdfium_c.FPDFFormObj_GetObject(obj, k) for k in range(count)), m, height, depth + 1)
            continue
        yield from _path_rules(obj, m, height)


def _compose(inner: tuple, outer: tuple) -> tuple:
    """The matrix applying `inner`, then `outer` (PDF's row-vector convention)."""
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer
    return (a * A + b * C, a * B + b * D, c * A + d * C, c * B + d * D, e * A + f * C + E, e * B + f * D + F)


def _path_rules(obj, m: tuple, height: float) -> Iterator[_Rule]:
    """The straight, axis-aligned pieces of one path that act as rules."""
    n = pdfium_c.FPDFPath_CountSegments(obj)
    if n < 2:
        return
    fill, stroke = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDFPath_GetDrawMode(obj, ctypes.byref(fill), ctypes.byref(stroke))
    if not stroke.value and n > 5:
        return  # filled, and more than one rectangle: a glyph, a logo, a seal; a filled rule is a bar
    x, y = ctypes.c_float(), ctypes.c_float()
    a, b, c, d, e, f = m
    subpaths: list[list[tuple[float, float]]] = []
    for k in range(n):
        segment = pdfium_c.FPDFPath_GetPathSegment(obj, k)
        kind = pdfium_c.FPDFPathSegment_GetType(segment)
        if kind == pdfium_c.FPDF_SEGMENT_BEZIERTO:
            if k < ART_SCAN:
                return  # curves: a seal, a logo, glyphs drawn as outlines
            subpaths.append([])  # a curve breaks the straight run
            continue
        pdfium_c.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        point = (a * x.value + c * y.value + e, height - (b * x.value + d * y.value + f))
        if kind == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
            subpaths.append([point])
        else:
            if k < ART_SCAN and subpaths[-1]:
                before = subpaths[-1][-1]
                if abs(point[0] - before[0]) >= 1 and abs(point[1] - before[1]) >= 1:
                    return  # slanted lines: drawing or glyphs made of polygons, never a table's rules
            subpaths[-1].append(point)
        if pdfium_c.FPDFPathSegment_GetClose(segment) and subpaths[-1]:
            subpaths[-1].append(subpaths[-1][0])
    for points in subpaths:
        if len(points) < 2:
            continue
        if stroke.value:
            for (x0, y0), (x1, y1) in zip(points, points[1:]):
                if abs(y1 - y0) < 1 and abs(x1 - x0) >= 1:
                    yield _Rule(True, (y0 + y1) / 2, min(x0, x1), max(x0, x1))
                elif abs(x1 - x0) < 1 and abs(y1 - y0) >= 1:
                    yield _Rule(False, (x0 + x1) / 2, min(y0, y1), max(y0, y1))
        elif fill.value:
            xs = [p[0] for p in points]
            ys = [p[1] for p in points]
            left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
            if bottom - top <= THIN and right - left > bottom - top:
                yield _Rule(True, (top + bottom) / 2, left, right)
            elif right - left <= THIN and bottom - top > right - left:
                yield _Rule(False, (left + right) / 2, top, bottom)


def _merge(rules: list[_Rule]) -> list[_Rule]:
    """Snap rules to shared positions, join pieces along each line, drop ticks."""
    out: list[_Rule] = []
    for horizontal in (True, False):
        group = sorted((r for r in rules if r.horizontal == horizontal), key=lambda r: r.at)
        # Snap: a run of positions each within SNAP of the previous becomes their mean.
        clusters: list[list[_Rule]] = []
        for rule in group:
            if clusters and rule.at <= clusters[-1][-1].at + SNAP:
                clusters[-1].append(rule)
            else:
                clusters.append([rule])
        for cluster in clusters:
            at = sum(r.at for r in cluster) / len(cluster)
            joined: list[_Rule] = []
            for rule in sorted(cluster, key=lambda r: r.start):
                if joined and rule.start <= joined[-1].end + JOIN:
                    joined[-1].end = max(joined[-1].end, rule.end)
                else:
                    joined.append(_Rule(horizontal, at, rule.start, rule.end))
            out.extend(r for r in joined if r.end - r.start >= MIN_RULE)
    return out


# --- cells and tables -----------------------------------------------------------


def _cells(
    horizontal: list[_Rule], vertical: list[_Rule], max_crossings: int = PDF_MAX_RULE_CROSSINGS
) -> list[tuple[float, float, float, float]]:
    """The smallest rectangles whose four sides are drawn, as (x0, top, x1, bottom)."""
    crossings = _crossings(horizontal, vertical, max_crossings)
    points = sorted(crossings)  # so each line below runs top to bottom, left to right
    by_x: dict[float, list[tuple[float, float]]] = {}
    by_y: dict[float, list[tuple[float, float]]] = {}
    for p in points:
        by_x.setdefault(p[0], []).append(p)
        by_y.setdefault(p[1], []).append(p)
    place = {p: (k, 0) for line in by_x.values() for k, p in enumerate(line)}
    for line in by_y.values():
        for k, p in enumerate(line):
            place[p] = (place[p][0], k)
    # The points below p (to its right) that share a vertical (horizontal) rule with it come first in
    # its column (row): a rule through p and a point further on passes through every point between.
    # So each search stops at the first point not joined to p; on a grid it stops at once. `budget`
    # bounds the rest (rules that meet without closing cells).
    budget = 8 * max_crossings
    cells = []
    for p in points:
        verticals, horizontals = crossings[p]
        column, row = by_x[p[0]], by_y[p[1]]
        below_at, right_at = place[p][0] + 1, place[p][1] + 1
        if below_at == len(column) or right_at == len(row):
            continue  # the bottom or right edge: no cell starts here
        cell = None
        for bi in range(below_at, len(column)):
            b = column[bi]
            if not verticals & crossings[b][0]:
                break
            for ri in range(right_at, len(row)):
                r = row[ri]
                budget -= 1
                if budget < 0:
                    raise TooDense(f"its ruling lines meet without closing cells too often ({len(points):,} crossings)")
                if not horizontals & crossings[r][1]:
                    break
                corner = crossings.get((r[0], b[1]))
                if corner is not None and corner[0] & crossings[r][0] and corner[1] & crossings[b][1]:
                    cell = (p[0], p[1], r[0], b[1])
                    break
            if cell is not None:
                break
        if cell:
            cells.append(cell)
    return cells


def _crossings(
    horizontal: list[_Rule], vertical: list[_Rule], max_crossings: int
) -> dict[tuple[float, float], tuple[set[int], set[int]]]:
    """Each point where a vertical rule meets a horizontal one, with the rules through it (by index)."""
    order = sorted(range(len(horizontal)), key=lambda k: horizontal[k].at)
    heights = [horizontal[k].at for k in order]
    # Only the horizontal rules at the heights a vertical one spans can cross it.
    spans = [(bisect_left(heights, v.start - CROSS), bisect_right(heights, v.end + CROSS)) for v in vertical]
    if sum(last - first for first, last in spans) > max_crossings:
        # Count first (cheap), then build: a dense grid is refused after max_crossings comparisons.
        looked = met = 0
        for v, (first, last) in zip(vertical, spans):
            looked += last - first
            if looked > 8 * max_crossings:
                raise TooDense(f"it draws too many ruling lines side by side (over {8 * max_crossings:,} pairs to try)")
            for hi in order[first:last]:
                h = horizontal[hi]
                met += h.start - CROSS <= v.at <= h.end + CROSS
            if met > max_crossings:
                raise TooDense(f"its ruling lines cross over {max_crossings:,} times")
    crossings: dict[tuple[float, float], tuple[set[int], set[int]]] = {}
    for vi, (v, (first, last)) in enumerate(zip(vertical, spans)):
        for hi in order[first:last]:
            h = horizontal[hi]
            if h.start - CROSS <= v.at <= h.end + CROSS:
                through = crossings.setdefault((v.at, h.at), (set(), set()))
                through[0].add(vi)
                through[1].add(hi)
    return crossings


def _tables_of(cells: list[tuple]) -> list[list[tuple]]:
    """Cells grouped into tables (cells sharing a corner), top to bottom; single cells are boxes, not tables."""
    parent = list(range(len(cells)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    owner: dict[tuple[float, float], int] = {}
    for k, (x0, top, x1, bottom) in enumerate(cells):
        for corner in ((x0, top), (x0, bottom), (x1, top), (x1, bottom)):
            if corner in owner:
                parent[root(k)] = root(owner[corner])
            else:
                owner[corner] = k
    groups: dict[int, list[tuple]] = {}
    for k, cell in enumerate(cells):
        groups.setdefault(root(k), []).append(cell)
    tables = [g for g in groups.values() if len(g) > 1]
    return sorted(tables, key=lambda g: min((c[1], c[0]) for c in g))


@dataclass
class _Char:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    space_before: str  # "glyph" (a space in the file), "generated" (pdfium's, from a gap) or ""


def _chars(textpage: pdfium.PdfTextPage, height: float) -> Iterator[_Char]:
    """The page's characters with their boxes; a space is noted on the character after it."""
    box = pdfium_c.FS_RECTF()
    raw = textpage.raw
    space = ""
    pending_high = None
    for k in range(pdfium_c.FPDFText_CountChars(raw)):
        code = pdfium_c.FPDFText_GetUnicode(raw, k)
        if 0xD800 <= code < 0xDC00:  # first half of a character outside the BMP
            pending_high = code
            continue
        if 0xDC00 <= code < 0xE000 and pending_high is not None:
            code = 0x10000 + ((pending_high - 0xD800) << 10) + (code - 0xDC00)
        pending_high = None
        char = chr(code)
        if char.isspace() or code == 0:
            if char == " ":
                space = "generated" if pdfium_c.FPDFText_IsGenerated(raw, k) and space != "glyph" else "glyph"
            continue
        if not pdfium_c.FPDFText_GetLooseCharBox(raw, k, ctypes.byref(box)):
            continue
        yield _Char(char, box.left, box.right, height - box.top, height - box.bottom, space)
        space = ""


def _table(cells: list[tuple], chars: list[_Char], max_slots: int = PDF_MAX_RULE_CROSSINGS) -> Table:
    """Rows of cell text, one column per distinct left edge (pdfplumber's Table.extract)."""
    columns = {x: k for k, x in enumerate(sorted({c[0] for c in cells}))}
    tops = sorted({c[1] for c in cells})
    # Which cell holds a point: a grid of every cell edge, each slot mapped to its cell.
    xs = sorted({c[0] for c in cells} | {c[2] for c in cells})
    ys = sorted({c[1] for c in cells} | {c[3] for c in cells})
    x_at = {x: k for k, x in enumerate(xs)}
    y_at = {y: k for k, y in enumerate(ys)}
    spans = [(x_at[x0], x_at[x1], y_at[top], y_at[bottom]) for x0, top, x1, bottom in cells]
    if sum((i1 - i0) * (j1 - j0) for i0, i1, j0, j1 in spans) > 4 * max_slots:
        raise TooDense(f"its cells' edges make a grid of over {4 * max_slots:,} slots")
    slot_owner: dict[tuple[int, int], int] = {}
    for k, (i0, i1, j0, j1) in enumerate(spans):
        for i in range(i0, i1):
            for j in range(j0, j1):
                slot_owner[(i, j)] = k
    inside: dict[int, list[_Char]] = {}
    for char in chars:
        mid_x = (char.x0 + char.x1) / 2
        i = bisect_right(xs, mid_x) - 1
        if i < 0 or i >= len(xs) - 1:
            continue
        j = bisect_right(ys, (char.top + char.bottom) / 2) - 1
        if 0 <= j < len(ys) - 1 and (i, j) in slot_owner:
            inside.setdefault(slot_owner[(i, j)], []).append(char)
    rows: dict[float, list[str]] = {top: [""] * len(columns) for top in tops}
    for k, (x0, top, _, _) in enumerate(cells):
        rows[top][columns[x0]] = _cell_text(inside.get(k, []))
    bbox = (min(c[0] for c in cells), min(c[1] for c in cells), max(c[2] for c in cells), max(c[3] for c in cells))
    return Table(bbox, [rows[top] for top in tops])


def _cell_text(chars: list[_Char]) -> str:
    """A cell's characters as lines of text, top to bottom, joined with newlines."""
    lines: list[list[_Char]] = []
    for char in sorted(chars, key=lambda c: c.top):
        if lines and char.top <= lines[-1][-1].top + LINE_GAP:
            lines[-1].append(char)
        else:
            lines.append([char])
    out = []
    for line in lines:
        line.sort(key=lambda c: c.x0)
        text = line[0].text
        for before, char in zip(line, line[1:]):
            # As in the text of the page: a space glyph stays; a space pdfium
            # made up from a gap stays only between non-CJK characters.
            if char.space_before == "glyph" or (
                char.space_before == "generated" and not (CJK.match(before.text) or CJK.match(char.text))
            ):
                text += " "
            text += char.text
        out.append(text)
    return "\n".join(out)
