"""A title never swallows the lines under it: a report's subtitle, its dateline, its speaker."""

from __future__ import annotations

import pytest

from extractors import extract_document
from pipeline.ingest import parse_file
from schemas import SourceText


def _title(text: str) -> str | None:
    return extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="h").title


@pytest.mark.parametrize(
    "under",
    [
        ["——2025年1月18日在云南省第十四届人民代表大会第三次会议上", "省长 王予波"],
        ["2025年1月20日在四川省第十四届人民代表大会第四次会议上", "四川省人民政府省长 施小琳"],
        ["二〇二五年一月十五日在广东省第十四届人民代表大会第三次会议上", "广东省省长\u3000王伟中"],
    ],
)
def test_a_work_report_title_ends_before_its_subtitle_and_speaker(under):
    text = "\n".join(["2025年某省政府工作报告", *under, "各位代表：", "现在，我代表省人民政府，向大会报告工作，请予审议。", "一、2024年工作回顾", "过去一年，经济运行稳中向好。"])
    assert _title(text) == "2025年某省政府工作报告"


def test_a_title_over_two_lines_is_still_joined():
    text = "某市人民政府办公室\n关于印发某市促进消费若干措施的\n通知\n各区人民政府：\n现将《若干措施》印发给你们，请认真贯彻执行。\n"
    assert _title(text) == "某市人民政府办公室关于印发某市促进消费若干措施的通知"


@pytest.mark.parametrize("province", ["云南", "四川", "广东", "浙江"])
def test_the_real_work_reports_have_their_own_titles(shared, province):
    # Each file opens: title, 来源：…日报, ——date 在…会议上, the governor's name, 各位代表：
    doc = parse_file(shared / "corpus" / "real" / f"2025年{province}省政府工作报告.docx")
    assert doc.title == f"2025年{province}省政府工作报告"
