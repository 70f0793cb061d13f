"""The text reader: encodings and line endings give the same text as the UTF-8 original."""

from __future__ import annotations

import codecs

import pytest

from pipeline.errors import ReadError
from pipeline.readers.text import read
from tests.conftest import seed_text

ORIGINAL = seed_text("000")


@pytest.mark.parametrize(
    "encode",
    [
        lambda t: t.encode("gb18030"),
        lambda t: t.encode("gbk"),
        lambda t: t.encode("utf-16"),  # with BOM
        lambda t: t.encode("utf-16-le"),  # without BOM
        lambda t: t.encode("utf-16-be"),
        lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
        lambda t: t.replace("\n", "\r\n").encode("utf-8"),
        lambda t: t.replace("\n", "\r\n").encode("gb18030"),
    ],
    ids=["gb18030", "gbk", "utf-16-bom", "utf-16-le", "utf-16-be", "utf-8-bom", "crlf", "gb18030-crlf"],
)
def test_seed_000_reads_identically_in_every_encoding(encode):
    assert read(encode(ORIGINAL)).text == ORIGINAL


def test_encoding_is_reported():
    assert read(ORIGINAL.encode("gb18030")).encoding == "gb18030"
    assert read(codecs.BOM_UTF8 + ORIGINAL.encode()).encoding == "utf-8-sig"
    assert read(ORIGINAL.encode()).encoding == "utf-8"


def test_empty_file_is_an_error():
    with pytest.raises(ReadError, match="empty"):
        read(b"  \n\n")


def test_binary_garbage_is_an_error():
    garbage = bytes(range(256)) * 40
    with pytest.raises(ReadError):
        read(garbage)
