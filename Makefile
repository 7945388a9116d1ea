# Two set-up commands: `make demo` and `make test`. `make install` is their shared first step.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export DAJIUZHU_HOME ?= $(CURDIR)/var
PYTEST_ARGS ?=

.PHONY: install demo test test-fast lint format ci clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml package.json package-lock.json tools/vendor_assets.py
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python tools/vendor_assets.py
	touch $@

demo: install
	$(BIN)/dajiuzhu demo

test: install
	DAJIUZHU_HOME=$(CURDIR)/var/test-home $(BIN)/python -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# Quick local loop: no browser, Spark or slow tests (CI always runs everything).
test-fast: install
	DAJIUZHU_HOME=$(CURDIR)/var/test-home $(BIN)/python -m pytest -n 2 --dist loadgroup -m "not browser and not spark and not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports
	$(BIN)/mypy src
	DAJIUZHU_HOME=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix src tests benchmarks tools
	$(BIN)/ruff format src tests benchmarks tools

ci:
	.ci/run

clean:
	rm -rf $(VENV) var node_modules
