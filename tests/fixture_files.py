"""Bad and tiny input files made in the tests, so they need no tool outside the repo.

`zip_bomb` is a .docx-shaped archive that inflates far beyond any notice.
`make_pdf` writes one page per entry of `pages` (Latin text in Helvetica, an
image-only page, or raw drawing operators such as `ruled_table` makes), optionally encrypted with the PDF standard security
handler (revision 2, 40-bit RC4), the scheme of many older government PDFs.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
import zlib

_PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
_ID = b"0123456789abcdef"


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) % 256
        s[i], s[j] = s[j], s[i]
    out, i, j = bytearray(), 0, 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + s[i]) % 256
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) % 256])
    return bytes(out)


def _padded(password: bytes) -> bytes:
    return (password + _PAD)[:32]


def _security(user: bytes, owner: bytes, permissions: int = -44) -> tuple[bytes, bytes, bytes, int]:
    """(file key, O, U, P) per PDF 1.7 algorithms 2-4, revision 2."""
    owner_key = hashlib.md5(_padded(owner or user)).digest()[:5]
    o_entry = rc4(owner_key, _padded(user))
    p_bytes = (permissions & 0xFFFFFFFF).to_bytes(4, "little")
    key = hashlib.md5(_padded(user) + o_entry + p_bytes + _ID).digest()[:5]
    u_entry = rc4(key, _PAD)
    return key, o_entry, u_entry, permissions


def make_pdf(
    pages: list[str | bytes | None],
    *,
    user_password: bytes | None = None,
    owner_password: bytes = b"owner",
    form: bytes | None = None,
    size: tuple[float, float] = (595, 842),
    cjk: bool = False,
) -> bytes:
    """A PDF whose page k shows the lines of pages[k] (str), draws it (bytes: content operators, font /F1),
    or shows an image only (None). `form`: operators of a form XObject that drawn pages can show as /Fm1.
    `size`: the pages' width and height in points. `cjk`: /F1 is Adobe's STSong-Light (not embedded:
    pdfium maps its codes to Unicode itself), so str pages may be Chinese."""
    objects: dict[int, bytes] = {}
    key = None
    encrypt_ref = b""
    if user_password is not None:
        key, o_entry, u_entry, perms = _security(user_password, owner_password)

    def stream(number: int, body: bytes, extra: bytes = b"") -> bytes:
        if key is not None:
            body = rc4(hashlib.md5(key + number.to_bytes(3, "little") + b"\0\0").digest()[:10], body)
        return b"<< /Length %d %s >>\nstream\n" % (len(body), extra) + body + b"\nendstream"

    kids = []
    next_number = 4
    for content in pages:
        page_no, content_no = next_number, next_number + 1
        next_number += 2
        if content is None:
            image_no = next_number
            next_number += 1
            pixels = zlib.compress(bytes([200, 30, 30]) * (40 * 40))
            objects[image_no] = stream(
                image_no, pixels,
                b"/Type /XObject /Subtype /Image /Width 40 /Height 40 /ColorSpace /DeviceRGB "
                b"/BitsPerComponent 8 /Filter /FlateDecode",
            )
            draw = b"q 400 0 0 400 100 300 cm /Im1 Do Q"
            resources = b"<< /XObject << /Im1 %d 0 R >> >>" % image_no
        elif isinstance(content, bytes):
            draw = content
            resources = b"<< /Font << /F1 3 0 R >> >>"
            if form is not None:
                form_no = next_number
                next_number += 1
                objects[form_no] = stream(
                    form_no, form, b"/Type /XObject /Subtype /Form /BBox [0 0 595 842] /Resources " + resources
                )
                resources = b"<< /Font << /F1 3 0 R >> /XObject << /Fm1 %d 0 R >> >>" % form_no
        else:
            ops = [b"BT /F1 14 Tf 72 760 Td 18 TL"]
            for line in content.split("\n"):
                if cjk:
                    ops.append(b"<" + line.encode("utf-16-be").hex().encode() + b"> Tj T*")
                    continue
                escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                ops.append(b"(" + escaped.encode("latin-1") + b") Tj T*")
            ops.append(b"ET")
            draw = b"\n".join(ops)
            resources = b"<< /Font << /F1 3 0 R >> >>"
        objects[content_no] = stream(content_no, draw)
        objects[page_no] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %g %g] /Contents %d 0 R /Resources %s >>"
            % (*size, content_no, resources)
        )
        kids.append(page_no)
    objects[1] = b"<< /Type /Catalog /Pages 2 0 R >>"
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids),
        len(kids),
    )
    objects[3] = _STSONG if cjk else b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    if key is not None:
        encrypt_no = next_number
        objects[encrypt_no] = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>" % (
            o_entry.hex().encode(),
            u_entry.hex().encode(),
            perms,
        )
        encrypt_ref = b" /Encrypt %d 0 R" % encrypt_no

    return write_pdf(objects, b" /ID [<%s> <%s>]%s" % (_ID.hex().encode(), _ID.hex().encode(), encrypt_ref))


_STSONG = (
    b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts "
    b"[<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /DW 1000 "
    b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
    b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [0 -200 1000 900] "
    b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >> >>] >>"
)


def write_pdf(objects: dict[int, bytes], trailer: bytes = b"", root: int = 1) -> bytes:
    """A PDF file of numbered objects (their bodies, without `N 0 obj`), with its xref table."""
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref = len(out)
    size = max(objects) + 1
    out += b"xref\n0 %d\n0000000000 65535 f \n" % size
    for number in range(1, size):
        out += b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n"
    out += b"trailer\n<< /Size %d /Root %d 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (size, root, trailer, xref)
    return bytes(out)


def text_at(x: float, y: float, text: str, size: int = 11) -> bytes:
    """Operators showing `text` (Latin) with its baseline starting at (x, y)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /F1 %d Tf %.1f %.1f Td (%s) Tj ET" % (size, x, y, escaped.encode("latin-1"))


def ruled_table(rows: list[list[str | None]], style: str, columns=(72, 160, 360, 520), top=700, row_height=24) -> bytes:
    """Operators drawing a table with text in its cells.

    style: "lines" (each rule a stroked line), "boxes" (each cell a stroked
    rectangle) or "bars" (each rule a thin filled rectangle, as some PDF
    writers draw borders). A None cell is merged into the cell above it: the
    rule between them is not drawn.
    """
    ops: list[bytes] = [b"0.5 w"]
    bottom = top - row_height * len(rows)

    def hline(x0, x1, y):
        if style == "bars":
            ops.append(b"%.1f %.1f %.1f 0.6 re f" % (x0, y - 0.3, x1 - x0))
        else:
            ops.append(b"%.1f %.1f m %.1f %.1f l S" % (x0, y, x1, y))

    def vline(x, y0, y1):
        if style == "bars":
            ops.append(b"%.1f %.1f 0.6 %.1f re f" % (x - 0.3, y0, y1 - y0))
        else:
            ops.append(b"%.1f %.1f m %.1f %.1f l S" % (x, y0, x, y1))

    for r, row in enumerate(rows):
        y1 = top - r * row_height
        for c, text in enumerate(row):
            x0, x1 = columns[c], columns[c + 1]
            if style == "boxes":
                if text is not None:
                    span = 1
                    while r + span < len(rows) and rows[r + span][c] is None:
                        span += 1
                    ops.append(b"%.1f %.1f %.1f %.1f re S" % (x0, y1 - span * row_height, x1 - x0, span * row_height))
            elif text is not None:
                hline(x0, x1, y1)  # the rule above the cell; none above a merged continuation
            if text:
                ops.append(text_at(x0 + 4, y1 - row_height + 8, text))
    if style != "boxes":
        hline(columns[0], columns[-1], bottom)
        for x in columns:
            vline(x, bottom, top)
    return b"\n".join(ops)


def zip_bomb(megabytes: int = 250) -> bytes:
    """A small zip whose word/document.xml inflates to `megabytes` MB of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (megabytes * 1024 * 1024))
    return buffer.getvalue()


def grid(n: int, spacing: float = 5.0, left: float = 50.0, bottom: float = 50.0) -> bytes:
    """Operators drawing n horizontal and n vertical rules, each crossing all the others: n² crossings."""
    span = spacing * (n - 1)
    ops = [b"0.3 w"]
    for k in range(n):
        at = k * spacing
        ops.append(b"%g %g m %g %g l S" % (left, bottom + at, left + span, bottom + at))
        ops.append(b"%g %g m %g %g l S" % (left + at, bottom, left + at, bottom + span))
    return b"\n".join(ops)


def deflated_spaces(size: int, block: int = 1 << 20, prefix: bytes = b"") -> bytes:
    """A zlib stream that inflates to `prefix` and then `size` spaces (a multiple of `block`), ~1,000 times smaller.

    One block is compressed once and its bytes repeated: a full flush ends each
    block on a byte boundary with no reference to what came before. The Adler-32
    checksum of n equal bytes has a closed form, so nothing of `size` is ever built.
    """
    head = zlib.compressobj(9, zlib.DEFLATED, -15)
    start = head.compress(prefix) + head.flush(zlib.Z_FULL_FLUSH) if prefix else b""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(b" " * block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count = size // block
    n = count * block
    checksum = zlib.adler32(prefix)
    a, b = checksum & 0xFFFF, checksum >> 16
    a, b = (a + n * 0x20) % 65521, (b + n * a + 0x20 * n * (n + 1) // 2) % 65521
    final = b"\x03\x00"  # an empty last block (fixed Huffman codes, end of block only)
    return b"\x78\xda" + start + piece * count + final + ((b << 16) | a).to_bytes(4, "big")


def pdf_with_object_stream(padding: int, xref_padding: int = 0) -> bytes:
    """A one-page PDF 1.5 whose page tree root sits in an object stream, followed by `padding` spaces
    (inflated), with a cross-reference stream to find it (deflated, and `xref_padding` spaces after its
    rows, when that is not 0)."""
    root = b"<< /Type /Pages /Kids [10 0 R] /Count 1 >>"
    header = b"2 0 "
    packed = deflated_spaces(padding, prefix=header + root)
    content = b"BT /F1 14 Tf 72 760 Td (Packed objects) Tj ET"
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        7: b"<< /Type /ObjStm /N 1 /First %d /Filter /FlateDecode /Length %d >>\nstream\n" % (len(header), len(packed))
           + packed + b"\nendstream",
        10: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 11 0 R "
            b"/Resources << /Font << /F1 3 0 R >> >> >>",
        11: b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    }
    out = bytearray(b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n"
    xref_number, size = 12, 13
    offsets[xref_number] = len(out)
    rows = b""
    for number in range(size):
        if number == 2:
            rows += bytes([2]) + (7).to_bytes(4, "big") + (0).to_bytes(2, "big")  # in object stream 7, first
        elif number in offsets:
            rows += bytes([1]) + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big")
        else:
            rows += bytes([0]) + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")
    flate = b""
    if xref_padding:
        rows, flate = deflated_spaces(xref_padding, prefix=rows), b" /Filter /FlateDecode"
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d%s >>\nstream\n"
            % (xref_number, size, len(rows), flate) + rows + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)


def pdf_of(pages: list[list[bytes | tuple[None, bytes]]], kids: bytes | None = None, count: int | None = None,
           extra: dict[int, bytes] | None = None, resources: dict[int, bytes] | None = None) -> bytes:
    """A PDF whose page k draws the content streams pages[k]: operators, or (None, zlib data) for a
    FlateDecode stream.

    Object 2 is the page tree's root; pages are objects 10, 20, 30… (their streams 11, 12…).
    `kids`/`count` override the root's /Kids and /Count; `extra` adds or replaces objects
    (to build damaged page trees); `resources` adds entries to page k's /Resources (k from 0).
    """
    objects: dict[int, bytes] = {1: b"<< /Type /Catalog /Pages 2 0 R >>",
                                 3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"}
    numbers = []
    for k, streams in enumerate(pages, 1):
        number = 10 * k
        refs = []
        for j, stream in enumerate(streams, 1):
            extra_keys, body = (b" /Filter /FlateDecode", stream[1]) if isinstance(stream, tuple) else (b"", stream)
            objects[number + j] = b"<< /Length %d%s >>\nstream\n" % (len(body), extra_keys) + body + b"\nendstream"
            refs.append(b"%d 0 R" % (number + j))
        objects[number] = (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents [%s] "
                           b"/Resources << /Font << /F1 3 0 R >> %s>> >>"
                           % (b" ".join(refs), (resources or {}).get(k - 1, b"")))
        numbers.append(number)
    objects[2] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        kids if kids is not None else b" ".join(b"%d 0 R" % n for n in numbers),
        count if count is not None else len(numbers),
    )
    objects.update(extra or {})
    return write_pdf(objects)
