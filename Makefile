# Sequentia: `make course` and `make test` are all a fresh machine needs (python3 and make).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout=900 -p no:cacheprovider
NB ?= $(NOTEBOOKS)
export PYTHONHASHSEED := 0

.PHONY: help setup data course test lint unit nbval pairing sync lab bench run results site-check chromium

help:
	@echo "make course   set up, fetch data, execute every notebook into _build/ (tracked notebooks untouched)"
	@echo "make test     set up, then lint, unit tests, nbval on every notebook, the pairing check"
	@echo "make lab      JupyterLab at the repository root"
	@echo "make data     provision data/names.txt (verified copy, NAMES_MIRROR, or download)"
	@echo "make sync     jupytext-sync every notebook pair"
	@echo "make bench    run every notebook in a fresh kernel; table in _build/bench.md"
	@echo "make bench-transformer  notebook 05's training throughput, padded vs packed rows"
	@echo "make sweep-transformer  the dev-only sweep behind notebook 05's recipe (notebooks/transformer_sweep.json)"
	@echo "make results  regenerate the README's results table from the stored notebooks"
	@echo "make site-check  open the HTML course in headless Chromium (screenshots in _build/site-check/)"
	@echo "make run NB=notebooks/NN_name.ipynb    execute one notebook in place (authoring)"

# The environment: a virtualenv with the exact pins, then this project in editable mode so that
# `import utils` works from any folder a kernel starts in.
setup: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@

data:
	@$(PYTHON) -m utils.provision

sync: $(STAMP)
	$(BIN)/jupytext --sync $(NOTEBOOKS)

# The HTML course: every notebook executed afresh into _build/notebooks/ (tracked notebooks untouched),
# then the Jupyter Book (book/) built from those copies into _build/html/. Any Sphinx warning (a page
# that fails to build, an output it cannot render, a link to a missing notebook) fails the build.
course: $(STAMP) data
	$(PY) scripts/run_notebooks.py --out _build/notebooks $(NOTEBOOKS)
	$(call build_book,_build/notebooks)

BOOK_SRC := _build/book
# $(call build_book,DIR): assemble book/ and the executed notebooks of DIR in $(BOOK_SRC)/, build
# _build/html/ from scratch (no stale pages or cached warnings), never re-executing a notebook.
define build_book
	@rm -rf $(BOOK_SRC) _build/html _build/.doctrees _build/jupyter_execute _build/.jupyter_cache
	@mkdir -p $(BOOK_SRC)/notebooks
	cp book/_config.yml book/_toc.yml book/intro.md $(BOOK_SRC)/
	cp $(addprefix $(1)/,$(notdir $(NOTEBOOKS))) $(BOOK_SRC)/notebooks/
	@find $(1) -maxdepth 1 -type f ! -name '*.ipynb' ! -name '*.py' ! -name '*.log' ! -name '.*' \
	  -exec cp {} $(BOOK_SRC)/notebooks/ \;
	$(BIN)/jupyter-book build $(BOOK_SRC) --path-output . --warningiserror --keep-going \
	  || { rm -f _build/html/index.html; echo "The HTML course did not build: see the warnings above."; exit 1; }
	@echo "The HTML course (from $(1)/): _build/html/index.html"
endef

test: $(STAMP) data
	@set -e; t0=$$(date +%s); \
	for stage in lint unit nbval pairing site-check; do \
	  s=$$(date +%s); $(MAKE) --no-print-directory $$stage; \
	  echo "== stage $$stage: $$(( $$(date +%s) - s )) s"; \
	done; echo "== make test: all stages passed in $$(( $$(date +%s) - t0 )) s"

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/pytest tests -p no:cacheprovider

nbval: $(STAMP)
	$(BIN)/pytest $(NBVAL_FLAGS) $(NB)

# Re-sync every pair, then require that nothing changed: a drifted pair fails here.
pairing: $(STAMP)
	@$(BIN)/jupytext --sync --quiet $(NOTEBOOKS)
	@git diff --exit-code --stat -- notebooks || { echo "A notebook pair has drifted: run 'make sync', re-execute, and commit both files."; exit 1; }

lab: $(STAMP) data
	$(BIN)/jupyter lab --notebook-dir=.

bench: $(STAMP) data
	$(PY) scripts/run_notebooks.py --out _build/bench --bench _build/bench.md $(NOTEBOOKS)
	$(PY) scripts/bench_transformer.py --append _build/bench.md

# Notebook 05's Transformer: its training throughput, padded against packed rows (appended to
# _build/bench.md), and the dev-only sweep that chose its recipe (rewrites notebooks/transformer_sweep.json,
# single-threaded: about 2 minutes per setting on a quiet 2-core machine).
.PHONY: bench-transformer sweep-transformer
bench-transformer: $(STAMP) data
	$(PY) scripts/bench_transformer.py --append _build/bench.md

sweep-transformer: $(STAMP) data
	$(PY) scripts/sweep_transformer.py --force

.PHONY: results site-check chromium

# The README's results table, from what the stored notebooks publish (tests/test_results_readme.py
# fails `make test` when it is stale).
results: $(STAMP)
	$(PY) scripts/make_results.py

# The browser check of the HTML course: headless Chromium opens every page (screenshots and report in
# _build/site-check/). It checks _build/html as `make course` left it, or, if that is missing or older
# than a notebook, a site built from the stored notebooks (executed and checked by nbval). Skipped,
# with a message, where Chromium is not installed and cannot be (REQUIRE_CHROMIUM=1 makes that fail).
site-check: $(STAMP)
	@$(MAKE) --no-print-directory chromium || true
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
	    && ! command -v google-chrome >/dev/null; then \
	  echo "site-check: skipped, Chromium is not available (make chromium)."; test -z "$(REQUIRE_CHROMIUM)"; \
	else $(MAKE) --no-print-directory _build/html/index.html && $(PY) scripts/site_check.py $(NOTEBOOKS); fi

_build/html/index.html: $(NOTEBOOKS) book/_config.yml book/_toc.yml book/intro.md | $(STAMP)
	$(call build_book,notebooks)

# Headless Chromium for the site check: installed with apt-get when missing (as root, e.g. in CI).
chromium:
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then \
	  true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Chromium with apt-get (for the site check)..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 \
	    || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; }; } \
	  && echo "Chromium installed: $$(command -v chromium)" \
	  || { echo "chromium: apt-get could not install it (offline?)."; exit 1; }; \
	else \
	  echo "chromium: not installed, and installing it needs root and apt-get: install Chromium yourself."; exit 1; \
	fi

run: $(STAMP) data
	$(BIN)/jupytext --sync $(NB)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $(NB)
	$(BIN)/jupytext --sync $(NB)
