# Every target bootstraps .venv itself: a fresh clone needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test run test lint bench bench-load clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(STAMP)

install: $(STAMP)
install-test: $(TEST_STAMP)

run: install
	$(BIN)/guanxi migrate --noinput
	$(BIN)/guanxi demo --if-empty
	$(BIN)/guanxi serve --host 127.0.0.1 --port 8000

lint: install-test
	$(BIN)/ruff check src tests bench
	$(BIN)/bandit -q -c pyproject.toml -r src --severity-level high

test: install-test lint
	$(BIN)/guanxi makemigrations --check --dry-run
	$(BIN)/pytest

# Medium scale (100,000 customers) on PostgreSQL (guanxi_bench_medium, $$BENCH_PG_URL for another server) and SQLite;
# generating is skipped when the data is there. bench-load: the load test (1,000,000 customers in guanxi_bench).
BENCH_PG_URL ?= postgres://postgres@127.0.0.1:5432/guanxi_bench_medium
bench: install-test
	$(BIN)/python bench/generate.py --scale medium --database-url $(BENCH_PG_URL)
	$(BIN)/python bench/generate.py --scale medium --database-url sqlite:///bench/data/medium.sqlite3
	$(BIN)/python bench/run.py --scale medium --database-url $(BENCH_PG_URL) --database-url sqlite:///bench/data/medium.sqlite3

bench-load: install-test
	$(BIN)/pip install -q -e '.[test,bench]'
	$(BIN)/python bench/generate.py --scale large
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) var
