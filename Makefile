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
export MPLBACKEND := module://matplotlib_inline.backend_inline

.PHONY: help setup data course test lint unit nbval pairing sync lab bench run

help:
	@echo "make course   set up, fetch data, execute every notebook into _build/ (tracked notebooks untouched)"
	@echo "make test     set up, then lint, unit tests, nbval on every notebook, the pairing check"
	@echo "make lab      JupyterLab at the repository root"
	@echo "make data     provision data/names.txt (verified copy, NAMES_MIRROR, or download)"
	@echo "make sync     jupytext-sync every notebook pair"
	@echo "make bench    run every notebook in a fresh kernel; table in _build/bench.md"
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

course: $(STAMP) data
	$(PY) scripts/run_notebooks.py --out _build/notebooks $(NOTEBOOKS)

test: $(STAMP) data
	@set -e; t0=$$(date +%s); \
	for stage in lint unit nbval pairing; do \
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

run: $(STAMP) data
	$(BIN)/jupytext --sync $(NB)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=900 $(NB)
	$(BIN)/jupytext --sync $(NB)
