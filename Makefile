# The two commands of the README. Both create .venv and install the project into
# it (once, again whenever pyproject.toml changes).
VENV ?= .venv
PYTHON ?= python3
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[all,dev]'
	touch $(STAMP)

# Install, migrate, seed the demo accounts, and serve on http://127.0.0.1:8000
run: $(STAMP)
	$(VENV)/bin/caratzon db upgrade
	$(VENV)/bin/caratzon demo seed
	$(VENV)/bin/caratzon serve --host 127.0.0.1 --port 8000

# Install and run the whole test suite (lint, types and import contracts included).
test: $(STAMP)
	$(VENV)/bin/python -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/python -m mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks
