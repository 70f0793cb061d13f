"""Words of an item for full-text search (分词), with jieba.

The database stores each item's words and their counts; BM25 ranking is
done in SQL over them (pipeline/store.py), so searching needs no DuckDB
extension. `search_words` indexes words and their sub-words (jieba's
search mode: 中央宣传部 → 中央, 宣传, 宣传部, 中央宣传部) so a query for
a part of a long word still finds it.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache

import regex

_WORD = regex.compile(r"[\p{Han}\p{L}\p{N}]")


# jieba's dictionary has 349,000 words. 72,000 of them are compounds of four
# or more characters seen fewer than five times in its corpus (科学知识,
# 人才培养): leaving those out keeps the tokenizer at ~36 MB instead of
# ~62 MB in the process that writes the database. Such a compound is then
# indexed and queried as its parts (科学 知识), which search mode indexes
# anyway, the same way on both sides; only the compound as one word is gone.
# Words of up to three characters (names such as 习近平) are all kept.
RARE_COMPOUND = (4, 5)  # (characters ≥, frequency <) of the dictionary words left out


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    with tokenizer.get_dict_file() as entries:  # jieba's own dictionary, from its package
        kept = b"".join(line for line in entries if not _rare_compound(line))
    tokenizer.FREQ, tokenizer.total = tokenizer.gen_pfdict(io.BytesIO(kept))
    tokenizer.initialized = True
    return tokenizer


def _rare_compound(entry: bytes) -> bool:
    """Is a dictionary line (`word frequency tag`) a long, rare compound?"""
    word, frequency = entry.split(b" ", 2)[:2]
    length, rare = RARE_COMPOUND
    return int(frequency) < rare and len(word.decode("utf-8")) >= length


def _keep(token: str) -> bool:
    return bool(_WORD.search(token)) and not any(ch.isspace() for ch in token)


def search_words(text: str) -> str:
    """The words of `text` for search, lower-cased and space-separated, repeats kept.

    `中央宣传部组织` → `中央 宣传 宣传部 中央宣传部 组织`. The database splits this
    string into item_tokens (word, count) itself, which is much faster than
    sending it one row per word.
    """
    return " ".join(t.lower() for t in _jieba().lcut_for_search(text) if _keep(t))


def query_terms(query: str) -> list[str]:
    """The words of a search query, in order, without repeats: `应急科普 老年人` → 应急, 科普, 老年人."""
    seen: dict[str, None] = {}
    for token in _jieba().lcut(query):
        token = token.strip().lower()
        if token and _keep(token):
            seen.setdefault(token, None)
    return list(seen)


def item_words(doc) -> dict[str, str]:
    """Search words of each item of a Document: item key → space-separated words."""
    return {item.key: search_words(item.text) for item in doc.items}
