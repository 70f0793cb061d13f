"""OCR of PDF pages that have no usable text layer (scans, fonts without a Unicode map).

The engine (rapidocr 3: PP-OCRv6 small detection and recognition models
shipped inside the wheel, run by onnxruntime on the CPU; why this one: README,
*Scanned PDFs*) is imported and loaded only when a page needs it, so a batch
without scans never pays its start and memory.

What the engine returns is a set of text boxes in no useful order. The page's
lines are rebuilt from them here, as a person reads the page:

- boxes whose vertical middles fall within each other's height are one line,
  read left to right; a wide gap between two boxes stays one space (the
  signature block's side-by-side names), a large glyph centred on a line
  (the banner's 文件) joins that line;
- two columns (a gap at the same place in most lines) are read one after the other;
- text of a red seal stamped over the date comes back as short, tilted,
  low-confidence boxes: a box much smaller than the body's lines, or tilted,
  is dropped;
- brackets and punctuation are normalized to the full-width forms the
  text reader sees (OCR mixes `(1)` and `（一）`, `:` and `：`), the 发文字号's
  year brackets to 〔〕, and spaces the engine put between CJK characters go.

Each line keeps its recognition confidence (the mean of its boxes, weighted by
length), so the reader can cite it and the extractor can warn on weak items.
"""

from __future__ import annotations

import os
import statistics
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import regex

ENGINE = "rapidocr 3 (PP-OCRv6 small, onnxruntime)"
RENDER_DPI = 200  # scans of notices are 200–300 dpi; PP-OCR reads 10.5-pt text well from 200

MODES = ("auto", "off", "force")

_local = threading.local()  # one engine per thread: the engine keeps per-call state (its resize step)
_loaded = False
# Told of each page recognized: (pages done, pages to do). The ingest's workers report it to the progress bar.
on_page: Callable[[int, int], None] | None = None


@dataclass
class OcrLine:
    """One rebuilt line of a page, in pixels of the rendered page (y down)."""

    text: str
    left: float
    right: float
    top: float
    bottom: float
    confidence: float


def engine():
    """This thread's OCR engine, loaded on first use."""
    global _loaded
    found = getattr(_local, "engine", None)
    if found is None:
        _allow_ocr_memory()
        from rapidocr import RapidOCR

        # The models shipped in the wheel (rapidocr/models/): PP-OCRv6 small detection and
        # recognition, the v2 direction classifier. rapidocr downloads a model only when its file
        # is missing, which for these it never is. One onnxruntime thread per engine: pages run in
        # parallel instead (recognize_pages), which keeps both cores busy through the parts of a
        # page that are Python and OpenCV, not the model.
        found = _local.engine = RapidOCR(params={
            "Global.log_level": "warning",
            "EngineConfig.onnxruntime.intra_op_num_threads": 1,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        })
        _loaded = True
    return found


def _allow_ocr_memory() -> None:
    """Raise this process's address-space cap (a worker's, see pipeline.ingest) to what OCR needs."""
    try:
        import resource
    except ImportError:
        return
    from pipeline.limits import OCR_MEMORY_MB_PER_WORKER

    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    # A worker holds the tokenizer's table (pipeline/worker_preload.py) besides what OCR needs: its
    # cap came on top of the table, and so does this one.
    held_mb = getattr(sys.modules.get("pipeline.worker_preload"), "WORDS_MB", 0)
    wanted = (OCR_MEMORY_MB_PER_WORKER + held_mb) * 1024 * 1024
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    resource.setrlimit(resource.RLIMIT_AS, (wanted if hard == resource.RLIM_INFINITY else min(wanted, hard), hard))


def engine_loaded() -> bool:
    """Whether this process has loaded the OCR engine (tests: a batch without scans must not)."""
    return _loaded


def page_threads() -> int:
    """Pages recognized at once: the cores this process may use (NOTICES_OCR_THREADS overrides)."""
    asked = os.environ.get("NOTICES_OCR_THREADS", "")
    if asked.isdigit() and int(asked) > 0:
        return int(asked)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def recognize_pages(pdf, indexes: list[int]) -> Iterator[tuple[int, list[OcrLine]]]:
    """The rebuilt lines of these pages of a pypdfium2 document, in page order.

    pdfium is not thread-safe, so pages are rendered here, one at a time, and recognized by
    page_threads() threads (onnxruntime and OpenCV release the GIL); at most one page per thread
    waits rendered, so memory stays ~12 MB a page in flight whatever the file's length.
    """
    from concurrent.futures import ThreadPoolExecutor

    threads = min(page_threads(), len(indexes)) or 1
    done = 0
    if on_page:
        on_page(0, len(indexes))

    def read(image) -> list[OcrLine]:
        try:
            return lines_of(recognize(image), image.shape[1])
        except Exception as exc:
            if "bad_alloc" in str(exc):  # onnxruntime out of memory: the worker reports it as such
                raise MemoryError(str(exc)) from exc
            raise

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ocr") as pool:
        pending: list = []
        for index in indexes:
            page = pdf[index]
            try:
                image = render(page)
            finally:
                page.close()
            pending.append((index, pool.submit(read, image)))
            del image
            while len(pending) > threads:
                first, future = pending.pop(0)
                yield first, future.result()
                done += 1
                if on_page:
                    on_page(done, len(indexes))
        for first, future in pending:
            yield first, future.result()
            done += 1
            if on_page:
                on_page(done, len(indexes))


def recognize(image) -> list[tuple[list[list[float]], str, float]]:
    """Raw boxes of one page image (an H×W×3 BGR array): (4 corner points, text, confidence)."""
    image = without_seals(image)
    found = _run(image)
    out = []
    for box, text, score in found:
        if _misread(box, text, score):
            # The recognizer gives up on some long lines (`梁` at 0.47 for a 27:1 line full of quotes);
            # the line alone, detected again, comes back in pieces it reads (1.0).
            again = _reread(image, box)
            if again and sum(len(t) for _, t, _ in again) > len(text):
                out.extend(again)
                continue
        if score >= MIN_SCORE:
            out.append((box, text, score))
    return out


MIN_SCORE = 0.5  # rapidocr's own cut: below it a box's text is noise


def _run(image) -> list[tuple[list[list[float]], str, float]]:
    out = engine()(image, text_score=0.0)
    if out.boxes is None:
        return []
    return [([[float(x), float(y)] for x, y in box], text, float(score))
            for box, text, score in zip(out.boxes.tolist(), out.txts, out.scores)]


def _misread(box: list[list[float]], text: str, score: float) -> bool:
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    width, height = max(xs) - min(xs), max(ys) - min(ys)
    if height <= 0 or width < 4 * height:
        return False
    return score < 0.8 or len(text) < 0.4 * width / height  # CJK glyphs are about as wide as high


def _reread(image, box: list[list[float]]) -> list[tuple[list[list[float]], str, float]]:
    xs = [p[0] for p in box]
    ys = [p[1] for p in box]
    height = max(ys) - min(ys)
    top = max(0, int(min(ys) - height))
    left = max(0, int(min(xs) - height))
    crop = image[top : int(max(ys) + height), left : int(max(xs) + height)]
    # Only what lies on the line itself: the margin also catches slivers of the lines around it.
    return [
        ([[x + left, y + top] for x, y in points], text, score)
        for points, text, score in _run(crop)
        if score >= MIN_SCORE and min(ys) <= top + sum(p[1] for p in points) / 4 <= max(ys)
    ]


def render(page, dpi: int = RENDER_DPI):
    """A pypdfium2 page as an H×W×3 BGR array (white behind transparent parts)."""
    bitmap = page.render(scale=dpi / 72, fill_color=(255, 255, 255, 255))
    image = bitmap.to_numpy()
    if image.ndim == 2:  # a grey page
        import numpy

        image = numpy.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]


def without_seals(image):
    """The page with its red round seals whitened; the red banner and rules stay.

    A seal stamped over the signature and the date turns the black text under it into
    strokes the engine misreads (18 → 48) or misses. Black printed over red stays dark, so
    whitening the red pixels of a seal leaves the text. A seal is told from the red banner by
    its shape: a red patch about as high as wide and at least ~2.5 cm across (text lines are
    wide and low; 文件 is two glyphs side by side).
    """
    import cv2
    import numpy

    b, g, r = (image[:, :, k].astype(numpy.int16) for k in range(3))
    red = ((r > 120) & (r - g > 60) & (r - b > 60)).astype(numpy.uint8)
    if red.sum() < 500:
        return image
    side = max(1, image.shape[1] // 200)
    grown = cv2.dilate(red, numpy.ones((3 * side, 3 * side), numpy.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    least = image.shape[1] * 0.12  # ~2.5 cm on an A4 page
    seals = [
        k for k in range(1, count)
        if stats[k, cv2.CC_STAT_WIDTH] >= least and stats[k, cv2.CC_STAT_HEIGHT] >= least
        and 0.7 <= stats[k, cv2.CC_STAT_WIDTH] / stats[k, cv2.CC_STAT_HEIGHT] <= 1.43
    ]
    if not seals:
        return image
    out = image.copy()
    out[(numpy.isin(labels, seals)) & (red == 1)] = 255
    return out


# --- lines from boxes ---------------------------------------------------------------


@dataclass
class _Box:
    text: str
    left: float
    right: float
    top: float
    bottom: float
    confidence: float
    tilt: float  # rise of the top edge over its run: 0 for a level line

    @property
    def height(self) -> float:
        return self.bottom - self.top

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2


def _box(points: list[list[float]], text: str, confidence: float) -> _Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    (x0, y0), (x1, y1) = points[0], points[1]
    run = abs(x1 - x0) or 1.0
    return _Box(text, min(xs), max(xs), min(ys), max(ys), confidence, abs(y1 - y0) / run)


def lines_of(raw: list[tuple[list[list[float]], str, float]], page_width: float) -> list[OcrLine]:
    """The page's lines in reading order, from the engine's boxes."""
    boxes = [_box(points, text, score) for points, text, score in raw if text.strip()]
    if not boxes:
        return []
    body = statistics.median(b.height for b in boxes)
    # Seal text: short tilted runs of a round stamp, or tiny boxes; the body's lines are level.
    boxes = [b for b in boxes if not _is_seal_text(b, body)]
    if not boxes:
        return []
    out: list[OcrLine] = []
    for column in _columns(boxes, page_width, body):
        out.extend(_rows(column, body))
    return out


def _is_seal_text(box: _Box, body: float) -> bool:
    if box.tilt > 0.12 and len(box.text) <= 8:
        return True
    return box.height < 0.45 * body and box.confidence < 0.8


def _rows(boxes: list[_Box], body: float) -> list[OcrLine]:
    """Boxes grouped into lines by their vertical middles, each read left to right."""
    rows: list[list[_Box]] = []
    # Normal-height boxes first, so a tall glyph (the banner's 文件) joins the line it is centred on.
    for box in sorted(boxes, key=lambda b: (b.height > 1.6 * body, b.middle)):
        best = None
        for row in rows:
            top = statistics.median(b.top for b in row)
            bottom = statistics.median(b.bottom for b in row)
            middle = (top + bottom) / 2
            reach = 0.5 * min(bottom - top, box.height)
            if abs(box.middle - middle) <= reach and not any(_overlaps(box, b) for b in row):
                if best is None or abs(box.middle - middle) < best[0]:
                    best = (abs(box.middle - middle), row)
        if best is None:
            rows.append([box])
        else:
            best[1].append(box)
    rows.sort(key=lambda row: statistics.median(b.middle for b in row))
    return [_line(sorted(row, key=lambda b: b.left), body) for row in rows]


def _overlaps(a: _Box, b: _Box) -> bool:
    return min(a.right, b.right) - max(a.left, b.left) > 0.5 * min(a.right - a.left, b.right - b.left)


def _line(row: list[_Box], body: float) -> OcrLine:
    text = ""
    for k, box in enumerate(row):
        piece = normalize(box.text)
        if k and box.left - row[k - 1].right > 1.5 * body:
            text += "  "  # a real gap on the page (two names side by side): wide, as text readers give it
        text += piece
    weight = sum(len(b.text) for b in row) or 1
    confidence = sum(b.confidence * len(b.text) for b in row) / weight
    return OcrLine(
        text.strip(),
        min(b.left for b in row),
        max(b.right for b in row),
        min(b.top for b in row),
        max(b.bottom for b in row),
        round(confidence, 4),
    )


def _columns(boxes: list[_Box], page_width: float, body: float) -> list[list[_Box]]:
    """Split a two-column page at the gutter most lines leave free; else the page as one column."""
    middle = page_width / 2
    narrow = [b for b in boxes if b.right - b.left < 0.45 * page_width]
    if len(boxes) < 12 or len(narrow) < 0.8 * len(boxes):
        return [boxes]
    # A gutter: an x band near the middle that no box crosses.
    for offset in range(0, int(page_width * 0.15), max(1, int(body / 2))):
        for x in (middle - offset, middle + offset):
            if not any(b.left < x < b.right for b in boxes):
                left = [b for b in boxes if b.right <= x]
                right = [b for b in boxes if b.left >= x]
                if len(left) >= 5 and len(right) >= 5:
                    return [left, right]
    return [boxes]


# --- text normalization (OCR text only) --------------------------------------------

_CJK = r"\p{Han}\u3000-\u303f\uff00-\uffef“”‘’《》"
_SPACE_BETWEEN_CJK = regex.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}\d])|(?<=[{_CJK}\d])[ \t\u3000]+(?=[{_CJK}])")
_YEAR_BRACKETS = regex.compile(r"[\[【［〔(（]\s*((?:19|20)\d\d)\s*[\]】］〕)）](?=\s*第?\s*\d{1,4}\s*号)")
_HALF_TO_FULL = {"(": "（", ")": "）", ":": "：", ";": "；", "?": "？", "!": "！"}
_COMMA_AFTER_CJK = regex.compile(rf"(?<=[{_CJK}]),|,(?=[{_CJK}])")
_PERIOD_AFTER_CJK = regex.compile(r"(?<=\p{Han})\.(?!\d)")


def normalize(text: str) -> str:
    """OCR text as the text reader would give it: full-width brackets and punctuation, no spaces between CJK."""
    text = _SPACE_BETWEEN_CJK.sub("", text.strip())
    text = _YEAR_BRACKETS.sub(r"〔\1〕", text)
    text = "".join(_HALF_TO_FULL.get(ch, ch) for ch in text)
    text = _COMMA_AFTER_CJK.sub("，", text)
    return _PERIOD_AFTER_CJK.sub("。", text)
