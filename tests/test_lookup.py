"""--doc, --unit and the other filters of the reading commands (pipeline/lookup.py), on data/raw/.

Expected documents were read off the files: 京纲要办发〔2023〕2号 is the Beijing 2023 task list
(003_…), the five govcn_2019 pages are by 国务院 or 国务院办公厅, and seven samples are dated 2022."""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from cli import document_filter
from pipeline.errors import NoticeError
from pipeline.lookup import DocumentFilter, date_bound, matching_documents, resolve_document, unit_names


@pytest.fixture(scope="module")
def con(raw_db):
    connection = duckdb.connect(str(raw_db), read_only=True)
    yield connection
    connection.close()


def _paths(con, flt: DocumentFilter) -> list[str]:
    where, params = flt.where(con)
    rows = con.execute(f"SELECT source_path FROM documents d WHERE {where} ORDER BY 1", params).fetchall()
    return [r[0].rsplit("/", 1)[-1] for r in rows]


@pytest.mark.parametrize(
    "ref",
    ["京纲要办发〔2023〕2号", "京纲要办发[2023] 2号", "京纲要办发（2023）2号", "003_b8b4a31499fe38d2.txt", "003_b8b4",
     "data/raw/003_b8b4a31499fe38d2.txt", "2023年北京市全民科学素质工作重点任务"],
)
def test_a_document_is_found_by_number_file_name_or_title(con, ref):
    doc_id = resolve_document(con, ref)
    path = con.execute("SELECT source_path FROM documents WHERE document_id = ?", [doc_id]).fetchone()[0]
    assert path.endswith("003_b8b4a31499fe38d2.txt")
    assert resolve_document(con, doc_id[:6]) == doc_id


def test_an_ambiguous_or_unknown_reference_says_what_to_give(con):
    with pytest.raises(NoticeError, match=r"matches 9 documents.*give one of the ids"):
        resolve_document(con, "房地产")
    assert len(matching_documents(con, "房地产")) == 9
    with pytest.raises(NoticeError, match="notices docs"):
        resolve_document(con, "没有这个文件")
    assert matching_documents(con, "no_such_folder/") == []  # not every file (an empty name's start)


def test_filters_select_the_documents_they_name(con):
    assert _paths(con, DocumentFilter(jurisdiction="北京")) == ["003_b8b4a31499fe38d2.txt", "docx_45a677fa0a40a136.docx"]
    assert _paths(con, DocumentFilter(issuer="国务院")) == [f"govcn_2019_{n}.html" for n in ("01", "09", "37", "39", "57")]
    assert len(_paths(con, DocumentFilter(year=2022))) == 7
    # Both 2022-01-26 notices of 安徽 (DOCX and web page) fall in January; the 2022-12-23 order does not.
    january = _paths(con, document_filter(since="2022-01", until="2022-01"))
    assert january == ["docx_ac4c7809270a1f66.docx", "html_3855aa22771c8814.html"]
    assert _paths(con, DocumentFilter(docs=("国发〔2019〕5号", "004_26ef"))) == ["004_26ef23e71b9cbbbe.txt", "govcn_2019_01.html"]


def test_unit_filter_takes_an_alias_and_narrows_items(con):
    assert unit_names(con, "市科协") == ["北京市科学技术协会"]
    assert unit_names(con, "中国科学技术协会") == ["中国科学技术协会"]
    assert _paths(con, DocumentFilter(unit="市科协")) == ["003_b8b4a31499fe38d2.txt"]
    where, params = DocumentFilter(unit="市科协").where(con, item_alias="i")
    items = con.execute(f"SELECT count(*) FROM items i JOIN documents d USING (document_id) WHERE {where}", params).fetchone()[0]
    mentioned = con.execute(
        "SELECT count(DISTINCT item_key) FROM unit_mentions WHERE canonical_name = '北京市科学技术协会'"
    ).fetchone()[0]
    assert items == mentioned > 0
    with pytest.raises(NoticeError, match="notices units"):
        DocumentFilter(unit="不存在的局").where(con)


def test_date_bounds():
    assert date_bound("2024-02", end=True) == dt.date(2024, 2, 29)
    assert date_bound("2023") == dt.date(2023, 1, 1)
    assert date_bound("2023", end=True) == dt.date(2023, 12, 31)
    assert date_bound("2023/4/13") == dt.date(2023, 4, 13)
    with pytest.raises(NoticeError, match="not a date"):
        date_bound("April")
