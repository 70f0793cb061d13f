"""Words of an item for full-text search (分词), with jieba.

The database stores each item's words and their counts; BM25 ranking is
done in SQL over them (pipeline/store.py), so searching needs no DuckDB
extension. `search_words` indexes words and their sub-words (jieba's
search mode: 中央宣传部 → 中央, 宣传, 宣传部, 中央宣传部) so a query for
a part of a long word still finds it.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import regex

_WORD = regex.compile(r"[\p{Han}\p{L}\p{N}]")


@lru_cache(maxsize=1)
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    return jieba


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
