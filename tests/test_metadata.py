"""发文字号 and 成文日期 in the forms real notices write them."""

from __future__ import annotations

import datetime as dt

import pytest

from extractors.metadata import date_line, doc_number_line, find_doc_numbers, forwarded_from_title, parse_date


@pytest.mark.parametrize(
    "line",
    ["京纲要办发〔2023〕2号", "京纲要办发[2023]2号", "京纲要办发【2023】2号", "京纲要办发(2023)2号",
     "京纲要办发（2023）2号", "京纲要办发 〔 2023 〕 2 号", "  京纲要办发〔2023〕第2号  "],
)
def test_doc_number_brackets_and_spaces(line):
    number = doc_number_line(line)
    assert (number.organ_code, number.year, number.serial) == ("京纲要办发", 2023, 2)


def test_doc_number_in_a_sentence_is_not_the_header_number():
    sentence = "现将国家纲要办《关于印发<2020年全民科学素质行动工作要点>的通知》（纲要办发〔2020〕1号）转发给你们，请认真贯彻落实。"
    assert doc_number_line(sentence) is None
    assert [n.raw for n in find_doc_numbers(sentence)] == ["纲要办发〔2020〕1号"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2023年4月13日", dt.date(2023, 4, 13)),
        ("2023 年 3 月 30 日", dt.date(2023, 3, 30)),
        ("二〇二三年四月十三日", dt.date(2023, 4, 13)),
        ("二○一二年一月九日", dt.date(2012, 1, 9)),
        ("二〇二二年十二月三十一日", dt.date(2022, 12, 31)),
    ],
)
def test_dates(text, expected):
    assert parse_date(text)[0] == expected
    assert date_line(f"    {text}  ")[0] == expected


def test_impossible_or_embedded_dates_are_not_date_lines():
    assert parse_date("2023年2月30日") is None
    assert date_line("《新余市绿色建筑管理办法》已经2011年12月20日市政府常务会议通过") is None


def test_forwarding_title():
    assert forwarded_from_title("转发国家纲要办《关于印发<2020年全民科学素质行动工作要点>的通知》的通知") == (
        "国家纲要办",
        "关于印发<2020年全民科学素质行动工作要点>的通知",
    )
    assert forwarded_from_title("关于印发《2023年唐山市全民科学素质行动工作要点》的通知") is None
