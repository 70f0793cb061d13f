"""A walk over a PDF's objects before pdfium reads its pages: refuse what would hang it or fill memory.

pdfium inflates a page's content streams whole when it loads the page, so a
1 MB file whose content inflates to 1 GB takes gigabytes of memory before any
text comes out. This walk (pdfminer, which comes with pdfplumber, parsing
objects only: no layout) follows the page tree from the catalog and measures
what pdfium would inflate, in chunks that are counted and thrown away, stopping
as soon as a limit is passed:

- a page's content streams together: the pdf_page_content_mb file limit (MAX_PDF_PAGE_CONTENT_BYTES by default);
- each form XObject a page can draw: the same (measured once per document,
  however many pages draw it);
- each object stream (objects packed in a stream) and cross-reference stream,
  which pdfium and pdfminer inflate whole to find objects: MAX_PDF_STREAM_BYTES.

Images are not measured: reading text never decodes them. Fonts are not
either: walking them (their width tables) would double the cost of this walk,
and a font that inflates to gigabytes meets the worker's memory limit. A stream
whose raw size cannot reach the limit at its filters' largest ratio (deflate:
1032:1) is not inflated at all.

The walk also finds a page tree that loops (a /Kids entry pointing back at a
node above it) and names the object.

A file pdfminer cannot parse (a broken cross-reference table, a password) is
left to pdfium, which reads more kinds of damage; the worker's memory and time
limits (pipeline/limits.py) still hold for it.
"""

from __future__ import annotations

import io
import logging
import zlib
from collections.abc import Iterator

from pdfminer.ascii85 import ascii85decode, asciihexdecode
from pdfminer.lzw import LZWDecoder
from pdfminer.pdfdocument import PDFDocument
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import (
    LITERALS_ASCII85_DECODE,
    LITERALS_ASCIIHEX_DECODE,
    LITERALS_FLATE_DECODE,
    LITERALS_LZW_DECODE,
    LITERALS_RUNLENGTH_DECODE,
    PDFObjRef,
    PDFStream,
)
from pdfminer.psparser import LIT

from pipeline.errors import ReadError
from pipeline.limits import MAX_PDF_STREAM_BYTES, active, raise_hint

CHUNK = 1 << 20  # bytes inflated at a time, then dropped
_FEED = 1 << 16  # raw bytes handed to zlib at a time (its unconsumed tail is copied on every call)
# The most each filter can expand its input: deflate 258 bytes from 2 bits (zlib's own bound); LZW a
# 4,096-byte string from one 12-bit code; RunLength 128 bytes from 2; ASCII85 `z`: 4 bytes from 1.
_RATIO = {**dict.fromkeys(LITERALS_FLATE_DECODE, 1032), **dict.fromkeys(LITERALS_LZW_DECODE, 3641),
          **dict.fromkeys(LITERALS_RUNLENGTH_DECODE, 64), **dict.fromkeys(LITERALS_ASCII85_DECODE, 4),
          **dict.fromkeys(LITERALS_ASCIIHEX_DECODE, 1)}
_FORM = LIT("Form")


logging.getLogger("pdfminer").setLevel(logging.ERROR)  # its notes on damaged files are for us to word, not print


def check(data: bytes) -> None:
    """Raise ReadError for a page tree that loops or content that inflates beyond the limits."""
    try:
        # No fallback: a file whose cross-reference table is broken would be scanned line by line in
        # Python (and its object streams inflated whole); pdfium repairs such files itself.
        document = _Document(PDFParser(io.BytesIO(data)), fallback=False)
        _Walk().run(document.catalog.get("Pages"))
    except ReadError:
        raise
    except Exception:
        return  # damaged beyond pdfminer, or it needs a password: pdfium decides


class _Document(PDFDocument):
    """pdfminer's document, with the streams pdfminer inflates whole (object streams, cross-reference
    streams) measured first."""

    def _get_objects(self, stream: PDFStream):
        if _over(stream, MAX_PDF_STREAM_BYTES):
            raise _stream_error(f"an object stream (object {stream.objid})")
        return super()._get_objects(stream)

    def read_xref_from(self, parser: PDFParser, start: int, xrefs: list) -> None:
        parser.seek(start)
        parser.reset()
        (_, token) = parser.nexttoken()
        if isinstance(token, int):  # `N 0 obj`: a cross-reference stream
            parser.nexttoken()
            parser.nexttoken()
            (_, stream) = parser.nextobject()
            if isinstance(stream, PDFStream) and _over(stream, MAX_PDF_STREAM_BYTES):
                raise _stream_error(f"the cross-reference stream (object {token})")
        super().read_xref_from(parser, start, xrefs)


def _stream_error(what: str) -> ReadError:
    return ReadError(
        f"{what} inflates to over {_mb(MAX_PDF_STREAM_BYTES)}, far beyond a notice: "
        "a decompression bomb or a damaged file; not ingested: get a fresh copy"
    )


class _Walk:
    def __init__(self) -> None:
        self.seen: set[int] = set()  # ids of resource dicts and streams measured (pdfminer caches the objects)

    def run(self, root: object) -> None:
        for number, (page, resources) in enumerate(self._pages(root), 1):
            if number > active().pdf_pages:
                return  # refused by its page count
            if page is None:
                continue  # not a dictionary: pdfium counts it as a page it cannot load
            try:
                self._check_page(number, page, resources)
            except ReadError:
                raise
            except Exception:
                continue  # pdfminer cannot read this page's objects; pdfium may

    # --- the page tree ---------------------------------------------------------------

    def _pages(self, root: object) -> Iterator[tuple[dict | None, object]]:
        """(page dictionary, inherited resources) in order, as pdfium numbers pages.

        As in pdfium, a node with /Kids is a node of the tree and one without is a
        page, and a kid that is not a dictionary still takes a page number.
        """
        root_id, node = _deref(root)
        if not isinstance(node, dict):
            return
        if not isinstance(_resolve(node.get("Kids")), list):
            yield node, node.get("Resources")
            return
        walked: set[int] = set()  # a node listed twice is walked once
        on_path = {root_id}
        stack = [(root_id, node.get("Resources"), iter(_resolve(node.get("Kids"))))]
        end = object()
        while stack:
            node_id, resources, kids = stack[-1]
            kid = next(kids, end)
            if kid is end:
                stack.pop()
                on_path.discard(node_id)
                walked.add(node_id)
                continue
            kid_id, kid_node = _deref(kid)
            if kid_id in on_path:
                raise ReadError(
                    f"the page tree loops at object {kid_id} (a /Kids entry points back at a node above it); "
                    "the file is damaged: re-export it or get a fresh copy"
                )
            if not isinstance(kid_node, dict):
                yield None, None
                continue
            inherited = kid_node.get("Resources", resources)
            kids_of_kid = _resolve(kid_node.get("Kids"))
            if not isinstance(kids_of_kid, list):
                yield kid_node, inherited
            elif kid_id not in walked:
                on_path.add(kid_id)
                stack.append((kid_id, inherited, iter(kids_of_kid)))

    # --- one page --------------------------------------------------------------------

    def _check_page(self, number: int, page: dict, resources: object) -> None:
        contents = _resolve(page.get("Contents"))
        streams = [s for s in map(_resolve, contents if isinstance(contents, list) else [contents])
                   if isinstance(s, PDFStream)]
        most = budget = active().pdf_page_content_mb * 2**20
        if sum(_bound(s) for s in streams) > budget:
            for stream in streams:
                budget -= _size(stream, budget)
                if budget < 0:
                    raise ReadError(
                        f"page {number}'s content inflates to over {_mb(most)} "
                        "(a page of a notice: tens of KB): a decompression bomb or a damaged file; "
                        f"not ingested: get a fresh copy or re-export it ({raise_hint('pdf_page_content_mb')})"
                    )
        self._check_resources(number, resources)

    def _check_resources(self, number: int, resources: object) -> None:
        """The form XObjects a page (or a form) can draw, each measured once per document."""
        todo = [resources]
        while todo:
            resources = _resolve(todo.pop())
            if not isinstance(resources, dict) or id(resources) in self.seen:
                continue
            self.seen.add(id(resources))
            xobjects = _resolve(resources.get("XObject"))
            for xobject in (xobjects.values() if isinstance(xobjects, dict) else ()):
                stream = _resolve(xobject)
                if not isinstance(stream, PDFStream) or not self._new(stream):
                    continue
                if _resolve(stream.get("Subtype")) is _FORM:
                    self._limit(stream, active().pdf_page_content_mb * 2**20, number, f"a form XObject (object {stream.objid})")
                    todo.append(stream.get("Resources"))
                else:
                    stream.rawdata, stream.data = None, b""  # an image: never decoded to read text; let pdfminer drop it

    def _new(self, stream: PDFStream) -> bool:
        if id(stream) in self.seen:
            return False
        self.seen.add(id(stream))
        return True

    @staticmethod
    def _limit(stream: PDFStream, limit: int, number: int, what: str) -> None:
        if _over(stream, limit):
            raise ReadError(
                f"page {number}: {what} inflates to over {_mb(limit)}, far beyond a notice: "
                "a decompression bomb or a damaged file; not ingested: get a fresh copy or re-export it"
            )


# --- measuring a stream without keeping what it inflates to --------------------------------


def _over(stream: PDFStream, limit: int) -> bool:
    return _bound(stream) > limit and _size(stream, limit) > limit


def _filters(stream: PDFStream) -> list:
    try:
        return [f for f, _ in stream.get_filters()]
    except Exception:
        return []


def _bound(stream: PDFStream) -> int:
    """The most the stream can decode to, from its raw size and its filters, without decoding it."""
    size = len(stream.rawdata) if stream.rawdata is not None else len(stream.data or b"")
    for f in _filters(stream):
        if f not in _RATIO:
            break  # an image codec or unknown: nothing reading text inflates
        size *= _RATIO[f]
    return size


def _size(stream: PDFStream, limit: int) -> int:
    """What the stream decodes to, in bytes, counted up to just past `limit`."""
    if stream.rawdata is None:
        return len(stream.data or b"")
    raw = stream.rawdata
    if stream.decipher is not None and stream.objid is not None:
        raw = stream.decipher(stream.objid, stream.genno, raw, stream.attrs)
    chunks: Iterator[bytes] = iter([raw])
    for f in _filters(stream):
        if f in LITERALS_FLATE_DECODE:
            chunks = _inflate(chunks)
        elif f in LITERALS_LZW_DECODE:
            chunks = _joined(chunks, limit, _lzw)
        elif f in LITERALS_RUNLENGTH_DECODE:
            chunks = _joined(chunks, limit, _run_length)
        elif f in LITERALS_ASCII85_DECODE:
            chunks = _joined(chunks, limit, lambda data: iter([ascii85decode(data)]))
        elif f in LITERALS_ASCIIHEX_DECODE:
            chunks = _joined(chunks, limit, lambda data: iter([asciihexdecode(data)]))
        else:
            break
    total = 0
    try:
        for chunk in chunks:
            total += len(chunk)
            if total > limit:
                break
    except _Over:
        return limit + 1
    except Exception:
        pass  # damaged data: pdfium stops there too
    return total


class _Over(Exception):
    """Data between two filters already beyond the limit."""


def _joined(chunks: Iterator[bytes], limit: int, decode) -> Iterator[bytes]:
    """`decode` on the chunks joined, for a decoder that needs all its input (never over `limit` bytes)."""
    data = bytearray()
    for chunk in chunks:
        data += chunk
        if len(data) > limit:
            raise _Over
    yield from decode(bytes(data))


def _inflate(chunks: Iterator[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj()
    try:
        for data in chunks:
            view = memoryview(data)
            for start in range(0, len(view), _FEED):
                piece = view[start:start + _FEED]
                while True:
                    out = inflater.decompress(piece, CHUNK)
                    if out:
                        yield out
                    piece = inflater.unconsumed_tail
                    if inflater.eof or (not piece and len(out) < CHUNK):
                        break
                if inflater.eof:
                    return
    except zlib.error:
        return  # corrupt from here on: pdfium keeps what came before, and so does the count


def _lzw(data: bytes) -> Iterator[bytes]:
    yield from LZWDecoder(io.BytesIO(data)).run()


def _run_length(data: bytes) -> Iterator[bytes]:
    """PDF RunLengthDecode, a run at a time."""
    k = 0
    while k < len(data):
        length = data[k]
        if length == 128:
            return
        if length < 128:
            yield data[k + 1:k + 2 + length]
            k += 2 + length
        else:
            yield data[k + 1:k + 2] * (257 - length)
            k += 2


# --- objects -----------------------------------------------------------------------


def _resolve(obj: object) -> object:
    """An object with references followed (a chain of references too, but not round in a loop)."""
    for _ in range(32):
        if not isinstance(obj, PDFObjRef):
            return obj
        try:
            obj = obj.resolve()
        except ReadError:
            raise  # an object stream over the limit
        except Exception:
            return None
    return None


def _deref(obj: object) -> tuple[int, object]:
    """(object number, or id() of a direct object; the object)."""
    key = obj.objid if isinstance(obj, PDFObjRef) else id(obj)
    return key, _resolve(obj)


def _mb(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MB"
