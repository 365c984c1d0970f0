# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: run test lint bench soak report clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(BENCH_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(BENCH_STAMP)

run: $(STAMP)
	@$(BIN)/python -m bot start

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest -q

# Speed, memory and start-up against baselines from the same run: bench/RESULTS.md and a plot.
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.run

# The fault tests at full size (10,000 updates, 5,000 questions under 50 swaps), then the table.
soak: $(STAMP)
	SOAK_UPDATES=10000 RELOAD_QUESTIONS=5000 $(BIN)/python -m pytest -q tests/telegram/test_faults.py
	$(BIN)/python -m tests.report

# Writes the "What we test and what it proved" table into README.md from the last test run.
report: $(STAMP)
	$(BIN)/python -m tests.report --write README.md

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
