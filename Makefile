# The two commands a fresh clone needs are `make series` and `make test`; each runs setup first.
SHELL := /bin/bash
PY ?= .venv/bin/python
SETUP ?= venv
export RPY2_CFFI_MODE ?= ABI
# Setup (uv) leaves most .pyc files to be written on first import: let Python write them.
unexport PYTHONDONTWRITEBYTECODE
# A terminal of a `make lab` session advertises its account; tests and series runs must not empty
# it (notebook 11 cleans up), so every target starts its own accounts (`make lab` sets it itself).
unexport SERIES_MOCK_ACCOUNT
# The .venv's scripts first: `aws`, `jupyter` and `pytest` are the pinned ones.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.DEFAULT_GOAL := help
.PHONY: help setup series test lint format unit nbval notebooks bench mock plan lab lock clean engine image learner test-trixie site site-test doctor participant-policy agenda live-check

help: ## List the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Install R if missing, create .venv with pinned packages, check rpy2 (idempotent)
ifeq ($(SETUP),skip)
	@$(PY) -c 'import helpers, rpy2.robjects as ro; assert ro.r("1 + 1")[0] == 2' && echo "[setup] skipped; $(PY) has helpers and a working rpy2"
else
	@bash scripts/setup.sh
endif

series: setup ## Main job: run every notebook headless in mock mode; executed copies + HTML in build/
	@SERIES_MODE=mock $(PY) -m helpers.series

# `make test` runs the unit tests and nbval in one pytest run over JOBS workers (pytest-xdist; how
# the work is split: tests/conftest.py). JOBS=0 runs everything in this process, one test at a time.
# Three, on two cores: the tests wait on kernels, functions and containers a third of the time, so
# a third worker fills it (measured back to back: 280 s with 2, 230 s with 3, 228 s with 4).
JOBS ?= 3
XDIST = $(if $(filter 0,$(JOBS)),-p no:xdist,-n $(JOBS) --dist loadfile)
NBVAL = --nbval --nbval-sanitize-with notebooks/sanitize.cfg

test: setup lint ## Test command: lint, then unit/integration tests and nbval over every notebook (JOBS=3 workers)
	@$(PY) -m pytest tests notebooks $(NBVAL) -q -rs $(XDIST)

lint: ## ruff check and format check (notebooks included)
	@$(PY) -m ruff check . && $(PY) -m ruff format --check .

format: ## Apply ruff's fixes and formatting
	@$(PY) -m ruff check --fix . && $(PY) -m ruff format .

unit: ## Unit and integration tests of helpers, handler and mock account (-rs: skips say why)
	@$(PY) -m pytest tests -q -rs $(XDIST)

nbval: ## Every notebook compared with its stored outputs (mock mode)
	@SERIES_MODE=mock $(PY) -m pytest notebooks $(NBVAL) -q -p no:cacheprovider

notebooks: setup ## Re-execute the notebooks in mock mode and store their outputs in place
	@SERIES_MODE=mock $(PY) -m helpers.series --in-place

test-trixie: ## Series + tests on a clean clone of HEAD in a Debian 13 container (WHAT=test|series)
	@bash scripts/trixie.sh $(or $(WHAT),all)

site: ## The series as a static site in build/site (stored outputs, offline from disk; SITE_NOTEBOOKS=dir)
	@python3 -m helpers.site build --notebooks $(or $(SITE_NOTEBOOKS),notebooks) --out $(or $(SITE_OUT),build/site)

site-test: site ## The built site in headless Chromium from file://, network off (installs chromium)
	@python3 -m helpers.site test

learner: setup ## Learner copies of the notebooks in build/learner: solutions removed, outputs cleared
	@$(PY) -m helpers.exercises --learner build/learner

engine: ## Install docker.io and start dockerd (no bridge network) if no engine runs; needs root
	@bash scripts/engine.sh

image: setup ## Build the function's container image offline (last line: its reference)
	@$(PY) -m helpers.image

bench: setup ## Benchmarks (on demand; figures printed and saved under benchmarks/results/)
	@for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

agenda: setup ## Agenda figures for docs/instructor-guide.md: reading time per notebook + a headless mock run (benchmarks/results/agenda.json)
	@SERIES_MODE=mock $(PY) benchmarks/measure_agenda.py --run

mock: setup ## Run the mock AWS account in the foreground (prints the variables to export)
	@$(PY) -m helpers.mock

# Not SERIES_MODE=mock, unlike `series` and `nbval`: it refuses unless SERIES_MODE=live (with
# SERIES_PREFIX and SERIES_LIVE_CREATE=yes). scripts/live_check_mock.sh runs it against a mock account.
live-check: setup ## Pre-workshop check: every notebook live (cells must run), cleanup always, a report; build/live-check/
	@$(PY) -m helpers.live_check

plan: setup ## Live mode, planned: resources, cost and every creating API call, without making any
	@$(PY) -m helpers.plan

doctor: ## Pre-flight check in seconds, no side effects: Python, R, rpy2, disk, ports, Docker, mode, live caller/prefix/policy
	@if [ -x "$(PY)" ]; then $(PY) -m helpers.doctor; else echo "[doctor] $(PY) does not exist yet (make setup makes it): checking with python3"; python3 -m helpers.doctor; fi

participant-policy: setup ## The IAM policy a workshop participant needs (PREFIX=name), from the series' recorded calls
	@$(PY) -m helpers.participant_policy --prefix "$(or $(PREFIX),$(SERIES_PREFIX))" --output "build/participant-policy/$(or $(PREFIX),$(SERIES_PREFIX)).json"

lab: setup ## Open the series in JupyterLab; in mock mode one account serves all its kernels and terminals
	@$(PY) -m helpers.lab $(LAB_ARGS)

lock: ## Re-resolve requirements.in into requirements.lock (in a scratch venv)
	@bash scripts/lock.sh

clean: ## Remove build output (keeps .venv)
	@rm -rf build .pytest_cache .ruff_cache
