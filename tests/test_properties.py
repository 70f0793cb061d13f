"""Property tests: the extractors on any text, and on notice-like text built at random."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from extractors import extract_document
from extractors.text import strip_markup
from schemas import SourceText

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Lines a notice is made of: headings, items (with and without unit lists), tables,
# dates, numbers, noise. Random mixes of them hit the parser's branches.
_NOTICE_LINES = st.sampled_from(
        [
            "北京市科学技术协会文件", "京科协发〔2023〕5号", "关于印发2023年科普工作要点的通知", "各区科协：",
            "一、总体要求", "二、重点任务", "（一）加强组织领导", "（二）强化条件保障", "（三）",
            "1.开展全国科普日活动。（中国科协、教育部）", "2.实施青少年科学素质提升行动。（市教委牵头，各区参与）",
            "3.加强科普队伍建设。（市科协）", "1. 举办科技周。", "10.第十项任务", "（1）细化措施",
            "附件：1. 重点任务", "2. 任务清单", "附件1", "附件2", "任务类别\t序号\t具体工作任务名称\t主责单位",
            "一、弘扬科学家精神\t1\t老科学家演讲团讲座\t市科委、中关村管委会", "\t2\t科普讲座\t市科协",
            "北京市科学技术协会", "2023年4月13日", "二〇二三年四月十三日", "（北京市科学技术协会代章）",
            "— 3 —", "抄送：市委办公厅", "QC小组（质量控制小组）", "<u>市文物局</u>", "✓ 4. 打造科普长廊。（经开区）",
            "", "   ", "转发国家纲要办《关于印发<2020年全民科学素质行动工作要点>的通知》的通知",
        ]
)
LINE = st.one_of(_NOTICE_LINES, _NOTICE_LINES, _NOTICE_LINES, st.text(max_size=40))
NOTICE = st.lists(LINE, max_size=40).map("\n".join)


def _parse(text: str):
    return extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="h")


def _flat(text: str) -> str:
    # Python's idea of whitespace (str.strip, which tells blank lines) includes \x1c-\x1f; regex's \s does not.
    return "".join(ch for ch in strip_markup(text) if not ch.isspace())


def _check(text: str) -> None:
    doc = _parse(text)
    flat = _flat(text)
    by_section: dict = {}
    for item in doc.items:
        # Offsets point inside the text, and at the item's own source.
        assert 0 <= item.span.start <= item.span.end <= len(text)
        assert text[item.span.start : item.span.end] == item.raw_text
        # Every paragraph of an item's text is in the source (whitespace and markup aside).
        for paragraph in item.text.split("\n"):
            assert _flat(paragraph) in flat
        # Numbers rise within a list: a section's list, or a second one numbered from 1 again (its
        # key carries the list: 正文/1/请各单位做好以下工作/1).
        within = item.key.rsplit("/", 1)[0]
        by_section.setdefault((item.part, item.section_key, item.category is not None, within), []).append(item.number)
    for numbers in by_section.values():
        assert all(a < b for a, b in zip(numbers, numbers[1:])), numbers
    assert len({i.key for i in doc.items}) == len(doc.items)


@SETTINGS
@given(st.text(max_size=400))
def test_any_unicode_text_parses_without_error(text):
    _check(text)


@SETTINGS
@given(NOTICE)
def test_notice_like_text_keeps_the_item_invariants(text):
    _check(text)
