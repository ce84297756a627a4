# Pithead. Quick start: `make run`, then `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint fmt translations install install-dev serve bench clean fuzz

$(BIN)/pithead: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.dev: $(BIN)/pithead
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/pithead

install-dev: $(VENV)/.dev

## run: install, migrate the SQLite database, load demo data, serve on http://$(HOST):$(PORT)
run: install
	$(BIN)/pithead db upgrade
	$(BIN)/pithead demo load
	$(BIN)/pithead serve --host $(HOST) --port $(PORT)

## test: install the dev dependencies and run the whole suite
## (PostgreSQL too when PITHEAD_TEST_DATABASE_URL is set)
test: install-dev
	$(BIN)/pytest -q -n 2 --dist loadfile

lint: install-dev
	$(BIN)/ruff check app tests bench migrations
	$(BIN)/mypy app

fmt: install-dev
	$(BIN)/ruff check --fix app tests bench migrations
	$(BIN)/ruff format app tests bench migrations

## translations: extract strings, update the catalogs (then translate app/translations/*/LC_MESSAGES/messages.po)
## Existing translations are kept (no fuzzy matching); a missing catalog is created. No .mo is
## written: app/i18n.py reads the .po at start-up. The last step prints the translated count.
translations:
	@test -x $(BIN)/pybabel || $(MAKE) install
	@mkdir -p app/translations
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k _ -k gettext -k ngettext:1,2 --add-comments=Translators: --project=Pithead --no-location --sort-output -o app/translations/messages.pot app
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -l zh_CN --init-missing --no-fuzzy-matching
	$(BIN)/pybabel compile -i app/translations/zh_CN/LC_MESSAGES/messages.po -o /dev/null -l zh_CN --statistics

## fuzz: Schemathesis over the whole OpenAPI document of a real server on a scratch SQLite
## database with the demo data, signed in as the demo admin: FUZZ_EXAMPLES generated requests per
## operation (default 25, about 3 minutes on 2 cores); fails on any 5xx and on any response
## whose status, content type or body the document does not describe. No operation is excluded
## (the API has no logout or key rotation that would end the run's own token). See tools/fuzz.sh.
fuzz: install-dev
	FUZZ_PYTHON=$(BIN)/python bash tools/fuzz.sh

bench: install-dev
	$(BIN)/python bench/pages.py

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis .mypy_cache .ruff_cache
