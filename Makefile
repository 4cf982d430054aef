# Dampak — run `make help` for the list of commands.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SURVEY  ?= data/raw/solok/solok_2026.yaml
PYTEST_ARGS ?=

.DEFAULT_GOAL := help
DIR     ?=
FORCE   ?=
.PHONY: help setup init report test lint format lab bench bench-smoke sample screenshots clean-outputs

help: ## Show the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PY) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Dampak needs Python 3.11 or newer")'
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name dampak --display-name "Python (Dampak)" >/dev/null
	@touch $(STAMP)

setup: $(STAMP) ## Create .venv and install Dampak (done once; reused afterwards)

init: ## Write survey.yaml (+ draft codebook) for the exports in DIR (FORCE=1 replaces)
	@test -n "$(DIR)" || { echo "usage: make init DIR=data/raw/<folder> [FORCE=1]"; exit 2; }
	@$(MAKE) --no-print-directory setup
	$(BIN)/python -m pipelines init $(DIR) $(if $(FORCE),--force)

report: $(STAMP) ## Run the whole pipeline on SURVEY (default: the bundled sample) and write reports/
	$(BIN)/python -m pipelines run $(SURVEY)

test: $(STAMP) ## Lint, check formatting and run the whole test suite (browser tests need chromium)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@command -v chromium >/dev/null || echo "NOTE: Chromium is not installed, so tests/test_browser.py is skipped (apt-get install -y chromium)."
	$(BIN)/python -m pytest -rs $(PYTEST_ARGS)

format: $(STAMP) ## Format the code with ruff and re-pair the notebooks with their .py twins
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	cd notebooks && for f in *.py; do ../$(BIN)/jupytext --quiet --to ipynb "$$f"; done

lab: $(STAMP) ## Open JupyterLab on the notebooks with the project's kernel
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP) ## Benchmark the pipeline at 2,000 / 100,000 / 1,000,000 respondents
	$(BIN)/python -m bench.run $(BENCH_ARGS)

bench-smoke: $(STAMP) ## Quick check that the benchmark runs (500 respondents, no R; results not kept)
	$(BIN)/python -m bench.run --sizes 500 --no-sample --no-r --site-sample 2 \
		--fanout-sites 0 --work bench/work/smoke --out bench/work/smoke-results

sample: $(STAMP) ## Regenerate the bundled synthetic sample survey (seed 2025)
	$(BIN)/python -m pipelines simulate --n 2000 --seed 2025 --out data/raw/solok --formats csv,xlsx,sav

screenshots: $(STAMP) ## Regenerate docs/screenshots/ (city and one library report at 390 and 1280 px; after make report)
	$(BIN)/python docs/make_screenshots.py

clean-outputs: ## Delete generated data/processed and reports (raw data is never touched)
	find data/processed reports -mindepth 1 -maxdepth 1 -type d -exec rm -rf {} +
