"""Compare our HTML reader with content-extraction libraries on the real pages (run by hand).

    python -m pipeline.compare_html [--runs 3] [--examples 5] [--json OUT.json]

Run it from the project root with a Python that has the libraries; they are
NOT project dependencies and must not become ones. A throwaway venv does:

    python3 -m venv /tmp/libcmp/venv
    /tmp/libcmp/venv/bin/pip install trafilatura readability-lxml selectolax lxml \
        pydantic regex jieba pdfplumber pypdfium2 python-docx duckdb typer
    cd /work/main && /tmp/libcmp/venv/bin/python -m pipeline.compare_html

(the project's own deps are there only because importing pipeline.readers
imports every reader). Each library is imported lazily; one that is not
installed is skipped with a message. Nothing else imports this module.

Pages: ../shared/corpus/real/*.html and ../shared/corpus/real/govcn_2019/*.html,
whose index.json gives each page's real title and 发文字号 (release_number).

Extractors: ours (pipeline.readers.html.read(...).text); trafilatura (default,
with its fallbacks, and fast=True), comments off, tables on, its txt output;
readability-lxml's summary() turned into lines by a neutral converter
(`_html_lines`: a block is a line, <br> a break, a table row a line with
tab-separated cells, a one-cell layout row read as blocks, whitespace
collapsed as a browser does, padding kept); and, as parsers only (no article
finding), selectolax/lexbor's body text and lxml's body text_content() —
speed baselines and a recall ceiling.

What is measured, with no hand labels:
 1. speed on one core (the process is pinned to one CPU): each extractor over
    all pages, `--runs` times, the extractors taking turns in each run; the
    fastest run gives pages/s (and each page's fastest time is kept);
 2. (a) govcn pages: the index.json title and 发文字号 found in the extracted
        text, compared with all whitespace (and newlines) removed, since titles
        wrap over two lines in the body;
    (b) all pages: recall = share of our non-empty lines whose compacted form
        is in the library's compacted text; extra = share of the library's
        lines not in our compacted text (chrome, or article text we dropped:
        up to --examples of them are printed per page to judge);
    (c) line structure: non-empty lines vs ours, lines with a tab, and our
        table rows kept as one line of separate cells (tab or " | ");
    (d) padding: lines that still hold U+3000, NBSP, U+2002/U+2003 inside the
        line (between words), and lines that keep them at either end.
"Compacted" = all whitespace and '|' removed (trafilatura writes table cells
as "| a | b |"). A 发文字号 written 国令第N号 in index.json is also found as
国务院令第N号, as the body writes it (中华人民共和国国务院令 第N号).

Article text our reader may miss: the library's text is cut into fragments
(at line breaks, cells, 。；！？) and every fragment of >= 6 characters that
is not in our compacted text is listed, marked "around" when our reader kept
it as page metadata outside the article (page.around_lines: 索引号 tables,
title bars) and "NEW" when our output has it nowhere — those are the lines to
read by hand: site chrome, or a reader bug. For the parsers (the whole page)
only NEW pieces that read as prose are printed: article text dropped anywhere.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "real"

_WS = re.compile(r"[\s|]+")  # \s covers U+3000 and NBSP
_PAD = re.compile(r"[\u3000\xa0\u2002\u2003]")
_PAD_CHARS = " \t\r\u3000\xa0\u2002\u2003"
_FRAGMENT = re.compile(r"[\n\t|。；！？]+")
_BULLET = re.compile(r"^[ \t]*[-*•][ \t]+", re.M)
_CJK = re.compile(r"[\u3400-\u9fff]")
_PROSE = re.compile(r"[。，；]")


def compact(text: str) -> str:
    return _WS.sub("", text)


def nonempty_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.strip()]


def row_cells(line: str) -> list[str]:
    """The cells of a table-row line: tab-separated (ours) or '| a | b |' (trafilatura)."""
    if "\t" in line:
        return line.split("\t")
    stripped = line.strip()
    if stripped.startswith("|") and stripped.count("|") >= 3:
        return stripped.strip("|").split("|")
    return []


# --- extractors -------------------------------------------------------------------


@dataclass
class Extractor:
    name: str
    run: Callable[[bytes], str]
    version: str
    kind: str = "extractor"  # or "parser": whole-page text, structure columns not meaningful


def _ours() -> Extractor:
    from pipeline.readers import html

    return Extractor("ours (pipeline.readers.html)", lambda data: html.read(data).text, _git_version())


def _git_version() -> str:
    import subprocess

    try:
        head = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h", "--", "pipeline/readers/html.py"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "diff", "--quiet", "HEAD", "--", "pipeline/readers/html.py"])
    except (OSError, subprocess.CalledProcessError):
        return "working tree"
    return f"html.py @ {head}" + (" + uncommitted changes" if dirty.returncode else "")


def _trafilatura(fast: bool) -> Extractor:
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)

    def run(data: bytes) -> str:
        return trafilatura.extract(data, fast=fast, include_comments=False, include_tables=True,
                                   deduplicate=False) or ""

    return Extractor("trafilatura" + (" fast" if fast else ""), run, trafilatura.__version__)


def _readability() -> Extractor:
    from importlib.metadata import version

    from readability import Document

    logging.getLogger("readability").setLevel(logging.CRITICAL)
    return Extractor("readability-lxml", lambda data: _html_lines(Document(data).summary(html_partial=True)),
                     version("readability-lxml"))


def _selectolax() -> Extractor:
    import selectolax
    from selectolax.lexbor import LexborHTMLParser

    def run(data: bytes) -> str:
        tree = LexborHTMLParser(data, encoding=True)  # detect the charset, as a browser does
        tree.strip_tags(["script", "style", "noscript", "template"])
        body = tree.body
        return body.text(separator="\n") if body is not None else ""

    return Extractor("selectolax lexbor (parser)", run, selectolax.__version__, kind="parser")


def _lxml_parse() -> Extractor:
    from lxml import etree
    from lxml import html as lxml_html

    from pipeline.readers.html import decode

    def run(data: bytes) -> str:
        root = lxml_html.document_fromstring(decode(data)[0].encode("utf-8"),
                                             parser=lxml_html.HTMLParser(encoding="utf-8"))
        for element in list(root.iter("script", "style", "noscript", "template", "head")):
            element.drop_tree()
        body = root.find("body")
        return (body if body is not None else root).text_content()

    return Extractor("lxml (parser, our decode)", run, etree.__version__, kind="parser")


FACTORIES: list[tuple[str, Callable[[], Extractor]]] = [
    ("ours", _ours),
    ("trafilatura", lambda: _trafilatura(fast=False)),
    ("trafilatura", lambda: _trafilatura(fast=True)),
    ("readability-lxml", _readability),
    ("selectolax", _selectolax),
    ("lxml", _lxml_parse),
]

_BLOCKS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dd dt table tbody thead tfoot section article header footer aside "
    "main center blockquote pre address figure figcaption hr caption".split()
)


def _html_lines(fragment: str) -> str:
    """A neutral HTML-to-text for libraries that return HTML: a block is a line, <br> a break,
    a table row one line of tab-separated cells (a cell's own blocks joined by spaces), and a
    layout row (one cell, or cells holding tables) read as blocks — the usual reading of layout tables."""
    from lxml import html as lxml_html

    if not fragment.strip():
        return ""
    # Parsed as a document, not a fragment: readability returns a bare <html><head> when it finds no article.
    root = lxml_html.document_fromstring(fragment).find("body")
    if root is None:
        return ""
    out: list[str] = []

    def walk(element, sink: list[str]) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in ("script", "style"):
            return
        if tag == "tr":
            cells = [cell for cell in element if isinstance(cell.tag, str) and cell.tag in ("td", "th")]
            if len(cells) <= 1 or any(cell.find(".//table") is not None for cell in cells):
                # A layout row (one cell, or cells of nested tables) is read as blocks.
                for cell in cells:
                    sink.append("\n")
                    walk(cell, sink)
                    sink.append("\n")
                return
            texts = []
            for cell in cells:
                parts: list[str] = []
                walk(cell, parts)
                texts.append(" ".join("".join(parts).replace("\t", " ").split("\n")).strip(" "))
            sink.append("\n" + "\t".join(texts) + "\n")
            return
        if tag in _BLOCKS or tag == "br":
            sink.append("\n")
        if tag and element.text:
            sink.append(re.sub(r"[ \t\r\n]+", " ", element.text))
        for child in element:
            walk(child, sink)
            if child.tail:
                sink.append(re.sub(r"[ \t\r\n]+", " ", child.tail))
        if tag in _BLOCKS:
            sink.append("\n")

    walk(root, out)
    return "\n".join(line.strip(" ") for line in "".join(out).split("\n"))


# --- pages ------------------------------------------------------------------------


@dataclass
class Page:
    name: str
    data: bytes
    title: str | None = None
    number: str | None = None
    around: str = ""  # compacted page text our reader kept outside the article


def load_pages(corpus: Path) -> list[Page]:
    pages = [Page(p.name, p.read_bytes()) for p in sorted(corpus.glob("*.html"))]
    govcn = corpus / "govcn_2019"
    index = json.loads((govcn / "index.json").read_text(encoding="utf-8"))
    for path in sorted(govcn.glob("*.html")):
        row = index.get(path.name, {})
        pages.append(Page("govcn_2019/" + path.name, path.read_bytes(), row.get("title"), row.get("release_number")))
    return pages


# --- measuring --------------------------------------------------------------------


@dataclass
class Result:
    text: str = ""
    error: str | None = None
    seconds: float = float("inf")  # this page's fastest run


@dataclass
class Measures:
    lines: int = 0
    tab_lines: int = 0
    inner_padded: int = 0  # lines with padding between words
    edge_padded: int = 0  # lines with padding at either end
    title_found: bool | None = None
    number_found: bool | None = None
    recall: float = 0.0
    missing: list[str] = field(default_factory=list)  # our lines not in the library's text
    extra: list[str] = field(default_factory=list)  # the library's lines not in our text
    extra_share: float = 0.0
    new_fragments: list[str] = field(default_factory=list)  # library text found nowhere in our output
    around_fragments: list[str] = field(default_factory=list)  # library text we keep as page metadata
    rows_ours: int = 0
    rows_kept: int = 0


def time_all(extractors: list[Extractor], pages: list[Page], runs: int) -> tuple[dict, dict]:
    """Every page through every extractor, `runs` times; each page's result and each extractor's fastest total.

    The extractors take turns within each run, so that load from other processes
    on the machine falls on all of them alike.
    """
    results = {e.name: [Result() for _ in pages] for e in extractors}
    best = {e.name: float("inf") for e in extractors}
    for _ in range(runs):
        for extractor in extractors:
            total = 0.0
            for page, result in zip(pages, results[extractor.name]):
                start = time.perf_counter()
                try:
                    text, error = extractor.run(page.data), None
                except Exception as exc:  # a library failing on a page is a finding, not a crash
                    text, error = "", f"{type(exc).__name__}: {exc}"[:160]
                elapsed = time.perf_counter() - start
                total += elapsed
                result.seconds = min(result.seconds, elapsed)
                result.text, result.error = text, error
            best[extractor.name] = min(best[extractor.name], total)
    return results, best


def _numbers(number: str) -> list[str]:
    forms = [compact(number)]
    decree = re.fullmatch(r"国令(第\d+号)", forms[0])
    if decree:
        forms.append("国务院令" + decree.group(1))
    return forms


def new_text(text: str, our_flat: str) -> list[str]:
    """Pieces of `text` (>= 6 characters) that are nowhere in our compacted text.

    The text is cut at line breaks, cells and 。；！？; a piece not found is cut
    again at spaces, so that text merged onto one line in another order
    (trafilatura moves a cell's tables after its prose) is not taken for new
    text. List bullets ("- ", trafilatura's) are not text.
    """
    found: list[str] = []
    seen: set[str] = set()
    for fragment in _FRAGMENT.split(_BULLET.sub("", text)):
        key = compact(fragment)
        if len(key) < 6 or key in our_flat or key in seen:
            continue
        seen.add(key)
        pieces = [piece for piece in fragment.split() if len(compact(piece)) >= 6]
        if pieces:
            found += [piece for piece in pieces if compact(piece) not in our_flat]
        else:
            found.append(" ".join(fragment.split()))
    return found


def measure(text: str, page: Page, ours: str) -> Measures:
    m = Measures()
    lines = nonempty_lines(text)
    m.lines = len(lines)
    m.tab_lines = sum("\t" in line for line in lines)
    m.inner_padded = sum(bool(_PAD.search(line.strip(_PAD_CHARS))) for line in lines)
    m.edge_padded = sum(line.strip(" \t\r") != line.strip(_PAD_CHARS) for line in lines)
    flat = compact(text)
    if page.title:
        m.title_found = compact(page.title) in flat
    if page.number:
        m.number_found = any(form in flat for form in _numbers(page.number))
    # (b) our lines in their text, their lines in ours
    our_lines = [line for line in nonempty_lines(ours) if compact(line)]
    found = [compact(line) in flat for line in our_lines]
    m.recall = sum(found) / len(our_lines) if our_lines else 0.0
    m.missing = [line.strip() for line, ok in zip(our_lines, found) if not ok]
    our_flat = compact(ours)
    own = [line for line in lines if compact(line)]
    m.extra = [line.strip() for line in own if compact(line) not in our_flat]
    m.extra_share = len(m.extra) / len(own) if own else 0.0
    # their text, in fragments, that our article does not have
    for fragment in new_text(text, our_flat):
        (m.around_fragments if compact(fragment) in page.around else m.new_fragments).append(fragment)
    # (c) our table rows kept as one line of separate cells, with the same content
    rows = [line for line in nonempty_lines(ours) if sum(bool(c.strip()) for c in line.split("\t")) > 1]
    theirs = {compact("".join(cells)) for cells in map(row_cells, lines) if sum(bool(c.strip()) for c in cells) > 1}
    m.rows_ours = len(rows)
    m.rows_kept = sum(compact(row) in theirs for row in rows)
    return m


def looks_like_prose(piece: str) -> bool:
    """A sentence, not a menu item: >= 12 CJK characters with a comma or 。；."""
    return len(_CJK.findall(piece)) >= 12 and bool(_PROSE.search(piece))


# --- report -----------------------------------------------------------------------


def pin_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity)"


def print_table(extractors: list[Extractor], pages: list[Page], results: dict, totals: dict, measures: dict) -> None:
    ours_name = extractors[0].name
    n_gov = sum(bool(p.title) for p in pages)
    print(f"| extractor | pages/s | ms/page | govcn title found /{n_gov} | govcn 发文字号 found /{n_gov} "
          "| mean recall of our lines | pages with >10% extra lines | non-empty lines (ours: "
          f"{sum(m.lines for m in measures[ours_name])}) | keeps table rows (our rows kept as rows) "
          "| keeps padding: pages / lines inside / lines at ends | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for extractor in extractors:
        ms = measures[extractor.name]
        gov = [m for m, p in zip(ms, pages) if p.title]
        rate = len(pages) / totals[extractor.name]
        errors = sum(r.error is not None for r in results[extractor.name])
        empty = sum(not r.text.strip() and r.error is None for r in results[extractor.name])
        if extractor.kind == "parser":
            lines, rows = f"{sum(m.lines for m in ms)} (raw)", "n/a (parser)"
        else:
            lines = str(sum(m.lines for m in ms))
            rows = f"{sum(m.rows_kept for m in ms)}/{sum(m.rows_ours for m in ms)}"
        padded_pages = sum(m.inner_padded + m.edge_padded > 0 for m in ms)
        print(f"| {extractor.name} | {rate:.1f} | {1000 / rate:.1f} "
              f"| {sum(bool(m.title_found) for m in gov)} | {sum(bool(m.number_found) for m in gov)} "
              f"| {sum(m.recall for m in ms) / len(ms):.3f} | {sum(m.extra_share > 0.10 for m in ms)} "
              f"| {lines} | {rows} "
              f"| {padded_pages} / {sum(m.inner_padded for m in ms)} / {sum(m.edge_padded for m in ms)} "
              f"| {errors} errors, {empty} empty |")


def print_pages(extractors: list[Extractor], pages: list[Page], results: dict, measures: dict, examples: int) -> None:
    ours_name = extractors[0].name
    for i, page in enumerate(pages):
        ours_m = measures[ours_name][i]
        block: list[str] = []
        for extractor in extractors[1:]:
            m, r = measures[extractor.name][i], results[extractor.name][i]
            if extractor.kind == "parser":
                # The whole page: only prose nowhere in our output is worth a look (chrome is expected).
                prose = [f for f in m.new_fragments if looks_like_prose(f)]
                if prose:
                    block.append(f"- {extractor.name}: {len(prose)} prose-like pieces of the page nowhere in "
                                 "our output (article or around_lines)")
                    block += [f"    NEW prose: {f[:110]!r}" for f in prose[:examples]]
                continue
            notes = []
            if r.error:
                notes.append(f"ERROR {r.error!r}")
            if page.title and not m.title_found:
                notes.append("title NOT found")
            if page.number and not m.number_found:
                notes.append("发文字号 NOT found")
            if m.recall < 1:
                notes.append(f"recall {m.recall:.2f} ({len(m.missing)} of our lines missing)")
            if m.extra:
                notes.append(f"{len(m.extra)} extra lines ({m.extra_share:.0%})")
            if abs(m.lines - ours_m.lines) > max(2, ours_m.lines // 5):
                notes.append(f"{m.lines} lines vs our {ours_m.lines}")
            if m.rows_ours and m.rows_kept < m.rows_ours:
                notes.append(f"table rows kept {m.rows_kept}/{m.rows_ours}")
            if m.inner_padded:
                notes.append(f"{m.inner_padded} lines with padding inside")
            if not notes and not m.new_fragments:
                continue
            block.append(f"- {extractor.name}: " + "; ".join(notes or ["ok"]))
            block += [f"    missing: {line[:110]!r}" for line in m.missing[:examples]]
            block += [f"    extra:   {line[:110]!r}" for line in m.extra[:examples]]
            block += [f"    NEW text (nowhere in our output): {f[:110]!r}" for f in m.new_fragments[:examples]]
            if len(m.new_fragments) > examples:
                block.append(f"    … {len(m.new_fragments) - examples} more NEW fragments")
            if m.around_fragments:
                block.append(f"    ({len(m.around_fragments)} fragments are in our page.around_lines, e.g. "
                             f"{m.around_fragments[0][:60]!r})")
        if block:
            print(f"### {page.name}: ours {ours_m.lines} lines, {ours_m.rows_ours} table rows")
            print("\n".join(block))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs over all pages (the fastest counts)")
    parser.add_argument("--examples", type=int, default=5, help="example lines printed per page and extractor")
    parser.add_argument("--json", type=Path, help="write every page's measures and texts here")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of the real pages (default: %(default)s)")
    args = parser.parse_args(argv)

    extractors: list[Extractor] = []
    for package, factory in FACTORIES:
        try:
            extractors.append(factory())
        except ImportError as exc:
            print(f"skipped {package}: not installed ({exc})", file=sys.stderr)
    if not extractors or not extractors[0].name.startswith("ours"):
        print("our reader cannot be imported: run from the project root with its deps installed", file=sys.stderr)
        return 2
    pages = load_pages(args.corpus)
    from pipeline.readers import html

    for page in pages:
        page.around = compact("\n".join(html.read(page.data).page.around_lines))
    print(f"{len(pages)} pages ({sum(bool(p.title) for p in pages)} govcn with index.json), "
          f"{args.runs} runs, {pin_one_core()}")
    print("versions: " + ", ".join(f"{e.name} {e.version}" for e in extractors) + f"; Python {sys.version.split()[0]}")

    results, totals = time_all(extractors, pages, args.runs)
    ours_texts = [r.text for r in results[extractors[0].name]]
    measures = {e.name: [measure(r.text, p, o) for r, p, o in zip(results[e.name], pages, ours_texts)]
                for e in extractors}

    print()
    print_table(extractors, pages, results, totals, measures)
    print("\n## Per page (for the parsers, which return the whole page, only prose found nowhere in our output)\n")
    print_pages(extractors, pages, results, measures, args.examples)

    if args.json:
        dump = {
            "pages_per_second": {name: len(pages) / total for name, total in totals.items()},
            "pages": [
                {"page": p.name, **{e.name: {"seconds": results[e.name][i].seconds, "error": results[e.name][i].error,
                                             **vars(measures[e.name][i]), "text": results[e.name][i].text}
                                    for e in extractors}}
                for i, p in enumerate(pages)
            ],
        }
        args.json.write_text(json.dumps(dump, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
