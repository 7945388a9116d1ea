# Two set-up commands: `make demo` and `make test`. `make install` is their shared first step.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAJIUZHU_HOME ?= $(CURDIR)/var
PYTEST_ARGS ?=

.PHONY: install demo test lint format ci clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml tools/fetch_assets.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	$(BIN)/python tools/fetch_assets.py
	touch $@

demo: install
	$(BIN)/dajiuzhu demo

test: install
	DAJIUZHU_HOME=$(CURDIR)/var/test-home $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	DAJIUZHU_HOME=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix src tests benchmarks tools
	$(BIN)/ruff format src tests benchmarks tools

ci:
	.ci/run

clean:
	rm -rf $(VENV) var
