"""Web pages: the notice out of the page (issue 14), on real government pages and on small pages."""

from __future__ import annotations

import json
import subprocess
import sys
from functools import cache
from pathlib import Path

import duckdb
import pytest
import regex

from extractors.text import compact
from pipeline.errors import ReadError
from pipeline.ingest import parse_file
from pipeline.readers import html, read_bytes
from tests.conftest import RAW, ROOT, SHARED

REAL = SHARED / "corpus" / "real"
GOVCN = REAL / "govcn_2019"
needs_shared = pytest.mark.skipif(not REAL.is_dir(), reason="../shared/ is not beside the project")


def page(body: str, head: str = "<meta charset='utf-8'>") -> bytes:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>".encode()


def read_page(body: str, head: str = "<meta charset='utf-8'>"):
    return html.read(page(body, head))


@cache
def parsed(path: Path):
    return parse_file(path, source_path=path.name)


# --- the article, as a person reads it ------------------------------------------------


def test_the_article_not_the_chrome():
    source = read_page(
        "<div class='nav'><a href='/'>首页</a><a href='/a'>机构设置</a><a href='/b'>政务公开</a></div>"
        "<div class='crumb'>当前位置：首页 &gt; 通知公告</div>"
        "<h1 class='title'>关于做好春季科普工作的通知</h1>"
        "<div id='zoom'><p>各区科协：</p><p>现将有关事项通知如下。请结合实际，认真组织实施，确保工作取得实效，并于五月底前报送工作总结。</p>"
        "<div class='share'>分享到：微信 微博</div></div>"
        "<div class='footer'>版权所有 北京市科学技术协会 京ICP备05000000号</div>",
        head="<meta charset='utf-8'><title>关于做好春季科普工作的通知_通知公告_北京科协</title>",
    )
    assert source.format == "html"
    assert source.text.split("\n") == [
        "关于做好春季科普工作的通知",  # the title bar above the article, read first as a person does
        "各区科协：",
        "现将有关事项通知如下。请结合实际，认真组织实施，确保工作取得实效，并于五月底前报送工作总结。",
    ]
    assert source.page.heading == "关于做好春季科普工作的通知"
    assert "Hanweb" in source.page.container


def test_padding_goes_a_gap_between_names_stays_and_tables_are_rows():
    source = read_page(
        "<div id='UCAP-CONTENT'>"
        "<p>\u3000\u3000一、加强科普。推动各区开展科普活动，做好相关保障工作。（责任单位：市科协）</p>"
        "<p>重\xa0\xa0庆\xa0\xa0市\xa0\xa0人\xa0\xa0民\xa0\xa0政\xa0\xa0府</p>"
        "<p>国务院办公厅\u3000中央军委办公厅</p>"
        "<p>第一行<br>第二行</p>"
        "<table><tr><td>序号</td><td>任务</td><td>责任单位</td></tr>"
        "<tr><td>1</td><td>开展科普日活动</td><td colspan='1'>市科协\n、市教委</td></tr></table>"
        "<script>var x = '不要我';</script><style>.a{}</style></div>"
    )
    assert source.text.split("\n") == [
        "一、加强科普。推动各区开展科普活动，做好相关保障工作。（责任单位：市科协）",
        "重庆市人民政府",
        "国务院办公厅  中央军委办公厅",
        "第一行",
        "第二行",
        "序号\t任务\t责任单位",
        "1\t开展科普日活动\t市科协 、市教委",
    ]


def test_a_page_found_by_text_density_when_no_template_is_known():
    paragraphs = "".join(f"<p>第{n}段，推进各项工作落实，做好组织保障，确保取得实效。</p>" for n in range(8))
    source = read_page(
        "<div class='topbar'><a href='/'>首页</a> <a>新闻</a> <a>公开</a></div>"
        f"<div class='x1'><div class='x2'>{paragraphs}</div></div>"
        "<div class='links'><a>相关链接一二三四五六七八九十</a><a>相关链接二</a></div>"
    )
    assert source.page.container == "text density"
    assert source.text.count("\n") == 7 and "首页" not in source.text and "相关链接" not in source.text


def test_html_is_recognised_by_content_whatever_the_name():
    data = page("<div id='zoom'><p>关于做好春季科普工作的通知，请各单位认真组织实施，确保取得实效。</p></div>")
    assert read_bytes(Path("notice.txt"), data).format == "html"
    assert read_bytes(Path("notice.shtml"), data).format == "html"
    assert not html.sniff("关于<b>做好</b>工作的通知".encode())


def test_declared_gb2312_is_read_as_gb18030_and_a_mislabelled_page_is_detected():
    text = "<div id='zoom'><p>镕，关于做好春季科普工作的通知，请各单位认真组织实施，确保取得实效。</p></div>"
    gbk = page(text, head="<meta http-equiv='Content-Type' content='text/html; charset=gb2312'>")
    gbk = gbk.decode().encode("gb18030")
    source = html.read(gbk)
    assert source.encoding == "gb18030" and "镕" in source.text and not source.warnings
    mislabelled = page(text, head="<meta charset='gb2312'>")  # UTF-8 bytes
    source = html.read(mislabelled)
    assert source.encoding == "utf-8" and "镕" in source.text
    assert [w.field for w in source.warnings] == ["encoding"]


def test_page_metadata_fills_what_the_article_lacks_and_the_body_wins():
    head = (
        "<meta charset='utf-8'><meta name='ArticleTitle' content='关于做好春季科普工作的通知'>"
        "<meta name='PubDate' content='2023-04-20 09:30'><link rel='canonical' href='https://www.example.gov.cn/a/1.html'>"
    )
    header = (
        "<table class='xxgk'><tr><td>索引号：</td><td>11110000000/2023-00012</td><td>发文机关：</td><td>北京市科学技术协会</td></tr>"
        "<tr><td>发文字号：</td><td>京科协发〔2023〕12号</td><td>成文日期：</td><td>2023-04-13</td></tr></table>"
    )
    body = (
        "<div id='zoom'><p>关于做好春季科普工作的通知</p><p>各区科协：</p>"
        "<p>请认真组织实施，确保各项工作取得实效。</p><p>北京市科学技术协会</p><p>2023年4月12日</p>"
        "<p><a href='/files/fj1.xlsx'>附件1：任务清单.xlsx</a></p></div>"
    )
    doc = parse_bytes_as_html(page(header + body, head))
    assert doc.title == "关于做好春季科普工作的通知"
    assert doc.doc_number.raw == "京科协发〔2023〕12号"  # only the page states it
    assert doc.date.isoformat() == "2023-04-12"  # the body's date wins over the page's 成文日期
    assert doc.posted_date.isoformat() == "2023-04-20"  # 发布日期 is kept apart, never the 成文日期
    assert (doc.url, doc.index_number) == ("https://www.example.gov.cn/a/1.html", "11110000000/2023-00012")
    assert [(a.part, a.title, a.url) for a in doc.attachments] == [
        ("附件1", "任务清单", "https://www.example.gov.cn/files/fj1.xlsx")
    ]
    messages = {w.field: w.message for w in doc.warnings}
    assert "taken from the page" in messages["doc_number"]
    assert "differs" in messages["date"]


def parse_bytes_as_html(data: bytes):
    from extractors import extract_document

    return extract_document(html.read(data), source_path="page.html", content_hash="h")


# --- real pages -----------------------------------------------------------------------


def _view(doc) -> dict:
    """What a notice says, whatever its format (not where it sits: spans, pages)."""
    return {
        "title": doc.title,
        "doc_number": doc.doc_number.raw if doc.doc_number else None,
        "issuers": doc.issuers,
        "proxy_seal": doc.proxy_seal,
        "date": doc.date,
        "recipients": doc.recipients,
        "jurisdiction": doc.jurisdiction,
        "attachments": [(a.part, a.title) for a in doc.attachments],
        "sections": [(s.key, s.label, compact(s.title)) for s in doc.sections],
        "items": [(i.key, i.label, compact(i.text)) for i in doc.items],
        "units": [(i.key, m.raw_text, m.role, m.canonical_name) for i in doc.items for m in i.responsible_units],
    }


@needs_shared
def test_a_page_and_its_docx_twin_agree():
    page_doc = parsed(REAL / "3855aa22771c8814db303e7f276efc407c207f59e9faf464ee54b946b76f3b6a.html")
    docx_doc = parsed(REAL / "ac4c7809270a1f666b94f6f3d9e9be28b48c6d5dbd57b334f9d98a6c61a02c3f.docx")
    assert _view(page_doc) == _view(docx_doc)
    assert len(page_doc.items) == 11 and page_doc.proxy_seal


@needs_shared
def test_a_page_and_its_pdf_twin_agree_except_the_page_the_pdf_lacks():
    page_doc = parsed(REAL / "d96e8642cfa7392821b6bf00d53f55f95847a7ad3a4b915df02551abf91d7a29.html")
    pdf_doc = parsed(REAL / "533b5920a657f0b3e57e4550844497b698b5b6f0bc4c2fa4dda49dca6a09aac6.pdf")
    page_view, pdf_view = _view(page_doc), _view(pdf_doc)
    # The PDF's page 3 has no text layer (a scan; the date is printed there): OCR reads it (issue 17),
    # and the date printed there agrees with the page's.
    assert pdf_doc.ocr is not None and pdf_doc.ocr.pages == [3]
    assert pdf_view["date"] == page_view["date"] and page_view["date"].isoformat() == "2023-09-11"
    assert page_view == pdf_view
    assert page_doc.doc_number.raw == "东公积金委〔2023〕2号"


@needs_shared
def test_state_council_pages_give_the_crawls_title_number_and_office():
    index = json.loads((GOVCN / "index.json").read_text(encoding="utf-8"))
    misses = []
    for name, row in sorted(index.items()):
        doc = parsed(GOVCN / name)
        number = doc.doc_number.raw if doc.doc_number else None
        # The crawl writes an order's number the short way: 国令第707号 for 中华人民共和国国务院令第707号.
        number = number.replace("中华人民共和国国务院令", "国令") if number else None
        got = (doc.title, number, "、".join(doc.issuers))
        expected = (row["title"], row["release_number"], row["release_office"])
        if got != expected:
            misses.append(f"{name}: got {got}, crawl says {expected}")
    assert not misses, "\n".join(misses)  # the acceptance allows 2; none miss today


# What site chrome says (menus, breadcrumbs, widgets, footers); words a notice's own text does not use.
CHROME_WORDS = regex.compile(
    r"首页\s*[>＞]|返回首页|设为首页|加入收藏|网站地图|无障碍|用户登录|打印本页|关闭窗口|分享到|扫一扫|二维码|"
    r"版权所有|ICP备|网站标识码|公网安备|联系我们|当前位置|您的位置|上一篇|下一篇|相关链接|相关阅读|浏览次数|"
    r"浏览量|点击量|【字体|字号[：:]|主办单位[：:]|免责声明|高级搜索"
)


@needs_shared
def test_no_page_yields_site_navigation_as_notice_content():
    pages = sorted(REAL.glob("*.html")) + sorted(GOVCN.glob("*.html"))
    assert len(pages) == 68
    found = []
    for path in pages:
        doc = parsed(path)
        fields = [("title", doc.title), ("recipients", doc.recipients)]
        fields += [(f"item {i.key}", i.text) for i in doc.items]
        fields += [(f"unit {i.key}", m.raw_text) for i in doc.items for m in i.responsible_units]
        found += [f"{path.name} {where}: {text[:60]}" for where, text in fields if text and CHROME_WORDS.search(text)]
    assert not found, "\n".join(found)


@needs_shared
def test_news_pages_are_read_as_reports_about_a_notice():
    for name in ("46f43358a5bf2d451318c8f32a40b8933b36189c1826cda1db052df73b9caf29.html",
                 "4f5c28f95004051b34e5393ad0ddf6459baf817dfd10ef0b3d79a92aef814585.html"):
        doc = parsed(REAL / name)
        assert any(w.field == "genre" for w in doc.warnings), name
    for path in sorted(RAW.glob("*.html")):
        if not path.name.startswith("html_46f43358"):
            assert not any(w.field == "genre" for w in parsed(path).warnings), path.name


# --- bad pages --------------------------------------------------------------------------

BAD_PAGES = {
    "empty.html": (lambda: b"", "empty"),
    "truncated.html": (lambda: page("<div id='zoom'><p>关于做好工作的通知，认真组织实施。</p>")[:-30] + b"<p cla", "truncated"),
    "huge.html": (lambda: page("<p>关于做好工作的通知，认真组织实施，确保取得实效。</p>" * 600_000), "far beyond a notice page"),
    "scripts.html": (lambda: page("<script>" + "document.write('x');" * 50 + "</script>"), "only scripts"),
    "nested.html": (lambda: page("<div>" * 400 + "<p>关于做好工作的通知</p>" + "</div>" * 400), "nested deeper"),
    "picture.html": (lambda: b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 20, "binary content"),
}


@pytest.mark.parametrize("name", sorted(BAD_PAGES))
def test_a_bad_page_is_one_clear_error(name):
    make, words = BAD_PAGES[name]
    data = make()
    with pytest.raises(ReadError, match=words):
        read_bytes(Path(name), data)


def test_bad_pages_are_one_error_row_each_and_the_batch_goes_on(tmp_path):
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, (make, _) in BAD_PAGES.items():
        (folder / name).write_bytes(make())
    good = sorted(RAW.glob("html_*.html"))[:2]
    for path in good:
        (folder / path.name).write_bytes(path.read_bytes())
    db = tmp_path / "pages.duckdb"
    result = subprocess.run(
        [sys.executable, "-m", "cli", "ingest", str(folder), "--db", str(db), "--json", "--workers", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
    )
    assert result.returncode == 1, result.stderr
    with duckdb.connect(str(db), read_only=True) as con:
        stored = {Path(p).name for (p,) in con.execute("SELECT source_path FROM documents WHERE is_current").fetchall()}
        errors = con.execute("SELECT source_path, message FROM ingest_errors").fetchall()
    assert stored == {p.name for p in good}
    by_file = {}
    for path, message in errors:
        by_file.setdefault(Path(path).name, []).append(message)
    assert sorted(by_file) == sorted(BAD_PAGES)
    for name, (_, words) in BAD_PAGES.items():
        assert len(by_file[name]) == 1 and words in by_file[name][0], (name, by_file[name])


def test_the_readmes_web_page_query_answers_from_two_reviewed_pages(tmp_path):
    from pipeline.ingest import ingest

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sql = regex.search(r"### Notices from web pages.*?```sql\n(?P<sql>.*?)```", readme, flags=regex.S).group("sql")
    db = tmp_path / "pages.duckdb"
    pages = [RAW / "html_fd1a92a75c093625.html", RAW / "html_d1bfa55cd575e0ab.html"]
    assert ingest(pages, db, workers=1).exit_code == 0
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(sql).fetchall()
    assert [(r[1].isoformat(), r[2].isoformat(), r[3]) for r in rows] == [
        ("2016-09-26", "2016-09-26", "FZ00101-1300-2016-00062"),  # 福州: 发文字号 and 索引号 only in the page's header
        ("2022-05-21", "2022-05-24", None),  # 安阳: written on the 21st, posted on the 24th
    ]
    assert rows[0][4].startswith("http://www.fuzhou.gov.cn/") and rows[0][5] == ["doc_number"]
    assert rows[1][4] == "http://ayzjj.anyang.gov.cn/2022/05-24/2345149.html"


# --- cases from a review of the reader ---------------------------------------------------

NOTE_AND_DATE = "<p>北京市科学技术协会</p><p>2023年4月12日</p>"


def _doc(body: str, head: str = "<meta charset='utf-8'>"):
    return parse_bytes_as_html(page(body, head))


def test_a_link_line_after_the_date_gives_its_listed_attachment_the_url_once():
    doc = _doc(
        "<div id='zoom'><p>关于做好春季科普工作的通知</p><p>各区科协：</p><p>请认真组织实施，确保各项工作取得实效。</p>"
        "<p>附件：1.任务清单</p><p>2.分工方案</p>" + NOTE_AND_DATE +
        "<p><a href='/f/1.pdf'>附件1：任务清单.pdf</a></p><p><a href='/f/2.pdf'>附件2：分工方案.pdf</a></p></div>",
        head="<meta charset='utf-8'><link rel='canonical' href='https://x.gov.cn/a/b.html'>",
    )
    assert [(a.part, a.title, a.url) for a in doc.attachments] == [
        ("附件1", "任务清单", "https://x.gov.cn/f/1.pdf"),
        ("附件2", "分工方案", "https://x.gov.cn/f/2.pdf"),
    ]


def test_an_attachment_named_in_the_title_is_not_the_notice_itself():
    doc = _doc(
        "<div id='zoom'><p>关于印发北京市科普工作实施方案的通知</p><p>各区科协：</p>"
        "<p>现将《北京市科普工作实施方案》印发给你们，请认真贯彻落实。</p><p>附件：北京市科普工作实施方案</p>"
        + NOTE_AND_DATE + "<p><a href='/f/fa.pdf'>北京市科普工作实施方案.pdf</a></p></div>"
    )
    assert [(a.title, a.url) for a in doc.attachments] == [("北京市科普工作实施方案", "/f/fa.pdf")]
    assert not any("notice itself" in w.message for w in doc.warnings)


def test_an_aspnet_form_around_the_page_is_read():
    source = read_page("<form id='form1'><div id='zoom'><p>关于做好春季科普工作的通知，请各单位认真组织实施，确保取得实效，按时报送总结材料。</p></div></form>")
    assert source.text.startswith("关于做好春季科普工作的通知")


def test_merged_cells_keep_their_slots_and_spacer_cells_make_no_table():
    source = read_page(
        "<div id='UCAP-CONTENT'><table><caption>重点任务分工表</caption>"
        "<tr><th>序号</th><th>类别</th><th>工作任务</th><th>责任单位</th></tr>"
        "<tr><td>1</td><td rowspan='2'>加强科普</td><td>开展科普日活动</td><td>市科协</td></tr>"
        "<tr><td>2</td><td>建设科普基地</td><td>市教委</td></tr></table>"
        "<table><tr><td>&nbsp;</td><td><p>（一）推动科普工作，做好组织保障。</p><p>（二）加强队伍建设，完善激励机制。</p></td></tr></table></div>"
    )
    assert source.text.split("\n") == [
        "重点任务分工表",
        "序号\t类别\t工作任务\t责任单位",
        "1\t加强科普\t开展科普日活动\t市科协",
        "2\t\t建设科普基地\t市教委",
        "（一）推动科普工作，做好组织保障。",
        "（二）加强队伍建设，完善激励机制。",
    ]


def test_the_site_name_in_the_banner_is_not_the_title():
    doc = _doc(
        "<div class='logo'><h1>北京市科学技术协会</h1></div>"
        "<div id='zoom'><p>关于做好春季科普工作的通知</p><p>各区科协：</p><p>请认真组织实施，确保各项工作取得实效。</p>"
        + NOTE_AND_DATE + "</div>",
        head="<meta charset='utf-8'><title>北京市科学技术协会</title><meta name='SiteName' content='北京市科学技术协会'>",
    )
    assert doc.title == "关于做好春季科普工作的通知"


def test_a_title_bar_with_its_date_line_gives_the_title_only():
    doc = _doc(
        "<div class='title'>关于做好春季科普工作的通知 发布时间：2023-04-20 来源：市科协</div>"
        "<div id='zoom'><p>各区科协：</p><p>请认真组织实施，确保各项工作取得实效，按时报送总结材料。</p>" + NOTE_AND_DATE + "</div>",
        head="<meta charset='utf-8'><meta name='ArticleTitle' content='关于做好春季科普工作的通知'>",
    )
    assert doc.title == "关于做好春季科普工作的通知"


def test_a_title_quoted_in_the_first_paragraph_is_still_printed_above_it():
    doc = _doc(
        "<h1>关于做好春季科普工作的通知</h1><div id='zoom'><p>各区科协：</p>"
        "<p>现将《关于做好春季科普工作的通知》有关事项说明如下，请认真组织实施。</p>" + NOTE_AND_DATE + "</div>",
        head="<meta charset='utf-8'><title>关于做好春季科普工作的通知_通知公告</title>",
    )
    assert (doc.title, doc.recipients) == ("关于做好春季科普工作的通知", "各区科协")


def test_the_issuer_of_a_header_line_stops_at_the_next_label():
    doc = _doc(
        "<div>发文机关：北京市科学技术协会 主题分类：科技、教育</div>"
        "<div id='zoom'><p>关于做好春季科普工作的通知</p><p>各区科协：</p><p>请认真组织实施，确保各项工作取得实效。</p></div>"
    )
    assert doc.issuers == ["北京市科学技术协会"]


def test_preformatted_lines_and_a_latin_label_on_chinese_bytes():
    source = read_page("<div id='zoom'><pre>一、总体要求\n二、主要任务，推动各项工作落实，确保取得实效，按时报送。</pre></div>")
    assert source.text.split("\n")[:2] == ["一、总体要求", "二、主要任务，推动各项工作落实，确保取得实效，按时报送。"]
    gbk = page("<div id='zoom'><p>关于做好春季科普工作的通知，请各单位认真组织实施，确保取得实效。</p></div>",
               head="<meta charset='iso-8859-1'>").decode().encode("gb18030")
    source = html.read(gbk)
    assert source.encoding == "gb18030" and "科普" in source.text and source.warnings[0].field == "encoding"


def test_an_article_whose_class_looks_like_chrome_is_kept_and_text_after_it_is_page_text():
    source = read_page(
        "<table><tr><td><div id='zoom' class='print_area'><p>关于做好春季科普工作的通知，请各单位认真组织实施，确保取得实效。</p></div>"
        "发布日期：2023-04-20</td></tr></table>"
    )
    assert "科普" in source.text and "发布日期：2023-04-20" in source.page.around_lines


def test_a_long_title_on_one_line_is_kept():
    from extractors import extract_document
    from schemas import SourceText

    title = "国务院办公厅关于全面推行行政执法公示制度执法全过程记录制度重大执法决定法制审核制度的指导意见"
    doc = extract_document(
        SourceText(text=f"{title}\n国办发〔2018〕118号\n各省、自治区、直辖市人民政府：\n现提出如下意见。\n", format="txt"),
        source_path="x.txt", content_hash="h",
    )
    assert doc.title == title
