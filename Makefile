# Two commands do all set-up: `make run` starts the dashboard, `make test` runs every test.
# Both create .venv and install the project into it on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8501

.PHONY: run test test-fast lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/segcore app --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

# everything but the browser walk and the tests marked slow, on two workers (a test file stays on one worker,
# so a module's fixture is built once): for the edit-test loop (CI runs `make test`)
test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not browser and not slow" -n 2 --dist loadfile

# ruff (pyflakes, pycodestyle, import order, bugbear, pyupgrade) and mypy, as configured in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) persona_lab.duckdb persona_lab.duckdb.wal test-artifacts
