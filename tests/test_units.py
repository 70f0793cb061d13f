"""Responsible units: finding the list, splitting, roles, resolution in context."""

from __future__ import annotations

import shutil

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from extractors.jurisdiction import jurisdiction_of, place_named
from extractors.normalize import resolve
from extractors.units import find_unit_list, mentions_from_list
from tests.conftest import RAW, seed

# Names in seed 003 that cannot be settled from the text (see the closing note of issue 4):
# 市研究院 (市科研院? 市社科院?) and a bare 组织部 (市委组织部? 中央组织部?).
AMBIGUOUS = {"市研究院", "组织部"}


def mentions(doc):
    return [m for i in doc.items for m in i.responsible_units]


@pytest.mark.parametrize("prefix", ["000", "001", "003"])
def test_every_unit_list_has_mentions_and_they_resolve(prefix):
    doc = seed(prefix)
    for item in doc.items:
        if item.category is not None or item.units_text is not None:
            assert item.responsible_units, item.key
    found = mentions(doc)
    assert found
    unresolved = {m.raw_text for m in found if m.resolution == "unresolved"}
    assert unresolved <= AMBIGUOUS
    for m in found:
        assert (m.canonical_name is not None) or m.is_collective or m.raw_text in AMBIGUOUS


def test_task_items_of_000_and_001_all_carry_units():
    assert all(i.responsible_units for i in seed("000").items)
    assert all(i.responsible_units for i in seed("001").items)
    attachment1 = [i for i in seed("003").items if i.part == "附件1"]
    assert all(i.responsible_units for i in attachment1)


@pytest.mark.parametrize("prefix", ["002", "004"])
def test_notices_without_unit_lists_have_no_mentions(prefix):
    assert mentions(seed(prefix)) == []


def test_aliases_meet_at_one_unit():
    national = place_named("全国")
    beijing = place_named("北京市")
    pairs = [("应急部", "应急管理部"), ("人力资源和社会保障部", "人力资源社会保障部"), ("林草局", "林业和草原局")]
    for a, b in pairs:
        assert resolve(a, national).canonical_name == resolve(b, national).canonical_name is not None
    names = {resolve(n, beijing).canonical_name for n in ("市科学院", "市科研院", "北科院")}
    assert names == {"北京市科学技术研究院"}
    assert resolve("中国科协", beijing).canonical_name == "中国科学技术协会"


def test_short_names_resolve_in_the_notices_jurisdiction():
    doc003 = seed("003")
    assert doc003.jurisdiction == "北京市"
    canon = {m.raw_text: m.canonical_name for m in mentions(doc003)}
    assert canon["市科协"] == "北京市科学技术协会"
    assert resolve("市科协", place_named(jurisdiction_of(["唐山市全民科学素质工作领导小组"], None))).canonical_name == (
        "唐山市科学技术协会"
    )
    # 京 in the number is enough when the issuer names no place.
    assert jurisdiction_of([], seed("003").doc_number) == "北京市"
    # Seed 001 is a Guangdong notice, but the items come from the national document it forwards.
    doc001 = seed("001")
    assert doc001.jurisdiction == "广东省"
    assert {i.jurisdiction for i in doc001.items} == {"全国"}


def test_seed_000_roles():
    items = {i.number: i for i in seed("000").items}
    m55 = items[55].responsible_units
    assert [(m.raw_text, m.role, m.is_collective) for m in m55] == [
        ("中国科协", "lead", False),
        ("各成员单位", "participant", True),
    ]
    # A plain list names no lead: every unit is responsible, in the order written.
    m7 = items[7].responsible_units
    assert len(m7) == 9
    assert (m7[0].raw_text, m7[0].role, m7[0].canonical_name) == ("中央宣传部", "responsible", "中共中央宣传部")
    assert all(m.role == "responsible" for m in m7)
    assert [m.position for m in m7] == list(range(1, 10))


def test_run_together_names_are_split():
    rows = {i.number: i for i in seed("003").items if i.part == "附件2"}
    m127 = rows[127].responsible_units
    assert [(m.raw_text, m.role, m.split_from) for m in m127[:2]] == [
        ("市科委", "responsible", "市科委中关村管委会"),
        ("中关村管委会", "responsible", "市科委中关村管委会"),
    ]
    item16 = next(i for i in seed("003").items if i.key == "附件1/2.4/16")
    names = [m.canonical_name for m in item16.responsible_units]
    assert "中共北京市委社会工作委员会" in names and "北京市民政局" in names


def test_collectives_and_tails():
    item55 = next(i for i in seed("003").items if i.key == "附件1/4.3/55")
    assert item55.units_tail == "等成员单位"
    assert [m.raw_text for m in item55.responsible_units][-2:] == ["市司法局", "各区"]
    row170 = next(i for i in seed("003").items if i.part == "附件2" and i.number == 170)
    assert all(m.is_collective and m.resolution == "collective" for m in row170.responsible_units)


@pytest.mark.parametrize(
    "text",
    [
        # From seeds 002 and 003: parentheses that are not unit lists.
        "贯彻落实《劳动和技能竞赛规划（2021—2025年）》，抓好“五小”、QC小组（质量控制小组）",
        "以新时代文明实践中心(所、站)",
        "以基层科协“三长”(医院院长、学校校长、农技站站长)",
        "统筹推进科普(示范)基地",
        "纳入党校（行政学院）",
    ],
)
def test_parentheses_that_are_not_unit_lists(text):
    assert find_unit_list(text) is None


def test_unit_lists_with_brackets_inside_names():
    assert find_unit_list("全国中学生地球科学竞赛（市地震局、中国地质大学(北京)）") == "市地震局、中国地质大学(北京)"
    ms, tail = mentions_from_list("中国科协牵头，各成员单位参与")
    assert [(m.raw_text, m.role) for m in ms] == [("中国科协", "lead"), ("各成员单位", "participant")]
    ms, tail = mentions_from_list("省商务厅牵头，省发展改革委配合，各市、县人民政府负责")
    # 各市、县人民政府 is one collective; beside a lead, 负责 takes part.
    assert [(m.raw_text, m.role) for m in ms] == [
        ("省商务厅", "lead"), ("省发展改革委", "cooperating"), ("各市、县人民政府", "participant"),
    ]


def test_unknown_name_is_reported_then_resolved_by_renormalize(tmp_path):
    folder = tmp_path / "notices"
    folder.mkdir()
    source = next(RAW.glob("003_*.txt"))
    text = source.read_text(encoding="utf-8").replace("（市国资委、市总工会、市经信局、市知识产权局）", "（市国资委、市未来局）")
    assert "市未来局" in text
    (folder / "003-copy.txt").write_text(text, encoding="utf-8")
    db = tmp_path / "x.duckdb"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(folder), "--db", str(db)]).exit_code == 0
    listed = runner.invoke(app, ["units", "--unresolved", "--db", str(db)])
    assert listed.exit_code == 0
    assert "市未来局" in listed.stdout and "附件1/2.3/15" in listed.stdout

    extra = tmp_path / "my_units.tsv"
    extra.write_text("北京市未来产业局\tmunicipal\tgovernment\t北京市\t市未来局\t\n", encoding="utf-8")
    shutil.copy(source, tmp_path / "untouched.txt")  # renormalize must not need the files
    (folder / "003-copy.txt").unlink()
    result = runner.invoke(app, ["renormalize", "--db", str(db), "--dictionary", str(extra)])
    assert result.exit_code == 0, result.output
    with duckdb.connect(str(db), read_only=True) as con:
        canonical = con.execute(
            "SELECT canonical_name, resolution FROM unit_mentions WHERE raw_text = '市未来局'"
        ).fetchall()
        aliases = con.execute("SELECT canonical_name FROM unit_aliases WHERE alias = '市未来局'").fetchall()
    assert canonical == [("北京市未来产业局", "alias")]
    assert aliases == [("北京市未来产业局",)]
    after = runner.invoke(app, ["units", "--unresolved", "--db", str(db)])
    assert "市未来局" not in after.stdout


def test_a_malformed_dictionary_is_a_one_line_error(tmp_path, seeds_dir):
    bad = tmp_path / "bad.tsv"
    bad.write_text("just one column without tabs\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(seeds_dir), "--db", str(tmp_path / "x.duckdb"), "--dictionary", str(bad)])
    assert result.exit_code == 2
    assert "line 1" in result.stderr and str(bad) in result.stderr
