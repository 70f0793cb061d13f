"""The text of a notice outside its tasks, as passages for full-text search.

Tasks (`Item`s) are searched as they are; everything else a reader would search too is a
`Passage`: the title, each heading that is no task, and every other non-blank line (recipients,
preamble, closing paragraphs, signature, attachment text outside tasks), each with its part, the
heading it stands under, and its lines, offsets and pages.
"""

from __future__ import annotations

from extractors.structure import Line, make_span
from extractors.text import clean_text, compact
from schemas import Document, Passage

BODY_PART = "正文"
# The title is printed within the first lines (banner, number, title); a later line that repeats
# it (a header on every page, the 附件 quoting it) is text.
_TITLE_WITHIN = 40


def text_passages(doc: Document, lines: list[Line], page_starts: list[int]) -> list[Passage]:
    """Title, headings that are no task, and every other line outside the tasks, in text order."""
    in_tasks: set[int] = set()
    for item in doc.items:
        in_tasks.update(range(item.span.first_line, item.span.last_line + 1))
    task_keys = {item.key for item in doc.items}
    headings = {s.span.first_line: s for s in doc.sections}
    parts = sorted(
        ((a.span.first_line, a.span.last_line, a.part) for a in doc.attachments if a.span is not None),
        reverse=True,
    )

    passages: list[Passage] = []
    title_lines: list[int] = []
    title = compact(doc.title or "")
    if title:
        for index, line in enumerate(lines[:_TITLE_WITHIN]):
            key = compact(line.text)
            if key and key in title and len(key) * 3 >= min(len(title), 12) and line.number not in in_tasks:
                title_lines.append(index)
            elif title_lines:
                break
        span = make_span(lines, title_lines[0], title_lines[-1], page_starts) if title_lines else None
        passages.append(Passage(kind="title", part=BODY_PART, text=doc.title, span=span))
    skipped = set(title_lines)

    under: dict[str, str | None] = {}  # part → key of the last heading seen in it
    for index, line in enumerate(lines):
        heading = headings.get(line.number)
        if heading is not None:  # a heading that is a task too: the lines below stand under it
            under[heading.part] = heading.key
        if line.number in in_tasks or index in skipped or line.blank:
            continue
        if heading is not None and heading.key in task_keys:
            heading = None
        part = next((label for first, last, label in parts if first <= line.number <= last), BODY_PART)
        text = clean_text(line.text)
        if not text:
            continue
        passages.append(
            Passage(
                kind="section" if heading is not None else "paragraph",
                part=heading.part if heading is not None else part,
                section_key=heading.key if heading is not None else under.get(part),
                text=text,
                span=make_span(lines, index, index, page_starts),
            )
        )
    return passages
