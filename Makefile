# nightcast: `make run` retrains on the bundled sample, `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# Local state (the Prefect database of ad-hoc runs) stays inside the project, never in ~/.prefect.
export PREFECT_HOME ?= $(CURDIR)/.state/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export TF_CPP_MIN_LOG_LEVEL ?= 2
export GX_ANALYTICS_ENABLED ?= false
# the first start of Prefect's temporary server creates its database: more than Prefect's default 20 s on 2 cores
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120

.PHONY: install run test clean-state

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: install
	$(BIN)/nightcast run

test: install
	$(BIN)/python -m pytest

clean-state:
	rm -rf .state

# A local Prefect server with the UI on http://127.0.0.1:4200, both deployments and a worker (Ctrl-C stops).
.PHONY: serve
serve: install
	$(BIN)/nightcast serve

# Benchmarks (not part of `make test`): prints one table; about 17 minutes on 2 cores.
# `make bench BENCH_ARGS=--quick` for a few-minute check.
.PHONY: bench
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
