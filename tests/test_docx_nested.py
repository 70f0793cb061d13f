"""DOCX tables inside tables: a page laid out in a table of one cell (or a few) holds the real task table.

The documents are made here with python-docx (no binaries in the repository).
"""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import docx
import pytest

from pipeline.errors import ReadError
from pipeline.ingest import parse_bytes
from pipeline.limits import DOCX_MAX_BLOCKS
from pipeline.readers import read_bytes
from tests.conftest import docx_with_body
from tests.test_readers import summary

HEAD = [
    "北京市人民政府办公厅文件",
    "京政办发〔2024〕3号",
    "北京市人民政府办公厅关于印发优化营商环境重点任务分工的通知",
    "各区人民政府，市政府各委、办、局：",
    "现将重点任务分工印发给你们，请认真贯彻落实。",
]
ROWS = [
    ("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),
    ("1", "推进政务服务“一网通办”", "市政务服务局", "市经济和信息化局、市财政局", "2024年6月底"),
    ("2", "优化企业开办流程", "市市场监管局", "市税务局", "2024年9月底"),
    ("3", "开展营商环境评价", "市发展改革委", "各区人民政府", "2024年12月底"),
]
TAIL = ["北京市人民政府办公厅", "2024年3月1日"]
EXPECTED_ITEMS = [
    ("正文/1", "推进政务服务“一网通办”", [("市政务服务局", "lead"), ("市经济和信息化局", "cooperating"), ("市财政局", "cooperating")]),
    ("正文/2", "优化企业开办流程", [("市市场监管局", "lead"), ("市税务局", "cooperating")]),
    ("正文/3", "开展营商环境评价", [("市发展改革委", "lead"), ("各区人民政府", "cooperating")]),
]


def _bytes(document) -> bytes:
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _fill(table, rows=ROWS) -> None:
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value


def _write(container, lines: list[str]) -> None:
    """Paragraphs into the document or a cell (a new cell's own empty paragraph takes the first)."""
    for k, line in enumerate(lines):
        paragraphs = getattr(container, "paragraphs", [])
        fresh_cell = hasattr(container, "merge") and len(paragraphs) == 1 and not paragraphs[0].text
        if k == 0 and fresh_cell:
            paragraphs[0].text = line
        else:
            container.add_paragraph(line)


def _top_level() -> bytes:
    document = docx.Document()
    _write(document, HEAD)
    _fill(document.add_table(rows=len(ROWS), cols=len(ROWS[0])))
    _write(document, TAIL)
    return _bytes(document)


def _in_layout(levels: int = 1) -> bytes:
    """The same notice, the whole page in a 1×1 table (inside `levels - 1` more of them)."""
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    for _ in range(levels - 1):
        cell = cell.add_table(rows=1, cols=1).cell(0, 0)
    _write(cell, HEAD)
    _fill(cell.add_table(rows=len(ROWS), cols=len(ROWS[0])))
    _write(cell, TAIL)
    return _bytes(document)


def _items(doc):
    return [(i.key, i.text, [(m.raw_text, m.role) for m in i.responsible_units]) for i in doc.items]


def _view(doc):
    """What must not depend on where the table sits: what must not depend on the format, and the
    unit clauses as written (spans aside: line numbers may differ)."""
    return {**summary(doc), "units_text": [(i.key, i.units_text) for i in doc.items]}


def _rows(text: str) -> list[str]:
    return [line for line in text.split("\n") if "\t" in line]


def test_a_task_table_in_a_one_cell_layout_table_gives_the_items_of_the_table_at_the_top_level():
    top = parse_bytes(Path("top.docx"), _top_level())
    nested = parse_bytes(Path("layout.docx"), _in_layout())
    assert _items(top) == EXPECTED_ITEMS
    assert _view(nested) == _view(top)
    # Each row of the inner table is a row of its own, with provenance: its span is its line.
    source = read_bytes(Path("layout.docx"), _in_layout())
    assert _rows(source.text) == ["\t".join(row) for row in ROWS]
    lines = source.text.split("\n")
    for item, row in zip(nested.items, ROWS[1:]):
        assert item.span.first_line == item.span.last_line and lines[item.span.first_line - 1] == "\t".join(row)
        assert source.text[item.span.start : item.span.end] == "\t".join(row)
    # The layout cell's paragraphs are lines too, as in the body.
    assert lines[: len(HEAD)] == HEAD and [line for line in lines if line][-2:] == TAIL


def test_a_task_table_two_layout_tables_deep():
    top = parse_bytes(Path("top.docx"), _top_level())
    nested = parse_bytes(Path("layout2.docx"), _in_layout(levels=2))
    assert _items(nested) == EXPECTED_ITEMS
    assert _view(nested) == _view(top)


def test_a_layout_table_with_a_heading_then_the_inner_table():
    # The notice in the body; its attachment in a layout table: 附件 / title in one row, the task table in the next.
    document = docx.Document()
    _write(document, HEAD + TAIL)
    layout = document.add_table(rows=2, cols=1)
    _write(layout.cell(0, 0), ["附件", "优化营商环境重点任务分工"])
    inner_cell = layout.cell(1, 0)
    _write(inner_cell, ["一、重点任务"])
    _fill(inner_cell.add_table(rows=len(ROWS), cols=len(ROWS[0])))
    doc = parse_bytes(Path("attachment.docx"), _bytes(document))
    assert [(a.part, a.title) for a in doc.attachments] == [("附件", "优化营商环境重点任务分工")]
    assert [(key.replace("附件", "正文"), text, units) for key, text, units in _items(doc)] == EXPECTED_ITEMS
    assert doc.issuers == ["北京市人民政府办公厅"]
    source = read_bytes(Path("attachment.docx"), _bytes(document))
    lines = source.text.split("\n")
    assert "优化营商环境重点任务分工" in lines and "一、重点任务" in lines


def test_a_data_table_with_a_small_table_in_a_cell_stays_a_data_table():
    document = docx.Document()
    _write(document, HEAD)
    rows = [
        ("序号", "重点任务", "责任单位", "完成时限"),
        ("1", "推进政务服务“一网通办”", "", "2024年6月底"),
        ("2", "优化企业开办流程", "市市场监管局", "2024年9月底"),
    ]
    table = document.add_table(rows=3, cols=4)
    _fill(table, rows)
    # The units of row 1 listed in a small table of their own, one a row.
    cell = table.cell(1, 2)
    small = cell.add_table(rows=2, cols=1)
    small.cell(0, 0).text, small.cell(1, 0).text = "市政务服务局", "市财政局"
    _write(document, ["特此通知。"] + TAIL)
    source = read_bytes(Path("data.docx"), _bytes(document))
    assert _rows(source.text) == [
        "序号\t重点任务\t责任单位\t完成时限",
        "1\t推进政务服务“一网通办”\t市政务服务局；市财政局\t2024年6月底",
        "2\t优化企业开办流程\t市市场监管局\t2024年9月底",
    ]
    doc = parse_bytes(Path("data.docx"), _bytes(document))
    assert [(i.key, i.text, [m.raw_text for m in i.responsible_units]) for i in doc.items] == [
        ("正文/1", "推进政务服务“一网通办”", ["市政务服务局", "市财政局"]),
        ("正文/2", "优化企业开办流程", ["市市场监管局"]),
    ]


def test_a_form_row_beside_a_layout_row_stays_a_row():
    # A few-cell layout: a label row of two cells, then the content; the label row is a row.
    document = docx.Document()
    layout = document.add_table(rows=2, cols=2)
    layout.cell(0, 0).text, layout.cell(0, 1).text = "发文字号", "京政办发〔2024〕3号"
    content = layout.cell(1, 0).merge(layout.cell(1, 1))
    _write(content, HEAD[2:])
    _fill(content.add_table(rows=len(ROWS), cols=len(ROWS[0])))
    _write(content, TAIL)
    source = read_bytes(Path("form.docx"), _bytes(document))
    lines = source.text.split("\n")
    assert lines[0] == "发文字号\t京政办发〔2024〕3号"
    assert _rows(source.text)[1:] == ["\t".join(row) for row in ROWS]
    doc = parse_bytes(Path("form.docx"), _bytes(document))
    assert _items(doc) == EXPECTED_ITEMS


def test_a_one_cell_table_of_paragraphs_is_read_paragraph_by_paragraph():
    # No inner table: a boxed page is still paragraphs, not one line run together.
    document = docx.Document()
    cell = document.add_table(rows=1, cols=1).cell(0, 0)
    _write(cell, HEAD + ["一、推进政务服务“一网通办”。（市政务服务局）", "二、优化企业开办流程。（市市场监管局）"] + TAIL)
    source = read_bytes(Path("box.docx"), _bytes(document))
    assert source.text.split("\n")[:3] == HEAD[:3]
    doc = parse_bytes(Path("box.docx"), _bytes(document))
    assert [(i.key, [m.raw_text for m in i.responsible_units]) for i in doc.items] == [
        ("正文/1", ["市政务服务局"]),
        ("正文/2", ["市市场监管局"]),
    ]


def test_content_controls_in_the_body_are_read():
    from docx.oxml import parse_xml

    document = docx.Document()
    _write(document, HEAD)
    table = document.add_table(rows=len(ROWS), cols=len(ROWS[0]))
    _fill(table)
    _write(document, TAIL)
    # Wrap the title paragraph and the table in block-level content controls (w:sdt), as templates do.
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    for element in (document.paragraphs[2]._p, table._tbl):
        sdt = parse_xml(f"<w:sdt {w}><w:sdtPr/><w:sdtContent/></w:sdt>")
        element.addprevious(sdt)
        sdt[1].append(element)
    top = parse_bytes(Path("top.docx"), _top_level())
    doc = parse_bytes(Path("sdt.docx"), _bytes(document))
    assert _view(doc) == _view(top)


# --- hostile files ----------------------------------------------------------------

_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'




def _nested(depth: int, inner: str) -> str:
    return (
        f"<w:document {_W}><w:body>"
        + "<w:tbl><w:tr><w:tc>" * depth
        + inner
        + "</w:tc></w:tr></w:tbl>" * depth
        + "</w:body></w:document>"
    )


_ROW_XML = "".join(
    "<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>" for row in ROWS
)


def test_tables_nested_eighty_deep_are_read_without_recursion():
    # 80 tables inside one another is about what the XML parser allows (256 elements deep).
    data = docx_with_body(_nested(80, f"<w:p><w:r><w:t>{HEAD[2]}</w:t></w:r></w:p><w:tbl>{_ROW_XML}</w:tbl><w:p/>"))
    limit = sys.getrecursionlimit()
    # A reader recursing once per table would need 80 more frames than this leaves it.
    depth = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(depth + 70)
    try:
        source = read_bytes(Path("deep80.docx"), data)
    finally:
        sys.setrecursionlimit(limit)
    assert source.text.split("\n")[0] == HEAD[2]
    assert _rows(source.text) == ["\t".join(row) for row in ROWS]


@pytest.mark.parametrize("depth", [300, 100_000])
def test_tables_nested_beyond_the_parser_limit_are_refused_clearly(depth):
    data = docx_with_body(_nested(depth, "<w:p><w:r><w:t>x</w:t></w:r></w:p>"))
    assert len(data) < 100_000
    started = time.monotonic()
    with pytest.raises(ReadError) as caught:
        read_bytes(Path("deep.docx"), data)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert message.startswith("deep.docx: ") and "nests deeper than 256" in message and "lxml" in message
    assert not isinstance(caught.value.__cause__, RecursionError)


def test_the_block_cap_counts_paragraphs_inside_layout_tables():
    too_many = docx_with_body(_nested(2, "<w:p/>" * (DOCX_MAX_BLOCKS + 1)))
    assert len(too_many) < 100_000
    started = time.monotonic()
    with pytest.raises(ReadError, match="paragraphs and tables, far beyond a notice"):
        read_bytes(Path("many.docx"), too_many)
    assert time.monotonic() - started < 30


def test_the_block_cap_counts_paragraphs_inside_data_cells():
    # A data table (two rows of two filled cells) whose cell holds the paragraphs: flattened, still counted.
    cell = "<w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p></w:tc>"
    full = "<w:tc><w:p><w:r><w:t>x</w:t></w:r></w:p>" + "<w:p/>" * (DOCX_MAX_BLOCKS + 1) + "</w:tc>"
    table = f"<w:tbl><w:tr>{cell}{cell}</w:tr><w:tr>{cell}{full}</w:tr></w:tbl>"
    body = f"<w:document {_W}><w:body>{table}</w:body></w:document>"
    with pytest.raises(ReadError, match="paragraphs and tables, far beyond a notice"):
        read_bytes(Path("cells.docx"), docx_with_body(body))


def test_a_nested_body_under_the_cap_is_read():
    paragraphs = "".join(f"<w:p><w:r><w:t>第{k}段</w:t></w:r></w:p>" for k in range(2000))
    source = read_bytes(Path("fine.docx"), docx_with_body(_nested(3, paragraphs)))
    assert source.text.split("\n")[:2] == ["第0段", "第1段"] and len(source.text.split("\n")) == 2000
