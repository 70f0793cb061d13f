"""What OCR confidence means for a parsed document: its summary, each item's confidence, warnings.

A reader that recognized pages (pipeline/readers/pdf.py with pipeline/ocr.py) lists the
lines it read with their confidence (`SourceText.recognized_lines`); an item gets the lowest
confidence of the lines its span touches, and one below LOW_CONFIDENCE a warning naming it,
so an analyst checks that item against the page before trusting a unit name or a date in it.
"""

from __future__ import annotations

from bisect import bisect_left

from schemas import Document, OcrReading, ParseWarning, SourceText

# The engine's confidence below which an item's text is worth checking by eye. Clean 200-dpi
# scans give 0.95–1.0 on body lines; a stamp, a fold or a blur falls below this.
LOW_CONFIDENCE = 0.85


def apply_recognition(doc: Document, source: SourceText) -> None:
    """Fill doc.ocr, each item's ocr_confidence, and a warning per weak item (no-op without OCR)."""
    lines = source.recognized_lines
    if not lines:
        return
    ends = [line.end for line in lines]
    weak = 0
    for item in doc.items:
        k = bisect_left(ends, item.span.start + 1)
        touched = []
        while k < len(lines) and lines[k].start < item.span.end:
            touched.append(lines[k])
            k += 1
        if not touched:
            continue
        worst = min(touched, key=lambda line: line.confidence)
        item.ocr_confidence = worst.confidence
        if worst.confidence < LOW_CONFIDENCE:
            weak += 1
            doc.warnings.append(
                ParseWarning(
                    field="ocr",
                    message=f"item {item.key}: read by OCR with confidence {worst.confidence:.2f} on page "
                    f"{worst.page} (below {LOW_CONFIDENCE}); check its text and units against the page",
                )
            )
    weight = sum(line.end - line.start for line in lines) or 1
    mean = sum(line.confidence * (line.end - line.start) for line in lines) / weight
    doc.ocr = OcrReading(
        engine=source.ocr_engine or "ocr",
        pages=sorted({line.page for line in lines}),
        mean_confidence=round(mean, 4),
        low_confidence_items=weak,
    )
