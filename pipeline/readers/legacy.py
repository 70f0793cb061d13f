"""Legacy binary Word and WPS files (.doc, .wps): recognised, then refused clearly.

Both are OLE compound files. No reader that installs from the package index
turns them into text well, so the analyst is told how to convert them.
"""

from __future__ import annotations

from pipeline.errors import ReadError
from schemas import SourceText

FORMAT = "doc"
SUFFIXES = (".doc", ".wps")

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def sniff(head: bytes) -> bool:
    return head.startswith(_OLE_MAGIC)


def read(data: bytes) -> SourceText:
    raise ReadError(
        "legacy binary Word/WPS file (.doc/.wps) is not supported; convert it to .docx first "
        "(LibreOffice: soffice --headless --convert-to docx FILE) and ingest the .docx"
    )
