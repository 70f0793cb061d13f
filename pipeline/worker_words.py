"""jieba's dictionary for an ingest's workers, loaded once by the fork server they start from.

Imported in the fork server (ingest's `_Supervisor` names this module as its preload), so each
worker forked from it shares the dictionary's pages (~50 MB) instead of building its own copy
(0.5 s of CPU each time a worker starts). Never imported by the writer, which splits no words.
"""

from __future__ import annotations

import gc
import os

from extractors.tokens import search_words


def address_space_mb() -> int:
    """This process's address space (VmSize) in MB; 0 where /proc is not there."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE") // 2**20
    except (OSError, ValueError):
        return 0


_before = address_space_mb()
search_words("预热")
# The address space the dictionary takes: a worker's --max-memory-mb comes on top of it.
WORDS_MB = max(0, address_space_mb() - _before)
# Frozen: the garbage collector of a forked worker does not walk the dictionary (and so does
# not write to its shared pages).
gc.freeze()
