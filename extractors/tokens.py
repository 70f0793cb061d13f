"""Words of an item for full-text search (分词), with jieba.

The database stores each item's words and their counts; BM25 ranking is
done in SQL over them (pipeline/store.py), so searching needs no DuckDB
extension. `search_words` indexes words and their sub-words (jieba's
search mode: 中央宣传部 → 中央, 宣传, 宣传部, 中央宣传部) so a query for
a part of a long word still finds it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import lru_cache
from math import log
from typing import NamedTuple

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


class _Jieba(NamedTuple):
    """What `cut` takes from jieba, loaded once (not in the workers, which never cut)."""

    scores: dict[str, float | None]  # word → log P(word); a prefix of a word → None
    log_total: float  # log of the dictionary's total count
    runs: re.Pattern  # jieba's runs of text it segments (Han, Latin, digits …)
    spaces: re.Pattern  # jieba's split of the rest
    hmm_cut: Callable[[str], Iterator[str]]  # jieba's HMM for characters the dictionary does not join


@lru_cache(maxsize=1)
def _jieba() -> _Jieba:
    """jieba's dictionary as the same table its Tokenizer builds (FREQ), with the
    log taken once here instead of at each use, and without the rare compounds."""
    import jieba
    from jieba import finalseg

    scores: dict = {}  # counts first, then their logs
    total = 0
    with jieba.get_dict_file() as entries:  # jieba's own dictionary, from its package
        for line in entries:
            word_bytes, frequency = line.split(b" ", 2)[:2]
            word, count = word_bytes.decode("utf-8"), int(frequency)
            if _rare_compound(word, count):
                continue
            scores[word] = count  # a word listed twice: its last count, as in jieba
            total += count
            for end in range(1, len(word)):
                scores.setdefault(word[:end], None)
    log_total = log(total)
    # One float object per distinct count, shared by its words (most counts are small and repeat).
    by_count: dict[int, float] = {}
    for word, count in scores.items():
        if count:
            score = by_count.get(count)
            if score is None:
                score = by_count[count] = log(count) - log_total
            scores[word] = score
        elif count == 0:
            scores[word] = None  # listed with count 0: only the start of longer words, as in jieba
    return _Jieba(scores, log_total, jieba.re_han_default, jieba.re_skip_default, finalseg.cut)


def _rare_compound(word: str, count: int) -> bool:
    length, rare = RARE_COMPOUND
    return count < rare and len(word) >= length


def cut(text: str) -> Iterator[str]:
    """jieba's accurate mode with its HMM for unknown words (jieba.lcut), on the dictionary above.

    Written out here because the writer spends most of its time in it:
    scoring each position once, without jieba's separate DAG and route
    passes, it is ~1.7x faster and gives exactly jieba's words (a test
    compares them on the seeds and the corpus).
    """
    model = _jieba()
    for block in model.runs.split(text):
        if not block:
            continue
        if model.runs.match(block):
            yield from _cut_run(block, model)
        else:
            for piece in model.spaces.split(block):
                if model.spaces.match(piece):
                    yield piece
                else:
                    yield from piece


def _cut_run(run: str, model: _Jieba) -> Iterator[str]:
    scores = model.scores
    n = len(run)
    # best[k]: log-probability of the best split of run[k:]; end[k]: where its first word ends.
    best = [0.0] * (n + 1)
    end = [0] * (n + 1)
    unknown = -model.log_total  # a character that is no word: count 1
    for k in range(n - 1, -1, -1):
        top: float | None = None
        stop = k + 1
        i = k + 1
        while True:
            score = scores.get(run[k:i], 0)
            if score == 0:  # not a word nor the start of one
                break
            if score is not None:
                candidate = score + best[i]
                if top is None or candidate >= top:  # a tie goes to the longer word, as in jieba
                    top, stop = candidate, i
            if i >= n:
                break
            i += 1
        if top is None:
            top, stop = unknown + best[k + 1], k + 1
        best[k], end[k] = top, stop

    pending = ""  # single characters in a row: the HMM may join them

    def flush() -> Iterator[str]:
        if len(pending) == 1:
            yield pending
        elif scores.get(pending) is None:
            yield from model.hmm_cut(pending)
        else:
            yield from pending

    x = 0
    while x < n:
        y = end[x]
        if y - x == 1:
            pending += run[x]
        else:
            if pending:
                yield from flush()
                pending = ""
            yield run[x:y]
        x = y
    if pending:
        yield from flush()


def cut_for_search(text: str) -> Iterator[str]:
    """jieba's search mode (jieba.lcut_for_search): each word, preceded by its 2- and 3-character words."""
    scores = _jieba().scores
    for word in cut(text):
        n = len(word)
        if n > 2:
            for i in range(n - 1):
                if scores.get(word[i : i + 2]):
                    yield word[i : i + 2]
        if n > 3:
            for i in range(n - 2):
                if scores.get(word[i : i + 3]):
                    yield word[i : i + 3]
        yield word


def _keep(token: str) -> bool:
    """A word worth indexing: some letter, digit or Han character, and no whitespace."""
    if token.isalnum():  # nearly every word: no need for the regex
        return True
    return bool(_WORD.search(token)) and not any(ch.isspace() for ch in token)


def search_words(text: str) -> str:
    """The words of `text` for search, lower-cased and space-separated, repeats kept.

    `中央宣传部组织` → `中央 宣传 宣传部 中央宣传部 组织`. The database splits this
    string into item_tokens (word, count) itself, which is much faster than
    sending it one row per word.
    """
    return " ".join(t.lower() for t in cut_for_search(text) if _keep(t))


def query_terms(query: str) -> list[str]:
    """The words of a search query, in order, without repeats: `应急科普 老年人` → 应急, 科普, 老年人."""
    seen: dict[str, None] = {}
    for token in cut(query):
        token = token.strip().lower()
        if token and _keep(token):
            seen.setdefault(token, None)
    return list(seen)


def item_words(doc) -> dict[str, str]:
    """Search words of each item of a Document: item key → space-separated words."""
    return {item.key: search_words(item.text) for item in doc.items}
