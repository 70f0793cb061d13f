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
    if len(data) >= 4 and data.count(b"\x00") >= len(data) // 4:
        # BOM-less UTF-16: the zero bytes of ASCII characters fall on one side.
        even, odd = data[0::2].count(0), data[1::2].count(0)
        encoding = "utf-16-le" if odd > even else "utf-16-be"
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ReadError("not readable as text (tried UTF-8, UTF-16 and GB18030); is it a binary file named .txt?")


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
