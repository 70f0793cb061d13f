"""Tasks, clauses, roles and names on reviewed real notices (data/raw/, see data/SOURCES.md) and on
the clause styles of issue 13, one string at a time."""

from __future__ import annotations

import datetime as dt
from functools import cache

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from extractors import extract_document
from extractors.jurisdiction import place_named, place_of_organ
from extractors.normalize import resolve
from extractors.units import find_clauses, read_clause
from pipeline.ingest import ingest, parse_file
from schemas import SourceText
from tests.conftest import RAW, seed


@cache
def real(name: str):
    return parse_file(RAW / name, source_path=name)


def parse_text(text: str, **options):
    return extract_document(SourceText(text=text, format="txt"), source_path="x.txt", content_hash="h", **options)


def units(item):
    return [(m.raw_text, m.role) for m in item.responsible_units]


# --- tasks at whatever level the notice numbers them ------------------------------------


def test_measures_numbered_as_headings_are_tasks_with_their_clauses():
    doc = real("docx_ac4c7809270a1f66.docx")  # 安徽, 11 measures 一、…十一、, each ending in a clause
    assert [i.label for i in doc.items] == ["一、", "二、", "三、", "四、", "五、", "六、", "七、", "八、", "九、", "十、", "十一、"]
    first = doc.items[0]
    # The task is also a section: the tree keeps its level, label and title.
    section = next(s for s in doc.sections if s.key == first.key)
    assert (section.level, section.label, section.title) == (1, "一、", "加强民生商品保供稳价")
    assert units(first) == [
        ("省发展改革委", "responsible"), ("省商务厅", "responsible"), ("省市场监管局", "responsible"),
        ("省农业农村厅", "responsible"), ("各市、县人民政府", "responsible"),
    ]
    assert first.units_tail == "等按职责分工负责"
    assert first.responsible_units[-1].is_collective


def test_numbering_runs_on_across_headings():
    doc = real("govcn_2019_57.html")  # （一）…（五十三） across 一、…四、
    assert len(doc.items) == 53
    assert [i.number for i in doc.items] == list(range(1, 54))
    assert {i.key for i in doc.items if i.number in (16, 17)} == {"正文/1.16", "正文/2.17"}
    assert all(i.responsible_units for i in doc.items)
    # 五、切实做好组织实施 is a bare heading with paragraphs under it: a section, not a task.
    assert not any(i.key == "正文/5" for i in doc.items) and any(s.key == "正文/5" for s in doc.sections)


def test_lead_sentence_measures_with_their_body_below():
    doc = real("govcn_2019_01.html")  # （一）统筹建设监管工作平台。 + its paragraphs
    assert [i.key for i in doc.items][:2] == ["正文/3.1", "正文/3.2"]
    assert len(doc.items) == 10
    assert doc.items[0].text.split("\n")[0] == "统筹建设监管工作平台。"
    assert doc.items[0].text.split("\n")[1].startswith("各省（区、市）人民政府要以国家企业信用信息公示系统")


def test_bare_heading_with_body_and_a_clause_line():
    doc = real("html_d1bfa55cd575e0ab.html")  # 一、title / paragraph / 责任单位：市财政局
    first = doc.items[0]
    assert first.text.split("\n")[-1] == "责任单位：市财政局"
    assert [(m.raw_text, m.canonical_name, m.paragraph) for m in first.responsible_units] == [
        ("市财政局", "安阳市财政局", 3)
    ]
    # The last measure ends at its clause: the closing paragraphs after it are not part of it.
    assert doc.items[-1].text.endswith("责任单位：市住房城乡建设局")


def test_regulation_articles_under_chapters():
    doc = real("docx_45a677fa0a40a136.docx")  # 北京市地震预警管理办法: 第一章 … / 第一条 …
    assert [s.label for s in doc.sections] == ["第一章", "第二章", "第三章", "第四章", "第五章", "第六章"]
    assert [i.label for i in doc.items][:3] == ["第一条", "第二条", "第三条"] and len(doc.items) == 22
    assert doc.items[1].section_key == "正文/1"
    assert doc.items[1].text.count("\n") == 1  # 第二条 has two paragraphs
    # The promulgation note under the title: date, order number, organ.
    assert doc.date == dt.date(2022, 12, 23)
    assert doc.doc_number.raw == "北京市人民政府第307号令" and doc.doc_number.year is None
    assert doc.issuers == ["北京市人民政府"] and doc.jurisdiction == "北京市"


def test_a_short_one_sentence_measure_among_long_ones_is_a_task():
    doc = real("html_49c0e4dbd96999c1.html")  # 四、（四）个人将购买2年以上（含2年）的住房对外销售的，免征增值税。
    assert "个人将购买2年以上（含2年）的住房对外销售的，免征增值税。" in [i.text for i in doc.items]


def test_a_list_of_short_entries_is_not_a_list_of_tasks():
    doc = real("pdf_720a9c9523021efe.pdf")  # 附件: 一、《明溪县购房补贴申请审批表》； …
    assert not [i for i in doc.items if i.part.startswith("附件(2)")]
    assert len(doc.items) == 12


BEIJING_STYLE = """北京市人民政府办公厅关于加快建设全民健身场地设施的实施意见

各区人民政府，市政府各委、办、局：

一、总体要求

以习近平新时代中国特色社会主义思想为指导，坚持以人民为中心。

二、扩大场地设施供给

（一）盘活城市空闲土地。利用城市空闲地、边角地建设健身设施。（责任单位：市体育局、市规划自然资源委、各区政府）

（二）用好公园绿地。在公园绿地中合理嵌入健身设施。（责任单位：市园林绿化局、各区政府）

三、提升运营水平

（三）推进学校场地开放。有序推动学校体育场地向社会开放。（责任单位：市教委、市体育局）

（四）完善运营机制。鼓励社会力量参与场地运营。
（责任单位：市体育局、市发展改革委、
市财政局）

北京市人民政府办公厅
2023年5月10日
"""


def test_a_beijing_style_opinion_numbered_on_across_headings():
    doc = parse_text(BEIJING_STYLE)
    assert [i.label for i in doc.items] == ["（一）", "（二）", "（三）", "（四）"]
    assert [i.key for i in doc.items] == ["正文/2.1", "正文/2.2", "正文/3.3", "正文/3.4"]
    assert all(m.role == "responsible" for i in doc.items for m in i.responsible_units)
    # A clause on its own line, broken across lines, still belongs to its task.
    assert [(m.raw_text, m.canonical_name) for m in doc.items[3].responsible_units] == [
        ("市体育局", "北京市体育局"), ("市发展改革委", "北京市发展和改革委员会"), ("市财政局", "北京市财政局"),
    ]
    assert [m.canonical_name for m in doc.items[0].responsible_units][:2] == ["北京市体育局", "北京市规划和自然资源委员会"]
    assert not any(i.key == "正文/1" for i in doc.items)  # 一、总体要求 stays a section


COUNTY_LEDGER = """巴中市恩阳区人民政府办公室关于印发2024年重点工作任务清单的通知

各乡镇人民政府、街道办事处，区级各部门：

1.落实减税降费政策。（牵头责任单位：区财政局；责任单位：区税务局、区人社局）
2.推进项目建设。（区发改局牵头，区住建局、区自然资源局参与）
3.强化宣传引导。（区委宣传部指导，各乡镇人民政府负责落实）

巴中市恩阳区人民政府办公室
2024年3月1日
"""


def test_a_county_task_list_with_lead_and_participants():
    doc = parse_text(COUNTY_LEDGER)
    assert doc.jurisdiction == "巴中市恩阳区"
    first, second, third = doc.items
    assert [(m.raw_text, m.role, m.canonical_name) for m in first.responsible_units] == [
        ("区财政局", "lead", "巴中市恩阳区财政局"),
        ("区税务局", "participant", "国家税务总局巴中市恩阳区税务局"),
        ("区人社局", "participant", "巴中市恩阳区人力资源和社会保障局"),
    ]
    assert units(second) == [("区发改局", "lead"), ("区住建局", "participant"), ("区自然资源局", "participant")]
    assert second.responsible_units[1].canonical_name == "巴中市恩阳区住房和城乡建设局"
    assert [(m.raw_text, m.role, m.canonical_name) for m in third.responsible_units] == [
        ("区委宣传部", "guiding", "中共巴中市恩阳区委宣传部"),
        ("各乡镇人民政府", "responsible", None),
    ]


# --- roles: what the notice says, and notes that rule the rest --------------------------


def test_first_listed_leads_from_the_notes_clause_on():
    doc = real("govcn_2019_39.html")  # （人力资源社会保障部、财政部负责。列第一位者为牵头单位，下同）
    assert doc.first_listed_leads == "note"
    first = doc.items[0]
    assert units(first) == [("人力资源社会保障部", "lead"), ("财政部", "participant")]
    assert all(item.responsible_units[0].role == "lead" for item in doc.items)
    assert not any("第一位" in m.raw_text for i in doc.items for m in i.responsible_units)


def test_a_plain_list_names_no_lead_unless_asked():
    item7 = next(i for i in seed("000").items if i.number == 7)
    assert {m.role for m in item7.responsible_units} == {"responsible"}
    runner = CliRunner()
    result = runner.invoke(app, ["parse", str(next(RAW.glob("000_*.txt"))), "--first-listed-leads"])
    assert result.exit_code == 0, result.output
    assert '"first_listed_leads": "option"' in result.stdout
    doc = parse_file(next(RAW.glob("000_*.txt")), first_listed_leads=True)
    item7 = next(i for i in doc.items if i.number == 7)
    assert [m.role for m in item7.responsible_units][:2] == ["lead", "participant"]
    # Words still win: 中国科协牵头，各成员单位参与 is read as written.
    item55 = next(i for i in doc.items if i.number == 55)
    assert units(item55) == [("中国科协", "lead"), ("各成员单位", "participant")]


def test_implied_units_from_a_note_for_later_tasks():
    doc = real("html_3855aa22771c8814.html")  # …以下均需各市、县人民政府落实，不再一一列出
    first, second = doc.items[0], doc.items[1]
    assert [m.implied for m in first.responsible_units] == [False] * 5
    implied = [m for m in second.responsible_units if m.implied]
    assert [(m.raw_text, m.role, m.is_collective) for m in implied] == [("各市、县人民政府", "responsible", True)]
    assert all(any(m.implied for m in i.responsible_units) for i in doc.items[1:])


# --- every clause style ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "expected", "tail"),
    [
        ("责任单位：市体育局、各区政府", [("市体育局", "responsible"), ("各区政府", "responsible")], None),
        ("责任部门：市房产局、市自然资源局", [("市房产局", "responsible"), ("市自然资源局", "responsible")], None),
        ("负责部门：人力资源社会保障部、商务部；适用范围：所有自贸试验区", [("人力资源社会保障部", "responsible"), ("商务部", "responsible")], None),
        ("牵头单位：市科委；配合单位：市教委", [("市科委", "lead"), ("市教委", "cooperating")], None),
        ("牵头责任单位：区财政局；责任单位：区税务局、区人社局",
         [("区财政局", "lead"), ("区税务局", "participant"), ("区人社局", "participant")], None),
        ("生态环境部牵头，发展改革委、工业和信息化部参与",
         [("生态环境部", "lead"), ("发展改革委", "participant"), ("工业和信息化部", "participant")], None),
        ("市委宣传部、市网信办指导，各区政府负责落实",
         [("市委宣传部", "guiding"), ("市网信办", "guiding"), ("各区政府", "responsible")], None),
        ("市场监管总局负责", [("市场监管总局", "responsible")], None),
        ("各地级以上市人民政府，省公安厅、发展改革委按职责分工负责",
         [("各地级以上市人民政府", "responsible"), ("省公安厅", "responsible"), ("发展改革委", "responsible")],
         "按职责分工负责"),
        ("教育部、科技部等按职责分工负责", [("教育部", "responsible"), ("科技部", "responsible")], "等按职责分工负责"),
        ("商务部、财政部等部门", [("商务部", "responsible"), ("财政部", "responsible")], "等部门"),
        ("人力资源社会保障部等有关部门和单位负责", [("人力资源社会保障部", "responsible")], "等有关部门和单位"),
        ("商务部、发展改革委等和各有关省级人民政府负责",
         [("商务部", "responsible"), ("发展改革委", "responsible"), ("各有关省级人民政府", "responsible")], "等"),
        ("国家发展改革委会同有关部门负责", [("国家发展改革委", "responsible"), ("有关部门", "responsible")], None),
    ],
)
def test_clause_styles(clause, expected, tail):
    reading = read_clause(clause)
    assert [(m.raw_text, m.role) for m in reading.mentions] == expected
    assert reading.tail == tail


def test_the_province_carries_over_in_a_list():
    doc = parse_text(
        "广东省人民政府办公厅关于做好道路交通安全工作的通知\n\n各地级以上市人民政府：\n\n"
        "1.加强重点车辆管理。（各地级以上市人民政府，省公安厅、发展改革委按职责分工负责）\n\n"
        "广东省人民政府办公厅\n2023年6月1日\n"
    )
    mentions = doc.items[0].responsible_units
    assert [(m.raw_text, m.read_as, m.canonical_name) for m in mentions] == [
        ("各地级以上市人民政府", None, None),
        ("省公安厅", None, "广东省公安厅"),
        ("发展改革委", "省发展改革委", "广东省发展和改革委员会"),
    ]


@pytest.mark.parametrize(
    "paragraph",
    [
        "推广政府和社会资本合作（PPP）模式。",
        "建立健全两级（市、区）联动机制。",
        "每年举办活动不少于10（场）。",
        "统筹各类资金（含中央补助资金）。",
        "以新时代文明实践中心(所、站)为阵地。",
        "抓好“五小”、QC小组（质量控制小组）活动。",
        "对科研仪器设备进行市场化运营管理（免税进口的科研仪器设备按有关政策规定执行）。",
    ],
)
def test_parentheses_that_are_not_clauses(paragraph):
    assert find_clauses(paragraph) == []


def test_several_clauses_in_one_task_and_half_width_brackets():
    clauses = find_clauses("加强监测预警。(市应急局负责)完善应急预案，开展演练。（市卫生健康委、各区政府负责）")
    assert [c.text for c in clauses] == ["市应急局负责", "市卫生健康委、各区政府负责"]


def test_a_note_in_a_clause_is_not_a_unit():
    reading = read_clause("省商务厅等按职责分工负责，各市、县人民政府负责落实。以下均需各市、县人民政府落实，不再一一列出")
    assert [m.raw_text for m in reading.mentions] == ["省商务厅", "各市、县人民政府"]
    assert [(n.kind, n.units) for n in reading.notes] == [("implied_units", "各市、县人民政府")]


# --- canonical names in any jurisdiction ------------------------------------------------


@pytest.mark.parametrize(
    ("name", "where", "canonical"),
    [
        ("市商务委", "重庆市", "重庆市商务委员会"),
        ("区财政局", "巴中市恩阳区", "巴中市恩阳区财政局"),
        ("县住建局", "安化县", "安化县住房和城乡建设局"),
        ("省公安厅", "广东省", "广东省公安厅"),
        ("市经济信息委", "重庆市", "重庆市经济和信息化委员会"),
        ("市文化旅游委", "重庆市", "重庆市文化和旅游委员会"),
        ("市规划自然资源委", "北京市", "北京市规划和自然资源委员会"),
        ("区人力社保局", "北京市西城区", "北京市西城区人力资源和社会保障局"),
        ("县发改局", "安化县", "安化县发展和改革局"),
        ("市场监管总局", "全国", "国家市场监督管理总局"),
        ("市税务局", "宿州市", "国家税务总局宿州市税务局"),
        ("人民银行宿州市中心支行", "宿州市", "中国人民银行宿州市中心支行"),
        ("埇桥区政府", "宿州市", "宿州市埇桥区人民政府"),
        ("宿州市地方金融监管局", "宿州市", "宿州市地方金融监督管理局"),
        ("州住建局", "恩施土家族苗族自治州", "恩施土家族苗族自治州住房和城乡建设局"),
        ("埇桥区教育体育局", "宿州市", "宿州市埇桥区教育体育局"),
        ("大连银保监局", "大连市", "中国银行保险监督管理委员会大连监管局"),
        ("市房屋登记中心", "福州市", "福州市房屋登记中心"),  # written out in full: read in its place
    ],
)
def test_short_names_resolve_in_any_jurisdiction(name, where, canonical):
    assert resolve(name, place_named(where)).canonical_name == canonical


@pytest.mark.parametrize(
    ("name", "where"),
    [
        ("区财政局", "北京市"),  # which district? not said
        ("县住建局", "巴中市恩阳区"),  # a district's notice does not name a county's bureau
        ("省公安厅", "巴中市恩阳区"),  # the province is not known from the table
        ("市房管中心", "宿州市"),  # not a standard department: its full name is not known
        ("市未来局", "北京市"),
    ],
)
def test_names_that_cannot_be_known_stay_unresolved(name, where):
    assert resolve(name, place_named(where)).resolution == "unresolved"


def test_jurisdiction_of_counties_and_districts():
    assert place_of_organ("巴中市恩阳区人民政府办公室") == "巴中市恩阳区"
    assert place_of_organ("安化县人民政府") == "安化县"
    assert place_of_organ("北京市西城区人民政府") == "北京市西城区"
    assert place_of_organ("唐山市全民科学素质工作领导小组") == "唐山市"
    assert place_of_organ("恩施土家族苗族自治州人民政府办公室") == "恩施土家族苗族自治州"
    assert place_of_organ("促进房地产市场平稳健康发展的若干措施") is None


# --- metadata on real pages --------------------------------------------------------------


def test_proxy_seal_and_short_signature():
    doc = real("docx_ac4c7809270a1f66.docx")  # 省完善促进消费体制机制厅际联席会议（代章）
    assert doc.issuers == ["安徽省完善促进消费体制机制厅际联席会议"]
    assert doc.proxy_seal == "代章"
    assert doc.jurisdiction == "安徽省"
    assert {w.field for w in doc.warnings} >= {"jurisdiction", "issuers"}
    assert doc.items[0].responsible_units[0].canonical_name == "安徽省发展和改革委员会"


def test_site_lines_are_never_title_recipients_or_date():
    # A copy of a page that kept the site's lines around the notice (沈阳, 2023; 安徽, 2022).
    doc = parse_text(
        "关于进一步支持刚性和改善性住房需求的通知\n\n发布时间： 2023-09-04   作者：    来源： 沈阳市房产局\n\n"
        "各区县（市）房产、自然资源、税务、公积金中心管理部（分中心），相关市直部门，在沈金融机构：\n\n"
        "为支持刚性和改善性住房需求，促进我市房地产市场平稳健康发展，经市政府同意，现就有关事宜通知如下。\n\n"
        "一、取消限制性购售政策\n\n取消二环内限购政策,取消住房销售限制年限规定，满足居民购房需求。\n\n"
        "（责任部门：市房产局、市自然资源局）\n\n"
        "沈阳市房产局      沈阳市自然资源局 \n\n国家税务总局沈阳市税务局        \n\n"
        "中国人民银行辽宁省分行营业管理部   \n\n  沈阳住房公积金管理中心        \n\n2023年9月3日     \n\n（此件公开发布）"
    )
    assert doc.title == "关于进一步支持刚性和改善性住房需求的通知"
    assert doc.date == dt.date(2023, 9, 3)
    assert doc.issuers == [
        "沈阳市房产局", "沈阳市自然资源局", "国家税务总局沈阳市税务局", "中国人民银行辽宁省分行营业管理部", "沈阳住房公积金管理中心",
    ]
    page = parse_text(
        "发布日期：2022-01-26 09:37信息来源：省发展改革委浏览量：\n\n关于印发进一步做好近期促进消费工作\n\n若干措施的通知\n\n"
        "各市人民政府，省有关单位：\n\n经省政府领导同意，现将《进一步做好近期促进消费工作若干措施》印发给你们，请结合实际，认真组织实施。"
    )
    assert page.recipients == "各市人民政府，省有关单位"
    assert page.title == "关于印发进一步做好近期促进消费工作若干措施的通知"


def test_a_unit_named_in_full_among_the_issuers():
    doc = real("html_49c0e4dbd96999c1.html")  # （责任部门：沈阳公积金中心）, signed 沈阳住房公积金管理中心
    mention = next(m for i in doc.items for m in i.responsible_units if m.raw_text == "沈阳公积金中心")
    assert (mention.canonical_name, mention.resolution) == ("沈阳住房公积金管理中心", "alias")


def test_an_order_is_issued_by_its_organ_not_the_signing_premier():
    doc = parse_text(
        "中华人民共和国个人所得税法实施条例\n\n中华人民共和国国务院令\n\n第707号\n\n"
        "现公布修订后的《中华人民共和国个人所得税法实施条例》，自2019年1月1日起施行。\n\n"
        "总理　　李克强\n\n2018年12月18日\n\n中华人民共和国个人所得税法实施条例\n\n"
        "第一条　根据《中华人民共和国个人所得税法》，制定本条例。\n"
    )
    assert doc.issuers == ["国务院"]
    assert doc.doc_number.raw == "中华人民共和国国务院令第707号"
    assert doc.date == dt.date(2018, 12, 18)


# --- in the database ---------------------------------------------------------------------


def test_roles_and_implied_units_survive_the_database_and_renormalize(tmp_path):
    db = tmp_path / "x.duckdb"
    assert ingest([RAW / "docx_ac4c7809270a1f66.docx", RAW / "govcn_2019_39.html"], db, workers=1).exit_code == 0

    def rows():
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute(
                "SELECT item_key, position, raw_text, role, implied, paragraph, canonical_name FROM unit_mentions "
                "ORDER BY ALL"
            ).fetchall()

    before = rows()
    assert any(r[4] for r in before) and {r[3] for r in before} >= {"lead", "participant", "responsible"}
    result = CliRunner().invoke(app, ["renormalize", "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert rows() == before
    with duckdb.connect(str(db), read_only=True) as con:
        leads = con.execute("SELECT first_listed_leads FROM documents ORDER BY source_path").fetchall()
    assert sorted(leads, key=str) == sorted([(None,), ("note",)], key=str)


def test_a_short_signature_is_read_from_the_title():
    doc = parse_text(
        "安徽省人民政府办公厅关于做好近期促进消费工作的通知\n\n各市人民政府，省政府各部门：\n\n"
        "一、开展促销活动。以春节为契机，开展形式多样的促销活动。（省商务厅负责）\n\n省政府办公厅\n2022年1月20日\n"
    )
    assert doc.issuers == ["安徽省人民政府办公厅"] and doc.jurisdiction == "安徽省"
    assert any(w.field == "issuers" and "省政府办公厅" in w.message for w in doc.warnings)
    assert doc.items[0].responsible_units[0].canonical_name == "安徽省商务厅"


def test_a_division_of_labour_table_with_lead_and_cooperating_columns():
    doc = parse_text(
        "关于印发2024年重点工作任务分工方案的通知\n\n各区政府：\n\n"
        "序号\t重点任务\t牵头单位\t配合单位\t完成时限\n"
        "1\t推进城市更新。\t市住房城乡建设委\t市发展改革委、各区政府\t2024年底\n"
        "2\t优化营商环境。\t市发展改革委\t\t2024年6月\n\n北京市人民政府办公厅\n2024年2月1日\n"
    )
    first, second = doc.items
    assert [(m.raw_text, m.role) for m in first.responsible_units] == [
        ("市住房城乡建设委", "lead"), ("市发展改革委", "cooperating"), ("各区政府", "cooperating"),
    ]
    assert [(m.raw_text, m.role, m.canonical_name) for m in second.responsible_units] == [
        ("市发展改革委", "lead", "北京市发展和改革委员会")
    ]


def test_a_heading_that_names_its_units_over_numbered_points_is_a_task_too():
    doc = parse_text(
        "北京市人民政府办公厅关于推进城市更新的实施意见\n\n各区人民政府：\n\n一、重点任务\n\n"
        "（一）推进老旧小区改造（责任单位：市住房城乡建设委、各区政府）\n1.完成300个小区改造。\n2.加装电梯500部。\n\n"
        "北京市人民政府办公厅\n2024年2月1日\n"
    )
    assert [i.key for i in doc.items] == ["正文/1.1", "正文/1.1/1", "正文/1.1/2"]
    assert [m.raw_text for m in doc.items[0].responsible_units] == ["市住房城乡建设委", "各区政府"]


def test_circled_numerals_and_numbered_points_with_a_clause():
    doc = parse_text(
        "宿州市房产管理服务中心关于贯彻执行若干措施的实施细则\n\n各县区：\n\n"
        "一、优化土地出让方式\n（一）适用范围：热点区域的重点地块。\n（二）办理流程：采取拍卖方式出让。\n"
        "（三）责任单位：市自然资源局。\n\n二、加快审批\n㈠优化流程。压缩审批时间。（市住房城乡建设局负责）\n"
    )
    first, second = doc.items
    assert first.key == "正文/1" and first.text.split("\n")[1:] == [
        "（一）适用范围：热点区域的重点地块。", "（二）办理流程：采取拍卖方式出让。", "（三）责任单位：市自然资源局。",
    ]
    assert [(m.raw_text, m.canonical_name, m.paragraph) for m in first.responsible_units] == [
        ("市自然资源局", "宿州市自然资源局", 4)
    ]
    assert (second.label, second.key) == ("㈠", "正文/2.1")


@pytest.mark.parametrize(
    ("note", "is_note"),
    [
        ("列第一位者为牵头单位，下同", True),
        ("排在第一位的部门为牵头部门", True),
        ("第一个为牵头单位", True),
        ("列在首位的为牵头单位", True),
        ("第一牵头单位：市发改委", False),
        ("第一批试点单位牵头开展", False),
    ],
)
def test_notes_that_make_the_first_listed_lead(note, is_note):
    from extractors.units import find_notes

    assert any(n.kind == "first_listed_leads" for n in find_notes(note)) is is_note


def test_implied_units_note_styles():
    from extractors.units import find_notes

    for note in ["以下均需各市、县人民政府落实，不再一一列出", "以下各项任务均需各区政府落实，不再一一列出",
                 "各区政府均为责任单位，以下不再一一列出"]:
        (found,) = find_notes(note)
        assert found.kind == "implied_units" and found.units.endswith("政府")


def test_chapters_follow_each_other_whatever_stood_at_the_top_before():
    doc = parse_text(
        "关于修改某办法的决定\n\n一、将第二条修改为：“本办法适用于全市。”\n\n二、将第五条删去。\n\n"
        "某市房产税改革试点暂行办法\n\n第一章总则\n\n第一条为规范试点，制定本办法。\n\n第二章征收范围\n\n第二条本办法适用于主城区。\n"
    )
    chapters = [s for s in doc.sections if s.label.startswith("第")]
    assert [s.title for s in chapters] == ["总则", "征收范围"]
    assert len({s.key for s in doc.sections}) == len(doc.sections)
    article2 = next(i for i in doc.items if i.label == "第二条")
    assert article2.text == "本办法适用于主城区。"


def test_the_forwarded_number_is_the_one_written_with_its_title():
    doc = parse_text(
        "国务院办公厅转发国家地震局关于1997年地震趋势和加强防震减灾工作意见报告的通知\n\n"
        "各省、自治区、直辖市人民政府：\n\n国家地震局《关于1997年地震趋势和加强防震减灾工作意见的报告》已经国务院同意，现转发给你们。"
        "要按照《国务院办公厅关于印发国家破坏性地震应急预案的通知》（国办发〔1996〕54号）精神，制定预案。\n\n"
        "国务院办公厅\n1997年2月4日\n"
    )
    assert doc.forwarded.issuer == "国家地震局"
    assert doc.forwarded.title == "关于1997年地震趋势和加强防震减灾工作意见报告"
    assert doc.forwarded.doc_number is None  # 国办发〔1996〕54号 is another document's


def test_review_findings_on_shared_mechanisms():
    # A 配合单位 column alone on a row keeps its role.
    doc = parse_text(
        "关于印发分工方案的通知\n\n各区政府：\n\n序号\t重点任务\t责任单位\t配合单位\n1\t推进改革。\t\t市财政局\n\n"
        "北京市人民政府办公厅\n2024年2月1日\n"
    )
    assert [(m.raw_text, m.role) for m in doc.items[0].responsible_units] == [("市财政局", "cooperating")]
    # A county of an autonomous prefecture knows its prefecture; 社区 is not a district.
    assert place_named(place_of_organ("恩施土家族苗族自治州来凤县人民政府")).city == "恩施土家族苗族自治州"
    assert place_of_organ("北京市社区服务中心") == "北京市"
    # A clause line holding only a note is not a clause.
    assert find_clauses("责任单位：列第一位者为牵头单位。") == []
    # An attachment marker with its title on the line starts a part of its own, once.
    doc = parse_text(
        "关于印发科普工作要点的通知\n\n各区科协：\n\n现将要点印发给你们。\n\n北京市科学技术协会\n2023年4月1日\n\n"
        "2023年科普工作要点\n\n1.开展科普日活动。（市科协）\n\n附件2 名词解释\n\n1.科普是指普及科学知识。\n"
    )
    assert [a.part for a in doc.attachments] == ["附件", "附件2"]
    assert len({i.key for i in doc.items}) == len(doc.items) == 2
