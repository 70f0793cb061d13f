"""What an ingest's workers need before their first file, loaded once by the fork server they start from.

ingest's `_Supervisor` names this module as the fork server's preload: each worker forked from it
shares these pages with the others instead of loading its own copy (and does not spend ~0.5 s of
CPU building jieba's table each time a worker starts). Never imported by the writer, which splits
no words.
"""

from __future__ import annotations

import gc
import os

import pipeline.readers  # noqa: F401 (the readers and the parsing code, shared by every worker)
import pipeline.rows  # noqa: F401
from extractors.tokens import search_words


def address_space_mb() -> int:
    """This process's address space (VmSize) in MB; 0 where /proc is not there."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError):
        return 0


_before = address_space_mb()
search_words("预热")  # builds the tokenizer's table (extractors/tokens.py)
# The address space the table takes: a worker's --max-memory-mb (what a file may take) comes on top of it.
WORDS_MB = max(0, address_space_mb() - _before)
# Frozen: a worker's garbage collector does not walk what is here (and so does not write to its shared pages).
gc.freeze()
