"""Imported once by the process that forks ingest workers (multiprocessing forkserver).

Loading the readers, the extractors and jieba's dictionary here means each
worker starts with them ready instead of spending a second on imports.
DuckDB is not imported: workers never touch the database.
"""

import pdfplumber  # noqa: F401
import docx  # noqa: F401

import pipeline.ingest  # noqa: F401
from extractors.tokens import warm_up

warm_up()
