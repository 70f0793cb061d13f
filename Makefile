# The two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/notices.duckdb

.PHONY: run test check eval bench bench-pdf bench-html bench-store bench-ocr clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes (editable install).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/notices ingest data/raw --db $(DB)

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q
	$(BIN)/notices check

check: $(VENV)/.installed
	$(BIN)/notices check

eval: $(VENV)/.installed
	$(BIN)/python -m pipeline.evaluate

bench: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench

bench-store: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_store

bench-pdf: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_pdf

bench-ocr: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_ocr

bench-html: $(VENV)/.installed
	$(if $(shell command -v taskset),taskset -c 0) $(BIN)/python -m pipeline.bench_html

clean:
	rm -rf $(VENV) $(DB) *.egg-info
