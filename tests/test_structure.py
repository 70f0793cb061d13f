"""Metadata, headings and items of the five seed notices, field by field."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from extractors.text import without_space
from tests.conftest import seed, seed_text


def heading_counts(doc, part=None):
    return Counter(s.level for s in doc.sections if part is None or s.part == part)


def items_of(doc, part=None):
    return [i for i in doc.items if part is None or i.part == part]


def warned(doc):
    return {w.field for w in doc.warnings}


def test_000_task_ledger_without_header():
    doc = seed("000")
    assert doc.title == "2023年全民科学素质行动重点工作任务台账"
    assert doc.doc_number is None and doc.issuers == [] and doc.date is None
    assert {"doc_number", "issuers", "date"} <= warned(doc)
    assert [i.number for i in doc.items] == list(range(1, 68))
    # Item 30 ends a page: item 31 after the blank line is its own item.
    assert doc.items[29].text.endswith("（交通运输部）")
    assert doc.items[30].text.startswith("举办第十五届国际交通技术与设备展览会")


def test_001_forwarding_notice():
    doc = seed("001")
    assert doc.issuers == ["广东省全民科学素质纲要实施工作办公室"]
    assert doc.date == dt.date(2020, 4, 24)
    assert doc.doc_number is None and "doc_number" in warned(doc)
    assert doc.title == "转发国家纲要办《关于印发<2020年全民科学素质行动工作要点>的通知》的通知"
    assert doc.forwarded is not None
    assert doc.forwarded.doc_number.raw == "纲要办发〔2020〕1号"
    assert doc.forwarded.issuer == "国家纲要办"
    assert doc.forwarded.title == "关于印发<2020年全民科学素质行动工作要点>的通知"
    assert doc.recipients == "省全民科学素质实施工作办公室各成员单位，各地级以上市纲要办（科协）"
    assert heading_counts(doc) == {1: 4, 2: 13}
    assert [i.number for i in doc.items] == list(range(1, 43))
    # 2020年是… and 5·30… are not items.
    assert all(not i.text.startswith(("2020年是", "30")) for i in doc.items)


def test_002_work_points():
    doc = seed("002")
    assert doc.doc_number.raw == "唐全科字〔2023〕1号"
    assert (doc.doc_number.organ_code, doc.doc_number.year, doc.doc_number.serial) == ("唐全科字", 2023, 1)
    assert doc.issuers == ["唐山市全民科学素质工作领导小组"]
    assert doc.date == dt.date(2023, 3, 30)
    assert doc.title == "关于印发《2023年唐山市全民科学素质行动工作要点》的通知"
    assert heading_counts(doc) == {1: 3, 2: 10}
    assert [i.number for i in doc.items] == list(range(1, 23))
    item4 = doc.items[3]
    assert item4.span.first_line == 37 and item4.span.last_line == 39
    assert "科技类校外培训机构，策划开展科学教育系列主题活动" in item4.text  # joined across the page break
    item2 = doc.items[1]
    assert item2.text.endswith("推动全民科学素质工作主动融入党和政府发展大局。")
    # Half-width (四) is a heading too, and QC小组（质量控制小组） is text, not a unit list.
    assert any(s.label == "(四)" and s.title == "实施基层科普能力提升工程" for s in doc.sections)
    assert all(not i.responsible_units for i in doc.items)


def test_003_notice_with_two_attachments():
    doc = seed("003")
    assert doc.doc_number.raw == "京纲要办发〔2023〕2号"
    assert doc.issuers == ["北京市全民科学素质纲要实施工作办公室"]
    assert doc.proxy_seal == "北京市科学技术协会"
    assert doc.date == dt.date(2023, 4, 13)
    assert doc.title == "关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知"
    assert [(a.part, a.listed, a.found) for a in doc.attachments] == [("附件1", True, True), ("附件2", True, True)]
    assert doc.attachments[0].title == "2023年北京市全民科学素质工作重点任务"
    assert heading_counts(doc, "附件1") == {1: 4, 2: 14}
    assert [i.number for i in items_of(doc, "附件1")] == list(range(1, 60))
    rows = items_of(doc, "附件2")
    assert [r.number for r in rows] == list(range(1, 262))
    assert len({r.category for r in rows}) == 15
    assert (rows[-1].text, rows[-1].units_text, rows[-1].category) == ("开展科学素质建设基础研究", "市科协", "条件保障")
    # Row 82 is shifted one column left in the source; it keeps its category and unit.
    row82 = rows[81]
    assert (row82.text, row82.units_text, row82.category) == ("第5届北京国际自主智能机器人大赛", "市科协", "实施青少年科学素质提升行动")
    # A blank category cell inherits the one above.
    assert rows[1].category == "大力弘扬科学家精神，在全社会厚植创新发展沃土"
    # ✓ marks are kept as marks; <u> tags stay in raw_text only.
    row7 = rows[6]
    assert row7.marks == ["✓"] and row7.units_text == "市文物局" and "<u>" in row7.raw_text
    item4 = items_of(doc, "附件1")[3]
    assert item4.marks == ["✓"] and item4.text.startswith("在教育“双减”中做好科学教育加法")
    # The attachment note's "2. …" line is not an item of the body.
    assert items_of(doc, "正文") == []


def test_004_numbering_restarts_per_section():
    doc = seed("004")
    assert doc.issuers == ["中国科协办公厅"]
    assert doc.date == dt.date(2022, 9, 16)
    assert doc.doc_number is None
    assert doc.title == "中国科协办公厅关于印发《中国科协学习宣传贯彻〈关于新时代进一步加强科学技术普及工作的意见〉工作方案》的通知"
    assert heading_counts(doc) == {1: 5, 2: 16}
    # The 1. items of 四, and 五's three measures written inline (（一）加强组织领导。各级科协…);
    # the bare headings of 二 and 三 with plain paragraphs under them stay sections.
    assert len(doc.items) == 21
    assert Counter(i.section_key for i in doc.items) == {
        "附件/4.1": 4, "附件/4.2": 7, "附件/4.3": 4, "附件/4.4": 3, "附件/5.1": 1, "附件/5.2": 1, "附件/5.3": 1,
    }
    assert len({i.key for i in doc.items}) == 21  # identity: section path + number
    measure = next(i for i in doc.items if i.key == "附件/5.1")
    assert (measure.label, measure.text[:7]) == ("（一）", "加强组织领导。")
    # The paragraph after the last item of 四(三)… is not part of that item.
    assert all("在做好以上重点工作的同时" not in i.text for i in doc.items)
    assert [s.title for s in doc.sections if s.key.startswith("附件/5.")] == ["加强组织领导", "做好统筹协调", "强化督促指导"]


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_every_item_text_is_in_the_source_and_nothing_is_dropped(prefix):
    doc, source = seed(prefix), seed_text(prefix)
    flat = without_space(source)
    for item in doc.items:
        assert without_space(item.text) in flat, item.key
        assert source[item.span.start : item.span.end] == item.raw_text
        if item.category is None:
            # Everything in the item's lines after its number is in its text.
            raw = without_space(item.raw_text)
            assert raw.endswith(without_space(item.text)), item.key
            assert len(raw) - len(without_space(item.text)) <= len(item.label) + len("".join(item.marks)), item.key


@pytest.mark.parametrize("prefix", ["000", "001", "002", "003", "004"])
def test_item_numbers_increase_within_each_section(prefix):
    doc = seed(prefix)
    by_section: dict = {}
    for item in doc.items:
        by_section.setdefault((item.part, item.section_key), []).append(item.number)
    for numbers in by_section.values():
        assert numbers == sorted(set(numbers))


def test_joint_signature_gives_several_issuers():
    text = seed_text("002").replace(
        "\n唐山市全民科学素质工作领导小组\n\n2023年3月30日",
        "\n唐山市全民科学素质工作领导小组      唐山市科学技术协会\n\n2023年3月30日",
    )
    from extractors import extract_document
    from schemas import SourceText

    doc = extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="x")
    assert doc.issuers == ["唐山市全民科学素质工作领导小组", "唐山市科学技术协会"]
    assert doc.issuer_banner == "唐山市全民科学素质工作领导小组"
    assert len(doc.items) == 22


def _parse_text(text):
    from extractors import extract_document
    from schemas import SourceText

    return extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="x")


_TABLE_NOTICE_HEAD = (
    "北京市人民政府办公厅关于印发优化营商环境重点任务分工的通知\n京政办发〔2024〕3号\n"
    "各区人民政府，市政府各委、办、局：\n现将重点任务分工印发给你们，请认真贯彻落实。\n"
)
_TASK_ROWS = (
    "序号\t重点任务\t牵头单位\t配合单位\t完成时限\n"
    "1\t推进政务服务“一网通办”\t市政务服务局\t市经济和信息化局、市财政局\t2024年6月底\n"
    "2\t优化企业开办流程\t市市场监管局\t市税务局\t2024年9月底\n"
)


def test_a_task_table_right_above_the_signature_keeps_its_rows():
    # Short rows without a full stop read like signature lines; a table row is not one.
    doc = _parse_text(_TABLE_NOTICE_HEAD + _TASK_ROWS + "北京市人民政府办公厅\n2024年3月1日\n")
    assert doc.issuers == ["北京市人民政府办公厅"]
    assert [(i.key, i.text) for i in doc.items] == [("正文/1", "推进政务服务“一网通办”"), ("正文/2", "优化企业开办流程")]
    assert [m.raw_text for m in doc.items[0].responsible_units] == ["市政务服务局", "市经济和信息化局", "市财政局"]


def test_a_contact_row_above_the_date_is_no_signature():
    text = "关于开展营商环境评价工作的通知\n各区人民政府：\n一、请各区于3月底前报送材料。\n联系人\t市发展改革委营商环境处\n2024年3月1日\n"
    doc = _parse_text(text)
    assert doc.issuers == [] and doc.jurisdiction != "联系人市"


def test_joint_issuers_in_the_cells_of_a_table_row():
    doc = _parse_text(_TABLE_NOTICE_HEAD + "北京市发展和改革委员会\t北京市财政局\n2024年3月1日\n")
    assert doc.issuers == ["北京市发展和改革委员会", "北京市财政局"]
