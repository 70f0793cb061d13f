"""Web pages (.html/.htm/.shtml): the notice out of a government site's page.

A page is a notice inside site chrome (navigation, breadcrumbs, share and
print widgets, related links, footers, scripts). The reader finds the
article — first by the content containers of the site systems government
portals run on (gov.cn UCAP, TRS editors, 政府信息公开 / gkmlpt pages, mobile
pages), then by text density — and turns it into lines as a person reads
them: one line per paragraph, `<br>` a line break, table rows tab-separated
like DOCX/PDF tables, full-width and NBSP padding removed.

What the page says about the notice besides the article (its <meta> tags,
the 索引号/发文字号/成文日期 header table, its URL, links to 附件 files) is
kept in `SourceText.page` as written; extractors/page.py reads and checks it
against the body. Parsing is lxml's HTML parser (installed with python-docx),
which is lenient with the broken markup real sites serve.
"""

from __future__ import annotations

import codecs
import re
from urllib.parse import urljoin

from extractors.text import without_space
from pipeline.errors import ReadError
from pipeline.limits import TABLE_MAX_COLUMNS, active, raise_hint
from schemas import PageLink, ParseWarning, SourceText, WebPage

FORMAT = "html"
SUFFIXES = (".html", ".htm", ".shtml", ".xhtml")


# Content containers of the site systems government portals run on, most
# specific first: (attribute, value pattern, where seen). The first one holding
# enough text is the article.
CONTAINERS: list[tuple[str, str, str]] = [
    ("id", r"^UCAP-CONTENT$", "gov.cn (UCAP)"),
    ("class", r"\bTRS_(?:UEDITOR|Editor|PreAppend)\b", "TRS editor"),
    ("class", r"\bpages_content\b", "gov.cn article pages"),
    ("id", r"^(?:zoom|Zoom|fontzoom|BodyLabel)$", "Hanweb / 政府信息公开 pages"),
    ("class", r"\barticle-content\b", "gkmlpt / Hanweb"),
    ("class", r"\b(?:article_content|artical_content|art_con|arti_content|view_content|detail_content)\b", "CMS article"),
    ("class", r"\b(?:j-fontContent|newscontnet|newscontent|news-content|news_content|newsCon|content_text|conTxt|zw|zwnr)\b",
     "news CMS"),
    ("class", r"\b(?:wap[-_]?con(?:tent)?|wap[-_]?article|m[-_]content|mobile[-_]content)\b", "mobile (_wap) pages"),
    ("id", r"^(?:contentText|ContentBody|detail_content|docContent|articleContent|art_content|xxgk_content|zoomcon|"
           r"wap[-_]?content)$", "CMS article ids"),
    ("id", r"^(?:content|article|news-content|news_content|zwnr|con_main|artibody|js_content|mainCon)$", "common ids"),
    ("class", r"^(?:content|article|detail|text|main-content|content-box)(?:\s|$)", "common classes"),
]
_CONTAINERS = [(attr, re.compile(pattern), seen) for attr, pattern, seen in CONTAINERS]

# Elements that are never part of the notice. (Not <form>: ASP.NET pages wrap the whole body in one.)
_DROP_TAGS = ("script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
              "select", "button", "input", "textarea", "nav", "head")
# Site widgets by their id/class: breadcrumbs, share/print/font-size tools, related links, QR codes.
_CHROME = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumb|crumbs?|position|location|share|bdshare|bshare|print|"
    r"font-?size|fontsize|zihao|toolbar|tools|qrcode|scan_code|ewm|related|relevant|xgwz|xglj|"
    r"footer|foot|copyright|sidebar|side|pagination|prev|next|comment|search|login|topbar)(?:$|[\s_-])",
    re.I,
)
_BLOCK_TAGS = frozenset(
    "p div h1 h2 h3 h4 h5 h6 li ul ol dl dd dt table tbody thead tfoot tr section article header "
    "footer aside main center blockquote pre address figure figcaption hr caption".split()
)
_FILE_LINK = re.compile(r"\.(?:pdf|docx?|xlsx?|wps|et|ofd|zip|rar|7z|txt|csv|pptx?)(?:$|[?#])", re.I)
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
# Padding inside a line: full-width spaces and NBSP used to indent or to spread
# a short name (重\xa0\xa0庆) are layout, not words.
_PAD = re.compile(r"[\u3000\xa0\u2002\u2003\u2009]")
_RUN = re.compile(r"[ \u3000\xa0\u2002\u2003\u2009]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\ufeff]")
_SOURCE_SPACE = re.compile(r"[ \t\r\n]+")
_BLOCK = "\x00"  # a block's edge while walking: blocks are lines, the markup between them is not
_CJK = re.compile(r"[\u3400-\u9fff]")
_SENTENCE = re.compile(r"[。，；]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def sniff(head: bytes) -> bool:
    """HTML by content: the file opens with markup and names an html/head/body element."""
    start = head.lstrip(codecs.BOM_UTF8).lstrip()[:1024].lower()
    if not start.startswith(b"<") or b"\x00" in head:
        return False
    return any(tag in start for tag in (b"<!doctype html", b"<html", b"<head", b"<body", b"<meta ", b"<title"))


def decode(data: bytes) -> tuple[str, str, list[ParseWarning]]:
    """The page's text and encoding: BOM, then the declared charset, then what decodes.

    GB2312/GBK are read as GB18030 (their superset: pages labelled GB2312 use
    GBK characters). A page whose declared charset does not decode it is read
    in the one that does, with a warning.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", "replace"), "utf-8", []
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace"), "utf-16", []
    match = _CHARSET.search(data[:8192])
    declared = _codec(match.group(1).decode("ascii", "ignore")) if match else None
    tried = [declared] if declared else []
    tried += [enc for enc in ("utf-8", "gb18030") if enc not in tried]
    if declared not in (None, "utf-8") and not data.isascii():
        # Valid multi-byte UTF-8 is almost never GBK (or Latin) text by chance: a page saved
        # as UTF-8 that still says gb2312 is read as what it is. A single-byte charset
        # (iso-8859-1) decodes any bytes: Chinese text in it is GB18030 or UTF-8 mislabelled.
        candidates = ["utf-8"] if declared in _CHINESE_CODECS else ["utf-8", "gb18030"]
        for encoding in candidates:
            try:
                return data.decode(encoding), encoding, [_mislabelled(declared, encoding)]
            except UnicodeDecodeError:
                continue
    for encoding in tried:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        warnings = [_mislabelled(declared, encoding)] if declared and encoding != declared else []
        return text, encoding, warnings
    encoding = declared or "utf-8"
    names = ", ".join(dict.fromkeys(e.upper() for e in tried))
    warning = ParseWarning(
        field="encoding", message=f"the page does not decode as {names}; unreadable characters are replaced"
    )
    return data.decode(encoding, "replace"), encoding, [warning]


_CHINESE_CODECS = ("gb18030", "big5", "big5hkscs", "utf-16", "utf-16-le", "utf-16-be")


def _codec(label: str) -> str | None:
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in ("gb2312", "gbk", "gb18030", "hz") else name


def _mislabelled(declared: str, actual: str) -> ParseWarning:
    return ParseWarning(field="encoding", message=f"the page says it is {declared} but is {actual}; read as {actual}")


def read(data: bytes) -> SourceText:
    if not data.strip():
        raise ReadError("the file is empty")
    most = active().html_mb
    if len(data) > most * 2**20:
        raise ReadError(
            f"a web page of {len(data) / 2**20:.0f} MB, far beyond a notice page (limit {most} MB; "
            f"{raise_hint('html_mb')}); save the article alone (or as PDF) and ingest that"
        )
    if b"\x00" in data[:65536] and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError("binary content, not a web page; check what the file is")
    text, encoding, warnings = decode(data)
    controls = len(_CONTROL.findall(text, 0, 65536))
    if controls > 20:
        raise ReadError(f"binary content, not a web page ({controls} control characters); check what the file is")
    if _truncated(text):
        raise ReadError("the page ends in the middle of a tag: a truncated download; fetch the page again")
    from lxml import etree

    try:
        # lxml's plain HTML parser: lxml.html's element classes cost a lookup per element.
        parser = etree.HTMLParser(remove_comments=True)
        root = etree.fromstring(_XML_DECL.sub("", text, count=1), parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise ReadError(f"not readable as HTML ({exc}); open it in a browser and save it again") from exc
    if any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log):
        # libxml2 stops at 256 levels of nesting (and so does our walk): no real page goes there.
        raise ReadError("the page's markup is nested deeper than 256 levels; not a page to read as a notice")
    if root is None:
        raise ReadError("the page has no readable text (only scripts or markup); nothing to ingest")
    page = _page_info(root)
    for element in list(root.iter(*_DROP_TAGS)):
        if element is not root:
            _drop(element)
    article, found_by = _find_article(root)
    if article is None:
        raise ReadError(
            "the page's body has no readable text (only scripts or markup): its content may be loaded by "
            "JavaScript; save the page from a browser after it shows the notice"
        )
    page.container = found_by
    page.heading = _heading_before(article, root, page)
    page.links = _file_links(article, root, page.url)
    lines = _lines(article, drop_chrome=True)
    if page.heading and not _starts_with(lines, page.heading):
        # The site prints the title above the article: read it there, as a person does.
        lines.insert(0, _SITE_TAG.sub("", page.heading))
    page.around_lines = _around_lines(root, article)
    body = "\n".join(lines)
    if not body.strip():
        raise ReadError("the page's article is empty; nothing to ingest")
    return SourceText(text=body, format=FORMAT, encoding=encoding, warnings=warnings, page=page)


def _text(element) -> str:
    return "".join(element.itertext())


def _drop(element) -> None:
    """Remove an element, keeping the text that follows it."""
    parent = element.getparent()
    if element.tail:
        previous = element.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)


_OPEN_TAG_AT_END = re.compile(r"<[!/a-zA-Z][^>]*$")  # `a < b` in text is no tag


def _truncated(text: str) -> bool:
    """The file stops inside a tag or a comment (a download cut short)."""
    tail = text.rstrip()[-4096:]
    return bool(_OPEN_TAG_AT_END.search(tail)) or tail.rfind("<!--") > tail.rfind("-->")


# --- page information --------------------------------------------------------------


def _page_info(root) -> WebPage:
    meta: dict[str, str] = {}
    for element in root.iter("meta"):
        name = element.get("name") or element.get("property") or element.get("itemprop")
        content = element.get("content")
        if name and content and content.strip() and name not in meta:
            meta[name] = _clean(content)
    url = None
    for link in root.iter("link"):
        if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
            url = link.get("href").strip()
            break
    url = url or next((meta[k] for k in ("og:url", "Url", "url", "URL") if k in meta), None)
    if url and not re.match(r"^https?://", url):
        url = None  # a relative or script-made value names no page
    title = next(iter(root.iter("title")), None)
    return WebPage(url=url, meta=meta, title=_clean(_text(title)) if title is not None else None)


def _clean(text: str) -> str:
    return " ".join(_PAD.sub(" ", text).split())


# --- finding the article -----------------------------------------------------------


def _find_article(root):
    """The element holding the notice and how it was found (a template, or text density)."""
    body = root.find("body")
    if body is None:
        body = root
    for attr, pattern, seen in _CONTAINERS:
        for element in body.iter("div", "td", "article", "section", "span", "main"):
            value = element.get(attr)
            if value and pattern.search(value) and _text_size(element) >= 50:
                return element, f"{seen}: {attr}={value.strip()}"
    best = _densest(body)
    if best is not None:
        return best, "text density"
    if _CJK.search(_text(body)):
        return body, "whole page (no paragraph long enough to weigh)"  # e.g. a page that is one table of short cells
    return None, ""


def _text_size(element) -> int:
    """CJK characters outside links: what a reader reads, not what a menu lists."""
    total = len(_CJK.findall(_text(element)))
    linked = sum(len(_CJK.findall(_text(a))) for a in element.iter("a"))
    return total - linked


def _densest(body):
    """Readability's idea, small: paragraphs credit their parent and half their grandparent."""
    scores: dict = {}
    for element in body.iter("p", "td", "div", "li", "span", "font", "section", "pre"):
        own = (element.text or "") + "".join(child.tail or "" for child in element)
        if element.tag == "p" or element.tag == "pre":
            own = _text(element)
        size = len(_CJK.findall(own))
        if size < 10:
            continue
        score = 1 + size / 25 + own.count("，") + own.count("。") + own.count("；")
        parent = element if element.tag not in ("p", "span", "font") else element.getparent()
        for weight, holder in ((1.0, parent), (0.5, parent.getparent() if parent is not None else None)):
            if holder is not None:
                scores[holder] = scores.get(holder, 0.0) + score * weight
    if not scores:
        return None
    ranked = []
    for element, score in scores.items():
        text = _text(element)
        linked = sum(len(_text(a)) for a in element.iter("a"))
        ranked.append((score * (1 - linked / max(len(text), 1)), element))
    return max(ranked, key=lambda pair: pair[0])[1]


def _heading_before(article, root, page: WebPage) -> str | None:
    """The page's heading of the article: the title element above it that the page's own title names.

    Sites print the notice's title in a title bar outside the article (h1,
    class="title…"); the one matching <meta ArticleTitle> or the leading part
    of <title> (before `_栏目_站名`) is it. None when nothing matches: a
    guess could be a column name (网站滚动).
    """
    references = [without_space(page.meta.get(name, "")) for name in ("ArticleTitle", "og:title")]
    if page.title:
        references.append(without_space(_TITLE_SUFFIX.split(page.title)[0]))
    # The site's own name (a <title> that is only 北京市科学技术协会) names no article.
    site = without_space(page.meta.get("SiteName", ""))
    references = [r for r in references if len(r) >= 6 and r != site and not (site and r in site)]
    if not references:
        return None
    order = {element: n for n, element in enumerate(root.iter())}
    at = order.get(article, 0)
    best: tuple[tuple[int, int], str] | None = None
    for element in root.iter("h1", "h2", "h3", "h4", "div", "p", "td", "span", "strong"):
        if order.get(element, 0) >= at or _inside(article, element):
            continue
        text = _clean(_text(element))
        core = without_space(_SITE_TAG.sub("", text))
        if not 6 <= len(core) <= 200:
            continue
        marked = element.tag in ("h1", "h2", "h3", "h4") or _TITLE_MARK.search(
            f"{element.get('class') or ''} {element.get('id') or ''}"
        )
        # An element holding exactly the title beats one holding it with the date line beside it.
        if any(core == r for r in references):
            rank, heading = (2, -len(core)), text
        elif marked and (inner := next((r for r in references if r in core), None)):
            # The title with the date line beside it in one element: the title only.
            rank, heading = (1, -len(core)), inner
        elif marked and any(core in r for r in references):
            rank, heading = (1, -len(core)), text
        else:
            continue
        if _in_banner(element):
            continue
        if best is None or rank >= best[0]:
            best = (rank, heading)
    return best[1] if best else None


_BANNER = re.compile(r"logo|banner|header|(?:^|[\s_-])(?:top|head)(?:$|[\s_-])", re.I)


def _in_banner(element) -> bool:
    """Inside the site's banner (logo, header): the site's name, not the article's title."""
    while element is not None:
        if isinstance(element.tag, str) and _BANNER.search(f"{element.get('class') or ''} {element.get('id') or ''}"):
            return True
        element = element.getparent()
    return False


# `标题_栏目_站名`, `标题 - 站名`, `标题-站名` (not the hyphen of 2023-2025).
_TITLE_SUFFIX = re.compile(r"\s*[_|｜]\s*|\s+[-–—]\s+|(?<!\d)-(?!\d)(?=[^-]*$)")
_TITLE_MARK = re.compile(r"title|biaoti|heading|(?:^|[\s_-])tit|\bbt\d?\b", re.I)
# A site's tag in front of a title: [已废止], 【稳经济大盘一揽子政策】.
_SITE_TAG = re.compile(r"^\s*(?:\[[^\]]{1,16}\]|【[^】]{1,16}】)\s*")


_TITLE_STATUS_TAIL = re.compile(r"[（(][^（）()]{1,12}[）)]")  # （试行） after the title


def _starts_with(lines: list[str], heading: str) -> bool:
    """The article already opens with its title: the heading (maybe wrapped), or a line the
    heading quotes (我市出台《关于…若干措施》 above 关于…若干措施)."""
    first = [without_space(line) for line in lines if line.strip()][:12]
    core = without_space(_SITE_TAG.sub("", heading))
    # The title as one line, or wrapped over a few (a quote of it inside a paragraph does not count).
    for start in range(len(first)):
        joined = ""
        for line in first[start : start + 4]:
            joined += line
            if joined == core or (joined.startswith(core) and _TITLE_STATUS_TAIL.fullmatch(joined[len(core):])):
                return True
            if not core.startswith(joined):
                break
    return bool(first) and len(first[0]) >= 8 and first[0] in core


def _inside(element, ancestor) -> bool:
    while element is not None:
        if element is ancestor:
            return True
        element = element.getparent()
    return False


def _file_links(article, root, base: str | None) -> list[PageLink]:
    """Links to attachment files: in the article, or anywhere on the page when their text says 附件."""
    links: list[PageLink] = []
    seen: dict[str, PageLink] = {}
    for element in root.iter("a"):
        href = (element.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        text = _clean(_text(element)) or _clean(element.get("title") or "")
        in_article = _inside(element, article)
        if not _FILE_LINK.search(href) and not (in_article and text.startswith("附件") and "." in href):
            continue
        if not in_article and "附件" not in text and not _FILE_LINK.search(text):
            continue
        url = urljoin(base, href) if base else href
        if url in seen:
            if text and not seen[url].text:  # an icon's link first, then the named one
                seen[url].text = text
            continue
        seen[url] = PageLink(text=text, url=url)
        links.append(seen[url])
    return links


# --- lines as a person reads them -------------------------------------------------


def _lines(element, *, drop_chrome: bool, skip=None) -> list[str]:
    """The element's text: one line per block, table rows tab-separated, padding removed.

    `skip`: an element inside it not to read (its tail is read)."""
    out: list[str] = []
    _walk(element, out, drop_chrome, skip=skip, root=True)
    lines = []
    for block in "".join(out).split(_BLOCK):
        # Markup whitespace between blocks is no line; an empty paragraph (<p>&nbsp;</p>) and
        # <br><br> are the blank lines the page shows.
        if block.strip(" "):
            lines.extend(_strip_line(line) for line in block.split("\n"))
    kept: list[str] = []
    for line in lines:
        if drop_chrome and _BOILERPLATE.match(line):
            continue
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept


# Site boilerplate written inside the article's container.
_BOILERPLATE = re.compile(
    r"^[【\[]?(?:免责声明|版权声明|扫一扫在手机(?:打开|上查看)|分享到[:：]|【?打印本页|【?关闭窗口|"
    r"二维码\s*end|文章页结束)"
)


def _strip_line(line: str) -> str:
    cells = [_tidy(cell) for cell in line.split("\t")]
    if len(cells) > 1 and any(cells):
        return "\t".join(cells)
    return cells[0]


def _tidy(cell: str) -> str:
    """Padding out: letter-spacing (重\xa0\xa0庆) and indents go; a wide gap between names
    on a short line (国务院办公厅\u3000中央军委办公厅, a joint signature) stays a gap."""
    cell = _INVISIBLE.sub("", cell).strip(" \u3000\xa0\u2002\u2003\u2009")
    tokens = _RUN.split(cell)
    if len(tokens) >= 3 and all(len(t) == 1 and _CJK.match(t) for t in tokens):
        return "".join(tokens)
    short = len(cell) <= 60 and not _SENTENCE.search(cell)

    def gap(m: re.Match) -> str:
        run = m.group(0)
        if run == " ":
            return " "
        if short:
            return "  "
        before, after = cell[m.start() - 1], cell[m.end()] if m.end() < len(cell) else ""
        return "" if _CJK.match(before) and _CJK.match(after) else " "

    return _RUN.sub(gap, cell)


def _walk(element, out: list[str], drop_chrome: bool, *, skip=None, root: bool = False, pre: bool = False) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if element is skip or (drop_chrome and tag and not root and _is_chrome(element)):
        return  # never the article itself, whatever its class says
    if tag == "table":
        out.append(_BLOCK)
        out.extend(line + _BLOCK for line in _table_lines(element, drop_chrome, skip))
        return
    if tag == "br":
        out.append("\n")
    elif tag in _BLOCK_TAGS:
        out.append(_BLOCK)
    pre = pre or tag == "pre"
    # Source whitespace (newlines, indents of the markup) is one space, as a browser shows it;
    # inside <pre> lines are kept.
    text_of = _pre_text if pre else _browser_text
    if tag and element.text:
        out.append(text_of(element.text))
    for child in element:
        _walk(child, out, drop_chrome, skip=skip, pre=pre)
        if child.tail:
            out.append(text_of(child.tail))
    if tag in _BLOCK_TAGS:
        out.append(_BLOCK)


def _browser_text(value: str) -> str:
    return _SOURCE_SPACE.sub(" ", value)


def _pre_text(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")


def _is_chrome(element) -> bool:
    marks = f"{element.get('class') or ''} {element.get('id') or ''}".strip()
    if not marks or not _CHROME.search(marks):
        return False
    # A container whose name only looks like chrome but holds the text (class="main side-content")
    # stays: widgets are short.
    return _text_size(element) < 200


def _table_lines(table, drop_chrome: bool, skip=None) -> list[str]:
    """Rows as tab-separated lines, like DOCX/PDF tables; a layout table's single cells as blocks."""
    rows = [tr for tr in table.iter("tr") if _nearest_table(tr) is table]
    lines: list[str] = []
    caption = table.find("caption")
    if caption is not None:
        lines.extend(_lines(caption, drop_chrome=drop_chrome))
    below: dict[int, int] = {}  # column → rows a rowspan above still covers
    for tr in rows:
        cells = [cell for cell in tr if isinstance(cell.tag, str) and cell.tag in ("td", "th")]
        filled = [cell for cell in cells if cell.find(".//table") is not None or _text(cell).strip()]
        if len(filled) <= 1 or any(cell.find(".//table") is not None for cell in cells):
            # Layout: a row with one cell of text (beside spacers), or of nested tables, is read as blocks.
            for cell in cells:
                lines.extend(_lines(cell, drop_chrome=drop_chrome, skip=skip))
            below.clear()
            continue
        texts: list[str] = []
        for cell in cells:
            while below.get(len(texts), 0) > 0:  # the cell above spans into this row: read once, slot kept
                below[len(texts)] -= 1
                texts.append("")
            if len(cell) == 0:  # text only: most cells of a big table
                text = _tidy(_SOURCE_SPACE.sub(" ", cell.text or ""))
            else:
                text = " ".join(line for line in _lines(cell, drop_chrome=drop_chrome, skip=skip) if line)
            rowspan = _span(cell, "rowspan", TABLE_MAX_ROWSPAN)
            for k in range(_span(cell, "colspan", TABLE_MAX_COLUMNS)):
                if rowspan > 1:
                    below[len(texts)] = rowspan - 1
                texts.append(text.replace("\t", " ") if k == 0 else "")
        while below.get(len(texts), 0) > 0:
            below[len(texts)] -= 1
            texts.append("")
        if any(texts):
            lines.append("\t".join(texts))
    return lines


def _nearest_table(tr):
    element = tr.getparent()
    while element is not None and element.tag != "table":
        element = element.getparent()
    return element


TABLE_MAX_ROWSPAN = 1000


def _span(cell, attribute: str, limit: int) -> int:
    try:
        return max(1, min(int(cell.get(attribute) or 1), limit))
    except ValueError:
        return 1


def _around_lines(root, article) -> list[str]:
    """The page's text outside the article (header tables, title bars, footers), for its metadata."""
    body = root.find("body")
    if body is None or article is body:
        return []
    lines = _lines(body, drop_chrome=False, skip=article)
    return [line for line in lines if line][:400]
