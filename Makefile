# nightcast: `make run` retrains on the bundled sample, `make test` runs the suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
UV_VERSION := 0.13.9

# Local state (the Prefect database of ad-hoc runs) stays inside the project, never in ~/.prefect.
export PREFECT_HOME ?= $(CURDIR)/.state/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export TF_CPP_MIN_LOG_LEVEL ?= 2
export GX_ANALYTICS_ENABLED ?= false
# the first start of Prefect's temporary server creates its database: more than Prefect's default 20 s on 2 cores
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 120
# uv installs into this project's .venv, with the interpreter that created it
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)
export NO_MKDOCS_2_WARNING ?= 1

.PHONY: install lock run test test-serial test-fast lint typecheck check docs docs-build docs-reference clean-state

install: $(STAMP)

# Exactly the versions in uv.lock (uv itself is installed with pip when the venv lacks it).
$(STAMP): pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv sync --frozen --inexact --all-extras --compile-bytecode --python $(BIN)/python --quiet
	touch $(STAMP)

# Re-resolve every dependency within pyproject.toml's ranges and rewrite uv.lock.
lock:
	test -x $(BIN)/uv || (test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)) && $(BIN)/python -m pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv lock --python $(BIN)/python

run: install
	$(BIN)/nightcast run

# The whole suite as two pytest processes side by side, one per core: the tests that drive subprocesses,
# servers and a browser (their log is printed after) and the in-process ones. Each group
# runs in a fixed order, so a run is as reproducible as a serial one (`make test-serial`).
# e2e comes last: its server and worker live until the session ends (about 9% of a core while idle).
SUBPROCESS_TESTS := tests/reliability/test_console.py tests/reliability/test_crash_and_concurrency.py \
	tests/reliability/test_no_orphans.py \
	tests/reliability/test_yahoo_client.py tests/reliability/test_fast_failures.py \
	tests/reliability/test_readonly_query.py tests/reliability/test_query_memory.py tests/reliability/test_security.py tests/e2e
IN_PROCESS_TESTS := tests/bench tests/cli tests/flows tests/nightcast tests/structure tests/tasks tests/reliability/test_bad_input.py
test: install
	@mkdir -p .state
	$(BIN)/python -m pytest --durations=15 $(SUBPROCESS_TESTS) > .state/test-subprocesses.log 2>&1 & other=$$!; \
	$(BIN)/python -m pytest --durations=15 $(IN_PROCESS_TESTS); here=$$?; \
	wait $$other; there=$$?; echo "--- $(SUBPROCESS_TESTS):"; cat .state/test-subprocesses.log; \
	exit $$(( here != 0 || there != 0 ))

test-serial: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

check: lint typecheck docs-build test

# The documentation site: `make docs` serves it on http://127.0.0.1:8000; docs-build checks it (strict).
docs: install
	$(BIN)/mkdocs serve

docs-build: install
	$(BIN)/mkdocs build --strict --quiet --site-dir .state/site

docs-reference: install
	$(BIN)/python -m scripts.gen_docs

clean-state:
	rm -rf .state

# A local Prefect server with the UI on http://127.0.0.1:4200, both deployments and a worker (Ctrl-C stops).
.PHONY: serve
serve: install
	$(BIN)/nightcast serve

# Benchmarks (not part of `make test`): prints one table; about an hour on 2 cores.
# `make bench BENCH_ARGS=--quick` for a shorter check, `BENCH_ARGS="--only scale"` for one section.
.PHONY: bench
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)
