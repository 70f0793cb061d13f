# The two commands: `make run` and `make test`. Both work on a fresh machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DB     ?= data/notices.duckdb

.PHONY: run test check eval bench bench-pdf bench-html bench-store bench-report browser report-png bench-search bench-export bench-publish bench-links bench-ocr ray-test bench-ray clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's metadata changes (editable install).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The optional Ray engine (notices ingest --engine ray): the ray extra on top of the test tools.
$(VENV)/.ray-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,ray]'
	touch $@

run: $(VENV)/.installed
	$(BIN)/notices ingest data/raw --db $(DB)

test: $(VENV)/.installed browser
	$(BIN)/python -m pytest -q
	$(BIN)/notices check

check: $(VENV)/.installed
	$(BIN)/notices check

ray-test: $(VENV)/.ray-installed
	$(BIN)/python -m pytest -q tests/test_ray.py

bench-ray: $(VENV)/.ray-installed
	$(BIN)/python -m pipeline.bench_ray

eval: $(VENV)/.installed
	$(BIN)/python -m pipeline.evaluate

bench: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench

bench-store: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_store

bench-report: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_report

bench-search: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_search

bench-export: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_export

bench-publish: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_publish

bench-links: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_links

bench-pdf: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_pdf

bench-ocr: $(VENV)/.installed
	$(BIN)/python -m pipeline.bench_ocr

bench-html: $(VENV)/.installed
	$(if $(shell command -v taskset),taskset -c 0) $(BIN)/python -m pipeline.bench_html

# Debian's chromium (and a CJK font, for readable screenshots) for tests/test_report_browser.py:
# installed once when missing and possible (root, apt-get); otherwise that test skips, saying why.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test (once, 1-2 min)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium fonts-wqy-microhei) >/dev/null 2>&1 || echo "note: could not install chromium; the browser test will skip"; \
	  else echo "note: chromium is missing (install it as root: apt-get install chromium); the browser test will skip"; fi; }

# The README's picture of `notices report` on the reviewed notices of data/raw/.
report-png: $(VENV)/.installed browser
	rm -rf /tmp/notices-report-png && mkdir -p /tmp/notices-report-png
	$(BIN)/notices ingest data/raw --db /tmp/notices-report-png/data_raw.duckdb -q
	$(BIN)/python -m pipeline.report_screenshot --db /tmp/notices-report-png/data_raw.duckdb --out docs/report.png
	rm -rf /tmp/notices-report-png

clean:
	rm -rf $(VENV) $(DB) *.egg-info
