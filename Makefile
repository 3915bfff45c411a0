# The two commands a newcomer needs: `make run` and `make test`. Only Python 3.11+ must be present.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2

.PHONY: install run test translations messages clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

install: $(BIN)/.installed translations

# Compile the catalogues (.po -> .mo; the .mo files are not in git). A broken .po stops the build.
translations: $(BIN)/.installed
	$(BIN)/pybabel -q compile -d rapport/translations

# After adding or changing a user-facing string: re-extract, merge into every .po, then translate
# the new entries (docs/i18n.md). tests/test_i18n.py fails until the catalogue is complete.
messages: $(BIN)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --add-location=file --sort-output \
		--project=Rapport --copyright-holder="Rapport contributors" -o rapport/translations/messages.pot .
	$(BIN)/pybabel -q update -i rapport/translations/messages.pot -d rapport/translations --ignore-obsolete

# The task worker (mail, lead processing, scheduled jobs) runs beside the web server and stops with it.
run: install
	$(BIN)/rapport db upgrade
	$(BIN)/rapport demo
	$(BIN)/rapport tasks worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
		$(BIN)/gunicorn --workers $(WORKERS) --bind $(HOST):$(PORT) --access-logfile - wsgi:app

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
