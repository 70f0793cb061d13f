"""Plain-text notices: detect the encoding, normalize line endings."""

from __future__ import annotations

import codecs

from pipeline.errors import ReadError
from schemas import SourceText

FORMAT = "txt"
SUFFIXES = (".txt", ".text")

# Characters a text file may hold besides printable ones.
_ALLOWED_CONTROLS = set("\t\n\r\f\v")


def sniff(head: bytes) -> bool:
    """Plain text has no magic: any file not claimed by another reader may be text."""
    return b"\x00" not in head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))


def decode(data: bytes) -> tuple[str, str]:
    """Text and encoding of `data`: UTF-8 (with or without BOM), UTF-16, GB18030/GBK."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if b"\x00" in data and len(data) % 2 == 0:
        # UTF-8 and GB18030 text never holds NUL bytes; BOM-less UTF-16 does
        # (ASCII digits, newlines). Take the byte order that reads as text.
        best = max(
            ((_plausibility(data, enc), enc) for enc in ("utf-16-le", "utf-16-be")),
            key=lambda pair: pair[0],
        )
        if best[0] > 0.9:
            return data.decode(best[1]), best[1]
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("not readable as text (tried UTF-8, UTF-16 and GB18030); is it a binary file named .txt?")


def _plausibility(data: bytes, encoding: str) -> float:
    """Share of characters that are CJK, ASCII text or common punctuation."""
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return 0.0
    good = sum(
        1
        for ch in text
        if ("\u4e00" <= ch <= "\u9fff") or (" " <= ch <= "~") or ch in "\n\r\t" or ("\u3000" <= ch <= "\u303f")
        or ("\uff00" <= ch <= "\uffef") or ("\u2010" <= ch <= "\u201f")
    )
    return good / max(len(text), 1)


def normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")


def read(data: bytes) -> SourceText:
    if not data.strip():
        raise ReadError("the file is empty")
    text, encoding = decode(data)
    controls = sum(1 for ch in text if ch < " " and ch not in _ALLOWED_CONTROLS)
    if controls > max(2, len(text) // 200):
        raise ReadError(f"looks binary, not text ({controls} control characters); check what the file is")
    return SourceText(text=normalize_newlines(text), format=FORMAT, encoding=encoding)
