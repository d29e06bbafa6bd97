# Every target creates .venv when it is missing and installs what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export RS_ISO18626_CORPUS ?= $(abspath ../shared/iso18626/samples)

.PHONY: demo test lint bench clean venv docs screenshots

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"
	$(BIN)/python -m pip install --quiet -e ".[all]" --group dev --group docs
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/http_demo.py $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src adapters examples tests benchmarks tools
	$(BIN)/ruff format --check src adapters examples tests benchmarks tools
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest $(PYTEST_ARGS)

# docs/console/*.png: the console's browser tests take them (Chromium from Debian's packages).
screenshots: $(STAMP)
	rm -f docs/console/*.png
	RS_CONSOLE_SCREENSHOTS=$(abspath docs/console) $(BIN)/pytest -q \
		tests/adapters/console/test_console_browser.py

# The documentation site (MkDocs Material, mkdocstrings) into site/, warnings are errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir site

bench: $(STAMP)
	@failed=""; for script in benchmarks/*.py; do \
		echo "# $$script"; \
		$(BIN)/python $$script || failed="$$failed $$script"; \
	done; \
	if [ -n "$$failed" ]; then echo "# failed:$$failed"; exit 1; fi

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .hypothesis site
