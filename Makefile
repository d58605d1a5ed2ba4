# FIR graph. `make run` serves GraphiQL on demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PEERS  := tests/peers/node_modules/.package-lock.json
BENCH_PEERS := tests/perf/postgraphile/node_modules/.package-lock.json
BENCH_STAMP := $(VENV)/.bench-installed

.PHONY: run test check lint types layers dead schema bench peers bench-peers clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "FIR graph needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## run: the gateway on embedded PostgreSQL with demo data, development tokens, GraphiQL and introspection on
run: $(STAMP)
	FIR_DEV_AUTH=$${FIR_DEV_AUTH:-1} FIR_GRAPHIQL=$${FIR_GRAPHIQL:-1} FIR_INTROSPECTION=$${FIR_INTROSPECTION:-all} \
		$(BIN)/fir serve --demo

## test: everything the tests need, then the whole suite (lint, types, layers, pytest)
test: $(STAMP) peers check
	$(BIN)/pytest

check: lint types layers dead

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: $(STAMP)
	$(BIN)/mypy

layers: $(STAMP)
	$(BIN)/lint-imports

## dead: unused code (vulture; confidence and framework-called names in pyproject.toml)
dead: $(STAMP)
	$(BIN)/vulture

## schema: regenerate the committed SDL
schema: $(STAMP)
	$(BIN)/fir schema --output schema.graphql

## peers: the Node.js test peers (Apollo composition and gateway, oidc-provider)
peers: $(PEERS)

$(PEERS): tests/peers/package.json tests/peers/package-lock.json
	cd tests/peers && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## bench-peers: PostGraphile v5 and the Node.js 22 it runs on, the benchmark's peer (not needed by `make test`)
bench-peers: $(BENCH_PEERS)

$(BENCH_PEERS): tests/perf/postgraphile/package.json tests/perf/postgraphile/package-lock.json
	cd tests/perf/postgraphile && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $@

## bench: the benchmark suite; figures printed and written to BENCHMARKS.md
bench: $(STAMP) $(BENCH_STAMP) peers bench-peers
	$(BIN)/python -m tests.perf.run

clean:
	rm -rf $(VENV) tests/peers/node_modules tests/perf/postgraphile/node_modules
