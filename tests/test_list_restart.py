"""Issue 15, nothing silently dropped: numbered lists that restart at 1 inside a section.

A `1.` after `3.` under the same heading used to be read as plain text (and kept by no task):
now it starts a second list, whose items are keyed by the line that introduces them. A numbered
line the parser still cannot place is a warning naming it.
"""

from __future__ import annotations

import time

from extractors import extract_document
from schemas import SourceText

HEAD = """北京市人民政府办公厅关于做好2024年安全生产工作的通知
京政办发〔2024〕3号
各区人民政府，市政府各委、办、局，各市属机构：
为做好2024年安全生产工作，经市政府同意，现将有关事项通知如下。
"""
TAIL = """
北京市人民政府办公厅
2024年2月20日
"""


def _parse(body: str):
    text = HEAD + body + TAIL
    return extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="h")


def _item_warnings(doc):
    return [w.message for w in doc.warnings if w.field == "items"]


RESTART = """一、总体要求
1. 坚持人民至上、生命至上，统筹发展和安全。
2. 坚持源头治理，强化风险隐患排查整治。
3. 坚持依法治理，严格落实安全生产责任制。
请各单位做好以下工作：
1. 3月底前制定本单位年度安全生产工作计划。
2. 每季度末向市安委会办公室报送工作进展。（责任单位：市应急局）
二、保障措施
1. 加强组织领导，主要负责同志亲自部署、亲自督办。
2. 强化督查检查，对工作不力的单位予以通报。
"""


def test_a_list_restarting_after_an_intro_is_kept_with_its_intro():
    doc = _parse(RESTART)
    assert [(i.key, i.section_key) for i in doc.items] == [
        ("正文/1/1", "正文/1"),
        ("正文/1/2", "正文/1"),
        ("正文/1/3", "正文/1"),
        ("正文/1/请各单位做好以下工作/1", "正文/1"),
        ("正文/1/请各单位做好以下工作/2", "正文/1"),
        ("正文/2/1", "正文/2"),
        ("正文/2/2", "正文/2"),
    ]
    assert len(doc.items) == 7
    restarted = doc.items[3:5]
    assert [i.text for i in restarted] == [
        "3月底前制定本单位年度安全生产工作计划。",  # `1. 3月…` is an item, not a decimal
        "每季度末向市安委会办公室报送工作进展。（责任单位：市应急局）",
    ]
    assert [i.span.first_line for i in restarted] == [10, 11]
    assert [m.raw_text for m in restarted[1].responsible_units] == ["市应急局"]
    # The intro belongs to no item: it names the list.
    assert not any("请各单位" in i.text for i in doc.items)
    assert [s.key for s in doc.sections] == ["正文/1", "正文/2"]
    assert _item_warnings(doc) == []


def test_99_items_repeating_keep_every_item_in_time():
    lines = 300_000
    body = "一、重点任务\n" + "".join(f"{k % 99 + 1}. 任务{k}：按期完成第{k}项工作。\n" for k in range(lines))
    started = time.process_time()
    doc = _parse(body)
    spent = time.process_time() - started
    assert len(doc.items) == lines
    keys = [i.key for i in doc.items]
    assert len(set(keys)) == lines
    # The first list keeps its keys; each run from 1 again is the next list of the section, by place.
    assert keys[:2] == ["正文/1/1", "正文/1/2"]
    assert keys[98:101] == ["正文/1/99", "正文/1/#2/1", "正文/1/#2/2"]
    assert keys[-1] == f"正文/1/#{(lines - 1) // 99 + 1}/{(lines - 1) % 99 + 1}"
    assert doc.items[-1].text == f"任务{lines - 1}：按期完成第{lines - 1}项工作。"
    assert _item_warnings(doc) == []
    assert spent < 60, f"{lines} lines took {spent:.1f} s of CPU"


def test_nested_numbering_is_no_restart():
    """`（1）` points inside `1.` items, and `1.` again under the next `（二）`: the usual ladder."""
    doc = _parse(
        """一、主要任务
（一）推进城市更新
1. 开展老旧小区改造，重点做好以下工作：
（1）完善小区配套设施。
（2）加装电梯。
2. 推进危旧楼房改建，具体包括：
（1）制定改建方案。
（2）组织居民协商。
（二）强化要素保障
1. 加强资金保障。（责任单位：市财政局）
2. 加强用地保障。（责任单位：市规划自然资源委）
"""
    )
    assert [i.key for i in doc.items] == ["正文/1.1/1", "正文/1.1/2", "正文/1.2/1", "正文/1.2/2"]
    assert doc.items[0].text == "开展老旧小区改造，重点做好以下工作：\n（1）完善小区配套设施。\n（2）加装电梯。"
    assert doc.items[1].text == "推进危旧楼房改建，具体包括：\n（1）制定改建方案。\n（2）组织居民协商。"
    assert [s.key for s in doc.sections] == ["正文/1", "正文/1.1", "正文/1.2"]
    assert _item_warnings(doc) == []


def test_a_restart_after_a_short_plain_line_is_named_by_it_and_a_repeated_name_by_place():
    doc = _parse(
        """一、申请材料
1. 申请表原件。
2. 身份证复印件。
注：
1. 材料须加盖单位公章。
2. 复印件须注明与原件一致。
注：
1. 逾期不予受理。
"""
    )
    assert [i.key for i in doc.items] == [
        "正文/1/1", "正文/1/2", "正文/1/注/1", "正文/1/注/2", "正文/1/注#3/1",
    ]
    assert _item_warnings(doc) == []


def test_a_numbered_line_that_fits_no_list_is_a_warning_naming_it():
    doc = _parse(
        """一、工作安排
1. 制定工作方案。
2. 组织实施。
5. 总结评估。
1、2号线沿线各区做好配合。
"""
    )
    assert [i.key for i in doc.items] == ["正文/1/1", "正文/1/2"]
    warnings = _item_warnings(doc)
    assert len(warnings) == 2
    assert warnings[0].startswith("正文 line 8 「5.总结评估。」") and warnings[0].endswith("in no task")
    # Two numbers in a sentence (lines 1 and 2) start no list.
    assert warnings[1].startswith("正文 line 9 「1、2号线沿线各区做好配合。」")


def test_table_rows_page_numbers_and_dates_are_no_list():
    doc = _parse(
        """一、工作安排
1. 制定工作方案。
2. 组织实施。
— 2 —
2024年3月1日前完成部署。
阶段\t时间\t内容
1.\t3月\t动员部署
2.\t4月\t组织实施
"""
    )
    assert [i.key for i in doc.items] == ["正文/1/1", "正文/1/2"]
    assert _item_warnings(doc) == []


def test_many_unplaced_lines_are_counted_not_listed_one_by_one():
    doc = _parse("一、工作安排\n1. 制定工作方案。\n" + "".join(f"5. 第{k}项。\n" for k in range(100)))
    warnings = _item_warnings(doc)
    assert len(warnings) == 21
    assert warnings[-1].startswith("正文: 80 more numbered lines do not continue the numbering before them (lines 27, 28,")
