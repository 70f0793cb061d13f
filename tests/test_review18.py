"""A second reading of issue 18's writer changes: where the new write path meets the rest.

Each test reproduces a bug found in that reading (it failed before its fix)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def _in_a_process(script: str) -> list[str]:
    """Run `script` in a Python process of its own (address-space caps are for the whole process)."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_ocr_memory_cap_leaves_the_tokenizer_table_on_top():
    """A worker now holds jieba's table (pipeline/worker_preload.py), and its --max-memory-mb cap is
    raised by the table's size; OCR raises the cap to what the engine needs, and must raise it by the
    table too, or a scan gets less room than OCR_MEMORY_MB_PER_WORKER says (the table used to live in
    the writer, not in the workers)."""
    held, cap = map(int, _in_a_process(
        "import resource\n"
        "from pipeline.worker_preload import WORDS_MB\n"
        "from pipeline import ingest, ocr\n"
        "ingest._limit_memory(2048, WORDS_MB)  # as _worker_main does\n"
        "ocr._allow_ocr_memory()  # as a worker does before it loads the OCR engine\n"
        "print(WORDS_MB, resource.getrlimit(resource.RLIMIT_AS)[0] // 2**20)\n"
    ))
    from pipeline.limits import OCR_MEMORY_MB_PER_WORKER

    assert held > 0  # the table takes room: the test says something
    assert cap == OCR_MEMORY_MB_PER_WORKER + held
