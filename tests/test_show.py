"""`notices show DOC`: one document's outline (metadata, heading tree, tasks with units and roles) on the
seed database, as a tree that reads at 80 columns and piped, and as JSON.

Expected values were read off the seeds: 京纲要办发〔2023〕2号 is seed 003 (18 headings, 320 tasks: 59 in
附件1 under 一、…四、 and 261 table rows of 附件2); seed 000 item 55 is the one task whose clause names a
lead (（中国科协牵头，各成员单位参与）)."""

from __future__ import annotations

import json

import duckdb
import pytest
from typer.testing import CliRunner

from cli import app
from pipeline.query import display_width

runner = CliRunner()


def show(db, *args: str):
    return runner.invoke(app, ["show", *args, "--db", str(db)], env={"COLUMNS": "80"})


def _walk(nodes, parent=None):
    for node in nodes:
        yield node, parent
        yield from _walk(node.get("children", []), node)


def test_the_outline_as_json_holds_every_heading_and_task_of_the_document_once(seed_db):
    result = show(seed_db, "京纲要办发〔2023〕2号", "--json")
    assert result.exit_code == 0, result.output
    outline = json.loads(result.stdout)
    assert outline["document"]["title"] == "关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知"
    assert outline["document"]["issued_date"] == "2023-04-13"
    assert outline["issuers"] == ["北京市全民科学素质纲要实施工作办公室"]
    assert [a["part"] for a in outline["attachments"]] == ["附件1", "附件2"]
    assert [p["part"] for p in outline["parts"]] == ["附件1", "附件2"]
    doc_id = outline["document"]["document_id"]
    with duckdb.connect(str(seed_db), read_only=True) as con:
        sections = dict(con.execute("SELECT section_key, parent_key FROM sections WHERE document_id = ?", [doc_id]).fetchall())
        items = dict(con.execute("SELECT item_key, section_key FROM items WHERE document_id = ?", [doc_id]).fetchall())
        mentions = con.execute(
            "SELECT item_key, coalesce(canonical_name, raw_text), role FROM unit_mentions WHERE document_id = ? "
            "ORDER BY item_key, position", [doc_id]).fetchall()
    assert outline["counts"] == {"sections": 18, "items": 320, "unit_mentions": 683} == {
        "sections": len(sections), "items": len(items), "unit_mentions": len(mentions)}
    nodes = list(_walk(p for part in outline["parts"] for p in part["children"]))
    keys = [node["key"] for node, _ in nodes]
    assert len(keys) == len(set(keys)) == len(set(sections) | set(items))
    for node, parent in nodes:
        # Each node sits under its parent heading (a task under its section), or at its part's top.
        expected = sections.get(node["key"]) if node["kind"] == "section" else items[node["key"]]
        assert (parent["key"] if parent else None) == expected
    # Every mention is under its task, in the order written, with its role.
    shown = [(node["key"], u["name"], u["role"]) for node, _ in nodes for u in node.get("units", [])]
    assert sorted(shown) == sorted(mentions) and len(shown) == 683
    top = outline["parts"][0]["children"]
    assert [n["label"] for n in top] == ["一、", "二、", "三、", "四、"]
    assert top[0]["children"][1]["text"].startswith("构建科学家精神宣传体系。")


def test_the_tree_shows_headings_tasks_and_units_with_roles_within_80_columns(seed_db):
    result = show(seed_db, "003_b8b4a31499fe38d2.txt")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "关于印发2023年北京市全民科学素质工作重点任务和任务清单的通知"
    text = result.stdout
    for fact in ("发文字号 京纲要办发〔2023〕2号", "成文日期 2023-04-13", "行政区域 北京市", "18 headings, 320 tasks, 683 unit mentions"):
        assert fact in text
    assert "├── 一、大力弘扬科学家精神，在全社会厚植创新发展沃土  [附件1/1]" in text
    assert "│   ├── [附件1/1/2] 2. 构建科学家精神宣传体系。" in text
    # The units of task 附件1/1/2, all responsible (a plain list), below it.
    task = next(i for i, line in enumerate(lines) if "[附件1/1/2]" in line)
    assert lines[task + 1].endswith("→负责：北京市科学技术协会、北京市科学技术委员会、中关村科技园区管理委员")
    # At 80 columns (CliRunner's output is no terminal: no colours), no line is wider, none ends in padding.
    assert max(display_width(line) for line in lines) <= 80
    assert "\x1b[" not in text and not [line for line in lines if line != line.rstrip()]


def test_a_named_lead_and_a_collective_are_marked(seed_db):
    result = show(seed_db, "000_69453124")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    task = next(i for i, line in enumerate(lines) if "[附件/55]" in line)
    assert "55. 开展《纲要》实施情况中期评估。（中国科协牵头，各成员单位参与）" in lines[task]
    assert lines[task + 1].endswith("→牵头：中国科学技术协会；参与：各成员单位*")
    # The missing metadata is said, not left blank.
    assert "3 warnings (doc_number, issuers, date)" in result.stdout.replace("\n       ", " ")


def test_full_wraps_the_whole_text_of_each_task(seed_db):
    cut = show(seed_db, "京纲要办发〔2023〕2号").stdout
    full = show(seed_db, "京纲要办发〔2023〕2号", "--full").stdout
    ending = "推动科学家精神从科技界走向全社会。"  # the end of task 附件1/1/2, past 80 columns
    assert ending not in cut
    assert ending in full.replace("\n", "").replace("│", "").replace(" ", "")
    assert max(display_width(line) for line in full.splitlines()) <= 80


@pytest.mark.parametrize(
    ("ref", "message"),
    [("房地产", "no document matches '房地产'"), ("全民科学素质", "matches 4 documents")],
)
def test_a_reference_naming_no_document_or_several_is_one_line(seed_db, ref, message):
    result = show(seed_db, ref)
    assert result.exit_code == 2
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
