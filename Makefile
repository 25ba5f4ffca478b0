# aap — one command per job; each bootstraps .venv on its own when missing.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA ?= data

.PHONY: install demo test lint dagster bench chromium clean

# the install compiles the transforms (setup.py): a changed source is compiled again
$(STAMP): pyproject.toml constraints.txt setup.py $(wildcard transforms/*.py) pipeline/schema.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/aap demo --data-dir $(DATA)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# Headless Chromium renders the HTML digest in tests; installed from Debian when missing.
chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) || echo "chromium not installed: browser test will be skipped"

# Dagster UI + daemon on 127.0.0.1:$DAGSTER_PORT (3000); DAGSTER_HOME=$(DATA)/dagster_home. See dagster_project/README.md.
dagster: $(STAMP)
	$(BIN)/python -m dagster_project.serve --data-dir $(DATA) --port $${DAGSTER_PORT:-3000}

bench: $(STAMP)
	$(BIN)/aap bench

clean:
	rm -rf $(VENV) $(DATA)
