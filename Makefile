# The two commands a reader needs are `make demo` and `make test`; everything else is for contributors.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# every package (tests excluded): what `make lint` runs bandit over
PACKAGES := observability ratelimit answers recommender catalog gateway migrations_demo datastores replication loadtests

# topic -> the module(s) whose `main` measures it and writes results/<topic>.json (+ charts)
BENCH_TOPICS := observability ratelimit replication datastores catalog migrations recommender testing gateway
BENCH_MODULES_ratelimit := ratelimit.bench ratelimit.spike_bench
BENCH_MODULES_migrations := migrations_demo.bench
BENCH_MODULES_testing := answers.pyramid
bench_modules = $(or $(BENCH_MODULES_$(1)),$(1).bench)

# bench-<topic> must not be .PHONY: make skips pattern rules (bench-%) for phony targets, so they did nothing
.PHONY: install demo docs data test lint format bench lock clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "backend-answers needs Python >= 3.11; set PYTHON=/path/to/python3.11")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt --config-settings editable_mode=compat -e '.[dev]'
	@touch $(STAMP)

demo: install
	@$(BIN)/python -m answers.docs --if-stale --best-effort
	$(BIN)/python -m answers.stack

# The answer book as a static site in site/ (mkdocs --strict; Mermaid vendored from npm into build/mermaid/).
docs: install
	$(BIN)/python -m answers.docs

# HetRec Last.fm 2K, the recommender's real data: the official zip into data/ (git-ignored), SHA-256 verified
data: install
	$(BIN)/python -m recommender.data download

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bandit -c pyproject.toml -q -r $(PACKAGES)

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(addprefix bench-,$(BENCH_TOPICS))

bench-%: install
	@set -e; for module in $(call bench_modules,$*); do $(BIN)/python -m $$module; done

# Re-pin every dependency (runtime and dev) to what resolves today.
lock:
	rm -rf /tmp/backend-answers-lock && $(PYTHON) -m venv /tmp/backend-answers-lock
	/tmp/backend-answers-lock/bin/pip install --quiet --upgrade pip
	/tmp/backend-answers-lock/bin/pip install --quiet -e '.[dev]'
	/tmp/backend-answers-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build *.egg-info

# results/spike.json is written by bench-ratelimit (the spike runs against the limiter and shedder)
bench-spike: bench-ratelimit ; @:
