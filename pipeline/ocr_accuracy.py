"""Character accuracy of OCR text against a reviewed transcript.

accuracy = 1 − edit distance / reference length, both texts with all
whitespace removed: the transcripts write one printed line per line and only
some of the spacing a page shows (distributed titles, autospace around digits),
choices an OCR engine makes differently without reading a character wrong.
"""

from __future__ import annotations

import re

_WHITESPACE = re.compile(r"\s+")


def squeeze(text: str) -> str:
    """The text without any whitespace (form feeds between pages included)."""
    return _WHITESPACE.sub("", text)


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: 1 each), in O(len(a)·len(b)) time, O(len(b)) memory."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def character_accuracy(ocr_text: str, reference: str) -> float:
    """1 − edit distance / reference length, whitespace removed from both (can fall below 0 for junk)."""
    ref = squeeze(reference)
    if not ref:
        raise ValueError("the reference text is empty")
    return 1 - edit_distance(squeeze(ocr_text), ref) / len(ref)
