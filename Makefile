# Every target bootstraps .venv itself: a fresh clone needs only Python >= 3.11 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: install install-test run test lint bench clean

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

test: install-test lint
	$(BIN)/guanxi makemigrations --check --dry-run
	$(BIN)/pytest

bench: install-test
	$(BIN)/python bench/generate.py --scale medium
	$(BIN)/python bench/api_bench.py

clean:
	rm -rf $(VENV) var
