# Sequentia: `make course` and `make test` are all a fresh machine needs (python3 and make).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
STAMP  := $(VENV)/.installed
ALL_NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NOTEBOOKS := $(ALL_NOTEBOOKS)
NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg \
               --nbval-cell-timeout=900 -p no:cacheprovider
NB ?= $(NOTEBOOKS)
export PYTHONHASHSEED := 0
# nbval executes notebooks in parallel, one per core (each notebook runs PyTorch on one thread, see
# notebook 00): JOBS workers, each taking whole notebooks, the most expensive (highest number) first.
JOBS ?= 2
reverse = $(if $(1),$(call reverse,$(wordlist 2,$(words $(1)),$(1))) $(firstword $(1)))
XDIST = $(if $(filter-out 0 1,$(JOBS)),-n $(JOBS) --dist loadfile)

.PHONY: help setup data course test lint unit nbval pairing sync annotate lab bench reproduce run results site-check \
        chromium slides handouts portable twice

help:
	@echo "make course   set up, fetch data, execute every notebook into _build/ (tracked notebooks untouched)"
	@echo "make test     set up, then lint, unit tests, nbval on every notebook, the pairing check"
	@echo "make lab      JupyterLab at the repository root (present a notebook as slides with RISE: Alt+R)"
	@echo "make slides   a reveal.js deck of every notebook, working offline, in _build/slides/"
	@echo "make handouts every notebook without its worked solutions, in _build/handouts/"
	@echo "make data     provision data/names.txt (verified copy, NAMES_MIRROR, or download) and four more lists (utils/provision.py)"
	@echo "make sync     jupytext-sync every notebook pair, then make annotate"
	@echo "make annotate derive the cells' slide breaks and exercise/solution tags (scripts/annotate_cells.py)"
	@echo "make bench    run every notebook in a fresh kernel; table in _build/bench.md"
	@echo "make bench-transformer  notebook 06's training throughput, padded vs packed rows"
	@echo "make sweep-transformer  the dev-only sweep behind notebook 06's recipe (notebooks/transformer_sweep.json)"
	@echo "make sweep-wavenet      the dev-only ablations and recipe search behind notebook 04 (notebooks/wavenet_sweep.json)"
	@echo "make try-muon           Muon against AdamW on notebook 05's GRU and LSTM, three seeds, dev only (notebooks/muon_trials.json)"
	@echo "make sweep-lists        the dev-only sweep behind the command's sizing rule on four lists (notebooks/lists_sweep.json)"
	@echo "make reproduce [TYPES=\"mlp transformer\"]  the sequentia command on names.txt against the notebooks' dev/test figures"
	@echo "make results  regenerate the README's results table from the stored notebooks"
	@echo "make site-check  open the HTML course and a deck in headless Chromium, offline (screenshots in _build/site-check/)"
	@echo "make run NB=notebooks/NN_name.ipynb    execute one notebook in place (authoring)"
	@echo "make portable [NB=...]  nbval on another CPU code path (no vector instructions): stored outputs are portable"
	@echo "make twice [NB=...]     execute each notebook twice: every output, ignored cells included, must be identical"

# The environment: a virtualenv with the exact pins, then this project in editable mode so that
# `import utils` works from any folder a kernel starts in.
setup: $(STAMP)
# RISE's defaults are overridden for this environment (scripts/lab_overrides.json): the "white"
# theme, whose fonts ship with it (the default "simple" fetches web fonts), and scrolling tall slides.
$(STAMP): requirements.txt pyproject.toml scripts/lab_overrides.json
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@mkdir -p $(VENV)/share/jupyter/lab/settings
	cp scripts/lab_overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	@touch $@

# The course's lists (utils/provision.py, data/README.md): names.txt needs only the standard library,
# subdivisions.txt is built from the pinned pycountry, hence the environment first. Inside a conda
# environment (environment.yml) run `python -m utils.provision` instead.
data: $(STAMP)
	@$(PY) -m utils.provision

# Sync every pair, then (re)derive the cells' slide and exercise/solution metadata from the notebooks'
# headings and exercises (scripts/annotate_cells.py syncs before and after, so no edit is lost).
sync: $(STAMP)
	$(BIN)/jupytext --sync $(NOTEBOOKS)
	$(PY) scripts/annotate_cells.py $(NOTEBOOKS)

annotate: $(STAMP)
	$(PY) scripts/annotate_cells.py $(NOTEBOOKS)

# The HTML course: every notebook executed afresh into _build/notebooks/ (tracked notebooks untouched),
# then the Jupyter Book (book/) built from those copies into _build/html/. Any Sphinx warning (a page
# that fails to build, an output it cannot render, a link to a missing notebook) fails the build.
# The site carries its own MathJax (book/_config.yml), so it reads offline. `make course
# NOTEBOOKS=notebooks/00_start_here.ipynb` executes only the notebooks named; the other pages are
# built from their stored (executed, nbval-checked) copies.
course: $(STAMP) data
	$(PY) scripts/run_notebooks.py --out _build/notebooks $(NOTEBOOKS)
	$(call build_book,_build/notebooks)

BOOK_SRC := _build/book
# $(call build_book,DIR): assemble book/ and the executed notebooks of DIR in $(BOOK_SRC)/, build
# _build/html/ from scratch (no stale pages or cached warnings), never re-executing a notebook.
define build_book
	@rm -rf $(BOOK_SRC) _build/html _build/.doctrees _build/jupyter_execute _build/.jupyter_cache
	@mkdir -p $(BOOK_SRC)/notebooks
	cp book/_config.yml book/_toc.yml book/*.md $(BOOK_SRC)/
	cp $(ALL_NOTEBOOKS) $(BOOK_SRC)/notebooks/
	cp $(addprefix $(1)/,$(notdir $(NOTEBOOKS))) $(BOOK_SRC)/notebooks/
	$(if $(filter-out $(NOTEBOOKS),$(ALL_NOTEBOOKS)),@echo "Pages from the stored notebooks: $(filter-out $(NOTEBOOKS),$(ALL_NOTEBOOKS))")
	@find $(1) -maxdepth 1 -type f ! -name '*.ipynb' ! -name '*.py' ! -name '*.log' ! -name '.*' \
	  -exec cp {} $(BOOK_SRC)/notebooks/ \;
	$(BIN)/jupyter-book build $(BOOK_SRC) --path-output . --warningiserror --keep-going \
	  || { rm -f _build/html/index.html; echo "The HTML course did not build: see the warnings above."; exit 1; }
	@echo "The HTML course (from $(1)/): _build/html/index.html"
endef

# Chromium first (when it can be installed): the unit tests of the browser check use it too.
test: $(STAMP) data
	@$(MAKE) --no-print-directory chromium || true
	@set -e; t0=$$(date +%s); \
	for stage in lint unit nbval pairing site-check; do \
	  s=$$(date +%s); $(MAKE) --no-print-directory $$stage; \
	  echo "== stage $$stage: $$(( $$(date +%s) - s )) s"; \
	done; echo "== make test: all stages passed in $$(( $$(date +%s) - t0 )) s"

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/pytest tests -p no:cacheprovider $(XDIST)

nbval: $(STAMP)
	$(BIN)/pytest $(NBVAL_FLAGS) $(XDIST) $(call reverse,$(NB))

# The stored outputs must not depend on the CPU that produced them: nbval again, with PyTorch, MKL and
# oneDNN on other code paths than the native one (scripts/portable.py says which). Not a stage of
# `make test` (it doubles nbval's time): run it on every notebook you change before it lands.
portable: $(STAMP) data
	$(PY) scripts/portable.py $(NBVAL_FLAGS) $(XDIST) $(call reverse,$(NB))

# Determinism on one machine: each notebook executed twice, every output compared (ignored cells too).
twice: $(STAMP) data
	$(PY) scripts/twice.py $(call reverse,$(NB))

# Re-sync every pair, then require that nothing changed: a drifted pair fails here.
pairing: $(STAMP)
	@$(BIN)/jupytext --sync --quiet $(NOTEBOOKS)
	@git diff --exit-code --stat -- notebooks || { echo "A notebook pair has drifted: run 'make sync', re-execute, and commit both files."; exit 1; }

# JupyterLab with RISE (jupyterlab-rise, pinned in requirements.txt): open a notebook and press Alt+R
# (or the slideshow button) to present it live, with the slide breaks of `make annotate`.
# As root (a container, CI) Jupyter refuses to start without --allow-root.
lab: $(STAMP) data
	$(BIN)/jupyter lab --notebook-dir=. $(if $(filter 0,$(shell id -u)),--allow-root)

# Lecture slides: a reveal.js deck of every stored notebook in _build/slides/ (no execution), with
# reveal.js and MathJax copied beside the decks from pinned packages, so the folder works offline.
SLIDES_DEPS := scripts/make_slides.py scripts/_cli.py $(wildcard scripts/templates/sequentia_slides/*)
slides: _build/slides/index.html
_build/slides/index.html: $(ALL_NOTEBOOKS) $(SLIDES_DEPS) $(STAMP)
	$(PY) scripts/make_slides.py --out _build/slides $(ALL_NOTEBOOKS)

# Student handouts: every notebook without its worked solutions and with the exercise cells' outputs
# cleared (nbconvert's TagRemovePreprocessor on the tags of `make annotate`), in _build/handouts/.
handouts: $(STAMP)
	$(PY) scripts/make_handouts.py --out _build/handouts $(NOTEBOOKS)

bench: $(STAMP) data
	$(PY) scripts/run_notebooks.py --out _build/bench --bench _build/bench.md $(NOTEBOOKS)
	$(PY) scripts/bench_transformer.py --append _build/bench.md
	$(PY) scripts/reproduce.py --types transformer --append _build/bench.md
	$(PY) scripts/sweep_lists.py --defaults-only --append _build/bench.md

# The `sequentia` command (utils/cli.py) trains each type on data/names.txt with its recipe, single-threaded,
# into _build/reproduce/TYPE/, and must give the dev and test figures the stored notebooks published
# (within 0.003); a Markdown table with steps, seconds and characters per second. TYPES="mlp transformer"
# runs only those (all seven take about as long as notebooks 01-05).
TYPES ?=
reproduce: $(STAMP) data
	$(PY) scripts/reproduce.py $(if $(TYPES),--types $(TYPES))

# Notebook 06's Transformer: its training throughput, padded against packed rows (appended to
# _build/bench.md), and the dev-only sweep that chose its recipe (rewrites notebooks/transformer_sweep.json;
# one thread per setting, as many settings at once as there are cores: about 10 minutes on 2 cores).
.PHONY: bench-transformer sweep-transformer sweep-wavenet
bench-transformer: $(STAMP) data
	$(PY) scripts/bench_transformer.py --append _build/bench.md

# Notebook 06's recipe: the AdamW search, the Muon search, then the best of each over three seeds
# (rewrites notebooks/transformer_sweep.json; about an hour on 2 cores, two runs at a time).
sweep-transformer: $(STAMP) data
	$(PY) scripts/sweep_transformer.py --force --jobs 2

# Muon against AdamW on notebook 05's GRU and LSTM, three seeds each, dev only (notebooks/muon_trials.json).
.PHONY: try-muon
try-muon: $(STAMP) data
	$(PY) scripts/try_muon.py --jobs 2

# Notebook 04's ablations and its WaveNet-style recipe search, dev only, three seeds per setting
# (rewrites notebooks/wavenet_sweep.json; about 15 minutes on 2 idle cores, two runs at a time).
sweep-wavenet: $(STAMP) data
	$(PY) scripts/sweep_wavenet.py --force --jobs 2

# The dev-only sweep behind utils/sizing.py, the rule that sizes a recipe to another list: the command's
# defaults against 18 settings around them, on the four lists of make data that are not names.txt
# (rewrites notebooks/lists_sweep.json; about 35 minutes on 2 cores).
.PHONY: sweep-lists
sweep-lists: $(STAMP) data
	$(PY) scripts/sweep_lists.py

.PHONY: results site-check chromium

# The README's results table, from what the stored notebooks publish (tests/test_results_readme.py
# fails `make test` when it is stale).
results: $(STAMP)
	$(PY) scripts/make_results.py

# The browser check of the HTML course: headless Chromium, driven by Playwright with every request to
# another host blocked, opens every page and steps through one lecture deck (screenshots and report in
# _build/site-check/). It checks _build/html as `make course` left it, or, if that is missing or older
# than a notebook, a site built from the stored notebooks (executed and checked by nbval), and the
# decks of `make slides`. Skipped, with a message, where Chromium is not installed and cannot be
# (REQUIRE_CHROMIUM=1 makes that fail).
site-check: $(STAMP)
	@$(MAKE) --no-print-directory chromium || true
	@if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null \
	    && ! command -v google-chrome >/dev/null; then \
	  echo "site-check: skipped, Chromium is not available (make chromium)."; test -z "$(REQUIRE_CHROMIUM)"; \
	else $(MAKE) --no-print-directory _build/html/index.html _build/slides/index.html \
	  && $(PY) scripts/site_check.py $(NOTEBOOKS); fi

# Rebuilt when the environment changes too: the site carries MathJax from an installed package.
_build/html/index.html: $(ALL_NOTEBOOKS) book/_config.yml book/_toc.yml $(wildcard book/*.md) $(STAMP)
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
