"""Scanned notices read by OCR (issue 17), on the real scans in ../shared and their reviewed transcripts.

OCR is the slow part (seconds a page), so each file is recognized once per module: the
bc62040f fixture keeps its pages' lines and replays them into the reader for the parse
(everything after recognition runs for real); 34e802e5 is ingested once, whole.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import ocr
from pipeline.ocr_accuracy import character_accuracy, edit_distance
from tests.conftest import ROOT, SHARED

FIXTURES = ROOT / "tests" / "fixtures" / "ocr"
REAL = SHARED / "corpus" / "real"
SCAN = REAL / "bc62040f08261b1491db7950d5b83b992a53edfe07f94d15b93d75adb1c4777a.pdf"
GAZETTE = REAL / "34e802e5ed1100c28ccd24d8b99a39fcafedbcc107eca899b8ace3db6dabc572.pdf"
GENERATED = SHARED / "corpus" / "generated" / "000_69453124e71ca7c9.pdf"

needs_shared = pytest.mark.skipif(not SCAN.exists(), reason="../shared/corpus/real is not beside the project")


# --- the metric and the text rules, without the engine ---------------------------------------------


def test_edit_distance_and_accuracy():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    # Whitespace is not compared: the transcripts' spacing choices are not characters read.
    assert character_accuracy("长 沙 县\n财政局", "长沙县财政局") == 1.0
    assert character_accuracy("长沙县财政司", "长沙县财政局") == pytest.approx(1 - 1 / 6)


def test_normalize_brackets_punctuation_and_cjk_spaces():
    assert ocr.normalize("长县住建发[2022］68号") == "长县住建发〔2022〕68号"
    assert ocr.normalize("(责任单位:县住建局)") == "（责任单位：县住建局）"
    assert ocr.normalize("若 干 措 施 》 的 通 知") == "若干措施》的通知"
    assert ocr.normalize("2023 年 5 月 23 日") == "2023年5月23日"
    assert ocr.normalize("营商环境4.0版本,审批") == "营商环境4.0版本，审批"


def test_lines_rebuilt_from_boxes_in_reading_order():
    def box(x0, y0, x1, y1, text, score=0.99):
        return ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text, score)

    raw = [
        box(660, 480, 990, 540, "长沙县财政局"),  # signature block: three names side by side …
        box(180, 480, 480, 540, "长沙县住房"),
        box(1180, 480, 1400, 540, "长沙县"),
        box(1170, 560, 1400, 620, "自然资源局"),  # … two of them wrapped
        box(170, 560, 490, 620, "和城乡建设局"),
        box(1060, 640, 1400, 690, "2022年8月18日"),
        box(240, 170, 510, 220, "(此页无正文)"),
    ]
    lines = ocr.lines_of(raw, 1653)
    assert [line.text for line in lines] == [
        "（此页无正文）", "长沙县住房  长沙县财政局  长沙县", "和城乡建设局  自然资源局", "2022年8月18日",
    ]
    # A large glyph centred on a line (the banner's 文件) joins that line.
    banner = [box(170, 290, 1280, 430, "长沙县住房和城乡建设局"), box(140, 440, 1270, 560, "长沙县财政局"),
              box(1300, 380, 1580, 650, "文件"), box(170, 690, 1280, 820, "长沙县自然资源局")]
    assert [line.text for line in ocr.lines_of(banner, 1653)] == [
        "长沙县住房和城乡建设局", "长沙县财政局文件", "长沙县自然资源局",
    ]


def test_progress_shows_pages_recognized():
    from rich.console import Console

    from pipeline.progress import Reporter

    out = io.StringIO()
    reporter = Reporter(verbose=True, err=Console(file=out, width=80))
    reporter.pages_recognized("/data/scans/a.pdf", 3, 6)
    reporter.pages_recognized("/data/scans/a.pdf", 6, 6)
    assert out.getvalue().strip().endswith("a.pdf: 6 pages read by OCR")
    assert out.getvalue().count("recognized") == 1


def test_two_columns_are_read_one_after_the_other():
    def box(x0, y0, x1, y1, text):
        return ([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], text, 0.99)

    left = [box(100, 200 + 60 * k, 780, 245 + 60 * k, f"左栏第{k + 1}行") for k in range(8)]
    right = [box(880, 200 + 60 * k, 1560, 245 + 60 * k, f"右栏第{k + 1}行") for k in range(8)]
    lines = ocr.lines_of(right + left, 1654)
    assert [line.text for line in lines] == [f"左栏第{k}行" for k in range(1, 9)] + [f"右栏第{k}行" for k in range(1, 9)]
    # One full-width line (a title over both columns, a body line) and the page is one column.
    lines = ocr.lines_of(left + right + [box(100, 100, 1560, 150, "通栏标题")], 1654)
    assert lines[0].text == "通栏标题" and lines[1].text.startswith("左栏第1行")


# --- the real scan, recognized once -------------------------------------------------------------


@pytest.fixture(scope="module")
def scan_pages():
    """bc62040f's pages as OCR rebuilds them: {page index: [OcrLine]} (one OCR run for the module)."""
    if not SCAN.exists():
        pytest.skip("../shared/corpus/real is not beside the project")
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(SCAN.read_bytes())
    try:
        return dict(ocr.recognize_pages(pdf, list(range(len(pdf)))))
    finally:
        pdf.close()


@pytest.fixture(scope="module")
def scan_document(scan_pages):
    """bc62040f parsed through the PDF reader, its OCR lines replayed from scan_pages."""
    from pipeline.ingest import parse_file

    real = ocr.recognize_pages
    ocr.recognize_pages = lambda pdf, indexes: ((k, scan_pages[k]) for k in indexes)
    try:
        return parse_file(SCAN)
    finally:
        ocr.recognize_pages = real


@needs_shared
def test_scan_character_accuracy_against_the_transcript(scan_pages):
    text = "\n\f\n".join("\n".join(line.text for line in scan_pages[k]) for k in sorted(scan_pages))
    reference = (FIXTURES / "bc62040f.txt").read_text(encoding="utf-8")
    accuracy = character_accuracy(text, reference)
    assert accuracy >= 0.98, f"character accuracy {accuracy:.4f}"
    # Every line carries the engine's confidence.
    assert all(0 < line.confidence <= 1 for lines in scan_pages.values() for line in lines)


@needs_shared
def test_scan_parse_gives_the_transcripts_facts(scan_document):
    doc = scan_document
    assert doc.page_count == 6
    assert doc.doc_number.raw == "长县住建发〔2022〕68号"
    assert (doc.doc_number.organ_code, doc.doc_number.year, doc.doc_number.serial) == ("长县住建发", 2022, 68)
    assert str(doc.date) == "2022-08-18"
    assert doc.recipients == "各相关单位"
    assert doc.sections == []  # the notice has no 一、 or （一） headings
    # 12 items, each with its one （责任单位：…） clause: 33 mentions, as the notes count them.
    expected_units = [
        ["县自然资源局", "县住建局", "县重点建设项目事务中心"],
        ["县自然资源局", "县住建局", "县财政局", "县税务局", "县商务局"],
        ["县自然资源局", "县住建局", "县行政审批服务局"],
        ["县自然资源局", "县住建局"],
        ["县自然资源局", "县住建局"],
        ["县自然资源局", "县住建局"],
        ["县住建局"],
        ["县住建局"],
        ["县住建局"],
        ["县教育局", "县自然资源局", "县住建局"],
        ["县财政局", "县住建局", "县自然资源局", "县税务局"],
        ["县委组织部", "区干部人事人才局", "县住建局", "县人社局", "县教育局", "县卫健局"],
    ]
    assert [i.number for i in doc.items] == list(range(1, 13))
    assert [[m.raw_text for m in i.responsible_units] for i in doc.items] == expected_units
    assert sum(len(i.responsible_units) for i in doc.items) == 33
    assert doc.items[0].text.startswith("有序供应土地。")
    assert doc.items[10].span.pages == [5, 6]  # item 11's date is cut by the page break
    # Provenance: read by OCR, with confidence per item and for the document.
    assert doc.ocr is not None and doc.ocr.pages == [1, 2, 3, 4, 5, 6]
    assert 0.9 < doc.ocr.mean_confidence <= 1
    assert all(i.ocr_confidence is not None for i in doc.items)
    assert any(w.field == "ocr" and "pages 1-6 read by OCR" in w.message for w in doc.warnings)


@needs_shared
def test_the_scans_confidence_is_stored_with_its_document_and_items(scan_document, tmp_path):
    from pipeline.store import Store

    with Store.open(tmp_path / "scan.duckdb") as store:
        store.write_documents([(scan_document, None)], store.start_run([str(SCAN)]))
        pages, confidence = store.con.execute("SELECT ocr_pages, ocr_confidence FROM documents").fetchone()
        items, read, lowest = store.con.execute(
            "SELECT count(*), count(ocr_confidence), min(ocr_confidence) FROM items").fetchone()
    assert pages == 6 and confidence == pytest.approx(scan_document.ocr.mean_confidence) and confidence > 0.85
    assert items == 12 and read == 12 and 0 < lowest <= 1.0


@needs_shared
def test_scan_title_and_issuers(scan_document):
    doc = scan_document
    issuers = ["长沙县住房和城乡建设局", "长沙县财政局", "长沙县自然资源局"]
    assert doc.issuers == issuers
    assert doc.title == "".join(issuers) + "关于印发《关于促进长沙县房地产市场平稳健康发展的若干措施》的通知"


@needs_shared
def test_ocr_off_refuses_the_scan_with_one_line():
    result = subprocess.run(
        [sys.executable, "-m", "cli", "parse", str(SCAN), "--ocr", "off"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "--ocr auto" in result.stderr and SCAN.name in result.stderr


# --- the gazette edition with a garbage text layer: ingested whole, once ----------------------------


@pytest.fixture(scope="module")
def gazette_db(tmp_path_factory):
    if not GAZETTE.exists():
        pytest.skip("../shared/corpus/real is not beside the project")
    import duckdb

    from pipeline.ingest import ingest

    db = tmp_path_factory.mktemp("ocr") / "gazette.duckdb"
    told = []  # what the worker told of the pages it recognized (the progress bar's feed)
    report = ingest([GAZETTE], db, workers=2, on_pages=lambda path, done, total: told.append((path, done, total)))
    con = duckdb.connect(str(db), read_only=True)
    yield report, con, told
    con.close()


@needs_shared
def test_gazette_ingests_with_a_warning_and_its_first_pages_facts(gazette_db):
    report, con, told = gazette_db
    assert report.counts["new"] == 1 and report.counts["failed"] == 0
    # The worker process told the supervisor of each page recognized, in order, 0 to 8 of 8.
    assert [(done, total) for _, done, total in told] == [(k, 8) for k in range(9)]
    assert told[0][0].endswith(GAZETTE.name)
    row = con.execute(
        "SELECT title, doc_number, doc_number_organ, doc_number_year, doc_number_serial, issuer, issued_date, "
        "page_count FROM documents WHERE is_current"
    ).fetchone()
    assert row[0] == "北京市人民政府办公厅关于印发《北京市促进通用人工智能创新发展的若干措施》的通知"
    assert row[1:5] == ("京政办发〔2023〕15号", "京政办发", 2023, 15)
    assert row[5] == "北京市人民政府办公厅"
    assert str(row[6]) == "2023-05-23"
    assert row[7] == 8
    warnings = [m for (m,) in con.execute("SELECT message FROM document_warnings WHERE field = 'ocr'").fetchall()]
    assert any("pages 1-8 read by OCR (text layer unreadable" in m for m in warnings)
    # What OCR read is in the database researchers query, not only in the warning's words.
    pages, confidence = con.execute("SELECT ocr_pages, ocr_confidence FROM documents WHERE is_current").fetchone()
    assert pages == 8 and 0.85 < confidence <= 1.0


@needs_shared
def test_gazette_first_two_pages_against_their_transcript():
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(GAZETTE.read_bytes())
    try:
        pages = dict(ocr.recognize_pages(pdf, [0, 1]))
    finally:
        pdf.close()
    text = "\n\f\n".join("\n".join(line.text for line in pages[k]) for k in (0, 1))
    reference = (FIXTURES / "34e802e5_p1-2.txt").read_text(encoding="utf-8")
    assert character_accuracy(text, reference) >= 0.97


# --- a synthetic scan: a generated PDF's pages as images only ------------------------------------


def _image_only_pdf(pdf_path: Path) -> bytes:
    """The PDF's pages rendered at 200 dpi and saved again as a PDF of images (no text layer)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(pdf_path.read_bytes())
    try:
        images = [pdf[k].render(scale=200 / 72).to_pil().convert("RGB") for k in range(len(pdf))]
    finally:
        pdf.close()
    out = io.BytesIO()
    images[0].save(out, format="PDF", save_all=True, append_images=images[1:], resolution=200)
    return out.getvalue()


@needs_shared
def test_synthetic_scan_gives_the_text_pdfs_items_and_units(tmp_path):
    from pipeline.ingest import parse_file

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(_image_only_pdf(GENERATED))
    text_doc = parse_file(GENERATED)
    scan_doc = parse_file(scan)
    assert scan_doc.ocr is not None and scan_doc.ocr.pages == list(range(1, text_doc.page_count + 1))
    assert [i.key for i in scan_doc.items] == [i.key for i in text_doc.items]

    def mentions(doc):
        return [(i.key, m.raw_text, m.role) for i in doc.items for m in i.responsible_units]

    from collections import Counter

    expected, got = Counter(mentions(text_doc)), Counter(mentions(scan_doc))
    # A mention differs when one side lacks it (a misread name is one missing and one extra: counted once).
    differing = max(sum((expected - got).values()), sum((got - expected).values()))
    total = sum(expected.values())
    assert total == 129
    assert differing <= 0.02 * total, f"{differing} of {total} unit mentions differ"


# --- the engine is loaded only for a page that needs it ---------------------------------------------


def test_a_batch_without_scans_does_not_load_the_engine(tmp_path):
    """Ingest the seeds (their PDFs included) in a fresh interpreter: the engine is never imported."""
    generated = sorted((SHARED / "corpus" / "generated").glob("*.pdf"))[:2] if SHARED.is_dir() else []
    code = (
        "import sys\n"
        "from pipeline.ingest import ingest\n"
        "from pipeline import ocr\n"
        f"report = ingest(['data/raw', *{[str(p) for p in generated]!r}], {str(tmp_path / 'b.duckdb')!r}, workers=1)\n"
        "assert report.counts['failed'] == 0, report.failures\n"
        "loaded = [m for m in ('rapidocr', 'onnxruntime', 'cv2') if m in sys.modules]\n"
        "print(','.join(loaded) or 'none', ocr.engine_loaded())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "none False"


def test_no_network_needed_for_the_models():
    """The models the engine uses are files inside the installed package (nothing to download)."""
    import importlib.util

    spec = importlib.util.find_spec("rapidocr")
    assert spec is not None and spec.origin
    models = Path(spec.origin).parent / "models"
    names = {p.name for p in models.glob("*.onnx")}
    assert {"PP-OCRv6_det_small.onnx", "PP-OCRv6_rec_small.onnx", "ch_ppocr_mobile_v2.0_cls_mobile.onnx"} <= names
    assert re.search(r"PP-OCRv6", ocr.ENGINE)


def test_the_engine_loads_and_reads_with_the_network_closed(tmp_path):
    """In a network namespace of its own (no network at all), the engine loads its packaged models and reads."""
    import shutil

    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-n", "true"], capture_output=True).returncode != 0:
        pytest.skip("cannot make a network namespace here (needs unshare and root)")
    code = (
        "import numpy, cv2\n"
        "from pipeline import ocr\n"
        "image = numpy.full((200, 900, 3), 255, numpy.uint8)\n"
        "cv2.putText(image, 'NOTICE 2023 No 15', (20, 120), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 4)\n"
        "print(''.join(line.text for line in ocr.lines_of(ocr.recognize(image), 900)))\n"
    )
    result = subprocess.run([unshare, "-n", sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "2023" in result.stdout
