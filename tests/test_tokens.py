"""Search words: the tokenizer written out in extractors/tokens.py gives exactly jieba's words."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import jieba
import pytest

from extractors import tokens
from tests.conftest import seed, seed_text

ROOT = Path(__file__).resolve().parents[1]
REAL = ROOT.parent / "shared" / "corpus" / "real"


@pytest.fixture(scope="module")
def reference():
    """jieba's own Tokenizer, on the same dictionary (jieba's, without the rare compounds)."""
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as entries:
        kept = b"".join(
            line for line in entries if not tokens._rare_compound(line.split(b" ")[0].decode(), int(line.split(b" ")[1]))
        )
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(kept))
    tokenizer.initialized = True
    return tokenizer


def _lines() -> list[str]:
    lines = []
    for stem in ("000", "001", "002", "003", "004"):
        lines += seed_text(stem).splitlines()
        lines += [item.text for item in seed(stem).items]  # as indexed: cleaned, joined
    if REAL.is_dir():  # more issuers and genres; GBK files are read as such
        for path in sorted(REAL.glob("*.txt")):
            data = path.read_bytes()
            for encoding in ("utf-8", "gb18030"):
                try:
                    lines += data.decode(encoding).splitlines()
                    break
                except UnicodeDecodeError:
                    continue
    # Mixed scripts and symbols: Latin words, digits with units, full-width punctuation, spaces.
    lines += ["GB 23350-2021《限制商品过度包装要求》标准宣贯", "COVID-19 疫情防控 2.0版", "ＡＢＣ　全角　空格", "市科协、市科委（牵头）"]
    return [line for line in lines if line.strip()]


def test_search_mode_words_are_jiebas_on_every_seed_and_corpus_line(reference):
    lines = _lines()
    assert len(lines) > 1000
    for line in lines:
        assert list(tokens.cut_for_search(line)) == reference.lcut_for_search(line), line
        assert list(tokens.cut(line)) == reference.lcut(line), line


def test_search_words_index_a_long_word_and_its_parts():
    assert tokens.search_words("中央宣传部组织开展应急科普").split() == [
        "中央", "宣传", "宣传部", "中央宣传部", "组织", "开展", "应急", "科普",
    ]
    assert tokens.query_terms("应急科普 老年人，应急") == ["应急", "科普", "老年人"]
