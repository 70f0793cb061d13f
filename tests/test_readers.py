"""PDF and DOCX readers: the same notice whatever its format, and clear errors on bad files."""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from extractors import extract_document
from extractors.text import compact
from pipeline.errors import ReadError
from pipeline.ingest import parse_bytes, parse_file
from pipeline.readers import read_bytes
from pipeline.readers.docx import chinese_numeral, format_number
from tests.conftest import SEED_FILES
from tests.fixture_files import make_pdf, ruled_table, text_at, zip_bomb

ROOT = Path(__file__).resolve().parents[1]
GENERATED = ROOT.parent / "shared" / "corpus" / "generated"
REAL = ROOT.parent / "shared" / "corpus" / "real"
SEEDS = sorted(p.stem for p in SEED_FILES)

FIXTURES = ROOT / "tests" / "fixtures" / "renderings"

needs_generated = pytest.mark.skipif(not GENERATED.is_dir(), reason="../shared/corpus/generated is absent")
needs_real = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/corpus/real is absent")


def summary(doc):
    """What must not depend on the format. Item text is compared after the
    extractor's cleaning, whitespace-insensitively: the text seeds carry
    artifacts the renderings do not (`<u>` tags in seed 003, a stray ✓
    spacing), which the cleaning removes and raw_text keeps."""
    return {
        "title": doc.title,
        "doc_number": doc.doc_number,
        "date": doc.date,
        "issuers": doc.issuers,
        "recipients": doc.recipients,
        "forwarded": doc.forwarded,
        "jurisdiction": doc.jurisdiction,
        "attachments": [(a.part, a.number, a.title) for a in doc.attachments],
        "headings": [(s.key, compact(s.title)) for s in doc.sections],
        "items": [(i.key, i.number, i.category, compact(i.text)) for i in doc.items],
        "units": [
            (i.key, [(m.raw_text, m.role, m.is_collective, m.canonical_name) for m in i.responsible_units])
            for i in doc.items
        ],
    }


@pytest.mark.parametrize("fmt", ["pdf", "docx"])
@pytest.mark.parametrize("stem", SEEDS)
def test_pdf_and_docx_renderings_parse_like_the_text_seed(stem, fmt):
    # Two renderings are kept in the repo (tests/fixtures/renderings), so this
    # runs on a clean clone too; the others come from ../shared where present.
    rendering = FIXTURES / f"{stem}.{fmt}"
    if not rendering.exists():
        rendering = GENERATED / f"{stem}.{fmt}"
    if not rendering.exists():
        pytest.skip(f"{rendering.name} is absent (../shared/corpus/generated)")
    expected = summary(parse_file(ROOT / "data" / "raw" / f"{stem}.txt"))
    got = summary(parse_file(rendering))
    for key in expected:
        assert got[key] == expected[key], f"{rendering.name}: {key} differs from the text seed"


@needs_generated
def test_pdf_items_know_their_pages():
    doc = parse_file(GENERATED / "000_69453124e71ca7c9.pdf")
    pages = {i.number: i.span.pages for i in doc.items}
    assert doc.page_count == 8
    assert pages[7] == [1]  # the last item of page 1, its unit list ends just above `— 1 —`
    assert pages[8] == [2]
    # Every item sits on real pages, in order.
    flat = [i.span.pages[0] for i in doc.items]
    assert flat == sorted(flat) and flat[-1] == 8


@needs_generated
def test_pdf_page_numbers_and_extraction_spaces_are_removed():
    text = read_bytes(Path("x.pdf"), (GENERATED / "001_6963b79e2a437fc8.pdf").read_bytes()).text
    assert "— 1 —" not in text and "\n1\n" not in text
    assert "2020年4月24日" in text  # pdfium put `2020 年 4 月 24 日`
    # Spaces that are in the text stay: seed 003 has `关于印发 2023 年北京市…`.
    text_003 = read_bytes(Path("x.pdf"), (GENERATED / "003_b8b4a31499fe38d2.pdf").read_bytes()).text
    assert "北京市全民科学素质 纲要实施工作办公室 文件" in text_003


def test_pdf_table_rows_split_by_a_page_break_are_joined():
    doc = parse_file(FIXTURES / "003_b8b4a31499fe38d2.pdf")
    rows = {i.number: i for i in doc.items if i.part == "附件2"}
    # Row 32 starts at the foot of page 22 and ends (`云课`) at the top of page 23.
    assert compact(rows[32].text) == "红领巾云队课和团队云课"
    assert sorted(rows) == list(range(1, 262))  # as many rows as the text seed


TASK_ROWS = [
    ["No", "Task", "Units"],
    ["1", "Science day", "CAST, MOE"],
    [None, "Lectures", "MOST"],  # merged with the cell above
    ["2", "Fair", "CAST"],
]


@pytest.mark.parametrize("style", ["lines", "boxes", "bars"])
def test_pdf_ruled_table_becomes_tab_separated_rows_in_place(style):
    """Borders drawn as stroked lines, as stroked cell boxes or as thin filled bars all make the same table."""
    page = text_at(72, 760, "Annex 1") + b"\n" + ruled_table(TASK_ROWS, style) + b"\n" + text_at(72, 560, "End of annex")
    text = read_bytes(Path("t.pdf"), make_pdf([page])).text
    assert text.split("\n") == [
        "Annex 1",
        "No\tTask\tUnits",
        "1\tScience day\tCAST, MOE",
        "\tLectures\tMOST",
        "2\tFair\tCAST",
        "End of annex",
    ]


def test_pdf_table_drawn_inside_a_moved_form_xobject_is_found():
    """Some writers draw a page's content as a form XObject, placed by a matrix."""
    data = make_pdf([b"q 1 0 0 1 10 -150 cm /Fm1 Do Q"], form=ruled_table(TASK_ROWS, "lines"))
    assert read_bytes(Path("t.pdf"), data).text.split("\n")[:2] == ["No\tTask\tUnits", "1\tScience day\tCAST, MOE"]


def test_pdf_cell_text_wrapped_over_two_lines_is_one_cell():
    rows = [["No", "Task"], ["1", ""], ["2", "Fair"]]
    page = ruled_table(rows, "lines", columns=(72, 160, 360), row_height=30)
    # Two lines of text in row 1's task cell (y 670 to 640).
    page += b"\n" + text_at(164, 657, "Open the science") + b"\n" + text_at(164, 645, "day in May")
    text = read_bytes(Path("t.pdf"), make_pdf([page])).text
    assert "1\tOpen the science day in May" in text.split("\n")


def test_pdf_filled_boxes_behind_paragraphs_are_not_a_table():
    """Highlights drawn as wide filled boxes, one per line and touching (seen in a real notice),
    keep their text as a paragraph: pdfplumber read them as a one-column table, a row per line."""
    lines = [
        "The first highlighted line of a paragraph that",
        "goes on over a second line and a third line",
        "and then a fourth line and a fifth line that",
        "are all marked by the writer with a colour",
        "as readers of the notice are meant to see",
        "what changed since the last version of it",
        "and end on the eighth line.",
    ]
    plain, highlighted = [], []
    for k, line in enumerate(lines):
        y = 700 - 20 * k
        highlighted.append(b"0.9 0.9 0.5 rg 70 %d 400 20 re f 0 0 0 rg" % (y - 5))
        plain.append(text_at(72, y, line))
        highlighted.append(plain[-1])
    text = read_bytes(Path("t.pdf"), make_pdf([b"\n".join(highlighted)])).text
    assert text == read_bytes(Path("t.pdf"), make_pdf([b"\n".join(plain)])).text
    assert text.replace("\n", " ") == " ".join(lines)


# --- DOCX made in the test: Word auto-numbering, nested levels, merged cells ----


def _add_numbering(document, levels: list[tuple[str, str]], restart_after: int | None = None) -> int:
    """Add an abstractNum with `levels` [(numFmt, lvlText)] and a num using it; return numId."""
    numbering = document.part.numbering_part.element
    abstract_id = 90 + len(numbering.findall(qn("w:abstractNum")))
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), str(abstract_id))
    for ilvl, (fmt, text) in enumerate(levels):
        lvl = OxmlElement("w:lvl")
        lvl.set(qn("w:ilvl"), str(ilvl))
        for tag, value in (("w:start", "1"), ("w:numFmt", fmt), ("w:lvlText", text), ("w:suff", "nothing")):
            child = OxmlElement(tag)
            child.set(qn("w:val"), value)
            lvl.append(child)
        abstract.append(lvl)
    first_num = numbering.find(qn("w:num"))
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    num_id = 900 + abstract_id
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), str(num_id))
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), str(abstract_id))
    num.append(ref)
    numbering.append(num)
    return num_id


def _numbered(document, text: str, num_id: int, ilvl: int):
    paragraph = document.add_paragraph(text)
    p_pr = paragraph._p.get_or_add_pPr()
    num_pr = OxmlElement("w:numPr")
    for tag, value in (("w:ilvl", ilvl), ("w:numId", num_id)):
        child = OxmlElement(tag)
        child.set(qn("w:val"), str(value))
        num_pr.append(child)
    p_pr.append(num_pr)
    return paragraph


NOTICE_HEAD = ["北京市科学技术协会", "关于印发2023年科普工作要点的通知", "各区科协："]
NOTICE_BODY = [
    (0, "总体要求"),
    (1, "加强组织领导"),
    (2, "开展全国科普日活动。（市科协、市教委）"),
    (2, "实施青少年科学素质提升行动。（市教委牵头，各区参与）"),
    (1, "强化条件保障"),
    (2, "加强科普队伍建设。（市科协）"),
    (0, "工作要求"),
    (1, "做好宣传"),
    (2, "开展科普宣传。（市委宣传部、市科协）"),
]
LEVELS = [("chineseCounting", "%1、"), ("chineseCounting", "（%2）"), ("decimal", "%3.")]


def _typed_label(counts: list[int], ilvl: int) -> str:
    return [f"{chinese_numeral(counts[0])}、", f"（{chinese_numeral(counts[1])}）", f"{counts[2]}."][ilvl]


def _docx_bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _notice_docx(auto: bool) -> bytes:
    document = docx.Document()
    for line in NOTICE_HEAD:
        document.add_paragraph(line)
    num_id = _add_numbering(document, LEVELS) if auto else None
    counts = [0, 0, 0]
    for ilvl, text in NOTICE_BODY:
        counts[ilvl] += 1
        for deeper in range(ilvl + 1, 3):
            counts[deeper] = 0
        if auto:
            _numbered(document, text, num_id, ilvl)
        else:
            document.add_paragraph(_typed_label(counts, ilvl) + text)
    document.add_paragraph("北京市科学技术协会")
    document.add_paragraph("2023年3月1日")
    return _docx_bytes(document)


def test_word_auto_numbering_gives_the_items_of_the_typed_notice():
    typed = summary(parse_bytes(Path("typed.docx"), _notice_docx(auto=False)))
    auto = summary(parse_bytes(Path("auto.docx"), _notice_docx(auto=True)))
    assert auto == typed
    # Nested numbering restarts below each heading: 1. 2. under （一）, then 1. again under （二）.
    assert [key for key, *_ in typed["items"]] == ["正文/1.1/1", "正文/1.1/2", "正文/1.2/1", "正文/2.1/1"]
    assert typed["units"][1][1][0][:2] == ("市教委", "lead")


def test_auto_numbering_text_is_rendered_like_word():
    source = read_bytes(Path("auto.docx"), _notice_docx(auto=True))
    lines = source.text.split("\n")
    assert "一、总体要求" in lines and "（二）强化条件保障" in lines and "1.加强科普队伍建设。（市科协）" in lines
    assert "二、工作要求" in lines


@pytest.mark.parametrize(
    ("value", "fmt", "shown"),
    [
        (3, "decimal", "3"),
        (11, "chineseCounting", "十一"),
        (20, "chineseCountingThousand", "二十"),
        (105, "chineseCounting", "一百零五"),
        (3, "ideographTraditional", "丙"),
        (4, "decimalEnclosedCircle", "④"),
        (12, "decimalFullWidth", "１２"),
        (4, "upperRoman", "IV"),
        (2, "chineseLegalSimplified", "贰"),
    ],
)
def test_word_number_formats(value, fmt, shown):
    assert format_number(value, fmt) == shown


def test_task_table_with_merged_category_cells_is_read_once():
    document = docx.Document()
    for line in ["北京市全民科学素质纲要实施工作办公室文件", "京纲要办发〔2023〕2号", "2023年北京市全民科学素质工作任务清单"]:
        document.add_paragraph(line)
    rows = [
        ("任务类别", "序号", "具体工作任务名称", "主责单位"),
        ("一、大力弘扬科学家精神", "1", "老科学家演讲团讲座", "市科委、中关村管委会"),
        ("", "2", "开展北京“最美科技工作者”评选活动", "市科学院"),
        ("二、实施青少年科学素质提升行动", "3", "组织第41届北京学生科技节", "市教委"),
        ("", "4", "组织中小学生科技创客活动", "市教委"),
    ]
    table = document.add_table(rows=len(rows), cols=4)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    # Merge the category cells as Word does (vMerge): the text is in the first cell only.
    table.cell(1, 0).merge(table.cell(2, 0))
    table.cell(3, 0).merge(table.cell(4, 0))
    source = read_bytes(Path("table.docx"), _docx_bytes(document))
    assert source.text.count("大力弘扬科学家精神") == 1
    doc = extract_document(source, source_path="table.docx", content_hash="x")
    got = [(i.number, i.category, i.text, [m.canonical_name for m in i.responsible_units]) for i in doc.items]
    assert got == [
        (1, "大力弘扬科学家精神", "老科学家演讲团讲座", ["北京市科学技术委员会", "中关村科技园区管理委员会"]),
        (2, "大力弘扬科学家精神", "开展北京“最美科技工作者”评选活动", ["北京市科学技术研究院"]),
        (3, "实施青少年科学素质提升行动", "组织第41届北京学生科技节", ["北京市教育委员会"]),
        (4, "实施青少年科学素质提升行动", "组织中小学生科技创客活动", ["北京市教育委员会"]),
    ]


# --- bad files: one clear error each, naming the problem -----------------------



@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("empty.pdf", lambda: b"", "empty"),
        ("truncated.pdf", lambda: make_pdf(["Some text"])[:200], "not a readable PDF"),
        ("locked.pdf", lambda: make_pdf(["Locked"], user_password=b"secret"), "encrypted with an open password"),
        # Image-only pages with nothing to read: OCR (--ocr auto, the default) finds no text either.
        ("scan.pdf", lambda: make_pdf([None, None]), "no text layer, and OCR found no text on its pages"),
        ("not-a-zip.docx", lambda: b"PK\x03\x04 this is not really a zip archive" * 10, "not a valid .docx"),
        ("plain.docx", lambda: "这不是Word文件".encode() * 10, "not a valid .docx"),
        ("bomb.docx", zip_bomb, "zip bomb"),
        ("old.doc", lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy binary"),
    ],
)
def test_bad_files_give_one_clear_error(tmp_path, name, make, message):
    path = tmp_path / name
    path.write_bytes(make())
    with pytest.raises(ReadError) as info:
        parse_file(path)
    assert message in str(info.value)
    assert str(path) in str(info.value)  # the error names the file
    assert "\n" not in str(info.value)


def test_pdf_encrypted_with_an_owner_password_only_still_opens():
    source = read_bytes(Path("owner.pdf"), make_pdf(["Owner password only"], user_password=b""))
    assert source.text == "Owner password only"


def test_format_is_chosen_by_content_not_name(tmp_path):
    path = tmp_path / "really-a-pdf.txt"
    path.write_bytes(make_pdf(["A PDF named .txt"]))
    assert read_bytes(path, path.read_bytes()).format == "pdf"


@needs_real
def test_every_real_file_reads_or_fails_clearly():
    """The real corpus: each supported file gives text or one clear ReadError.

    With OCR off (--ocr off): the two files that need it are refused, saying how to read them;
    what OCR makes of them is tests/test_ocr.py's (recognizing them again here would cost ~40 s).
    """
    import dataclasses

    from pipeline import limits

    outcomes = {}
    previous = limits.use(dataclasses.replace(limits.active(), ocr="off"))
    try:
        for path in sorted(REAL.iterdir()):
            if path.suffix.lower() not in (".pdf", ".docx", ".txt", ".doc", ".wps"):
                continue
            try:
                doc = parse_file(path)
                outcomes[path.name] = ("ok", len(doc.items))
            except ReadError as exc:
                outcomes[path.name] = ("error", exc.message)
    finally:
        limits.use(previous)
    scanned = outcomes["bc62040f08261b1491db7950d5b83b992a53edfe07f94d15b93d75adb1c4777a.pdf"]
    assert scanned[0] == "error" and "no text layer" in scanned[1] and "--ocr auto" in scanned[1]
    garbled = outcomes["34e802e5ed1100c28ccd24d8b99a39fcafedbcc107eca899b8ace3db6dabc572.pdf"]
    assert garbled[0] == "error" and "text layer unreadable" in garbled[1] and "--ocr auto" in garbled[1]
    for legacy in ("64fbd75ec8b53419814c590e1c87cb2141f69a1fcbc561ba5fc43912c35455d8.doc",
                   "177d8ebac2c1796033aa133457d3487f3b692d16a275a80108723e0e7472f83f.wps"):
        assert outcomes[legacy][0] == "error" and "convert" in outcomes[legacy][1]
    readable = [name for name, (status, _) in outcomes.items() if status == "ok"]
    assert len(readable) == len(outcomes) - 4
    # The 159-page national plan keeps its hundreds of items.
    assert outcomes["6-xinguan防控方案-第九版-书签整理-202206.pdf"][1] > 250


@pytest.mark.parametrize("line", ["— 3 —", "-3-", "- 12 -", "第3页", "第 3 页 共 10 页", "3/10", "17"])
def test_page_number_lines_are_recognised(line):
    from pipeline.readers.pdf import _PAGE_NUMBER

    assert _PAGE_NUMBER.match(line)


@pytest.mark.parametrize("line", ["2023—2027年", "（2021—2035年）", "第3页的内容", "3. 开展活动"])
def test_text_with_dashes_or_numbers_is_not_a_page_number(line):
    from pipeline.readers.pdf import _PAGE_NUMBER

    assert not _PAGE_NUMBER.match(line)
