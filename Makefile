# The two commands a newcomer needs: `make run` (set up and start the bot) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test lint install clean messages

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/stretchbot run

test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache

# Extract every text people read into bot/locales/stretchbot.pot, merge it into each language's
# catalog, and compile the catalogs the bot loads (see README, Languages).
LOCALES := de es fr pt_BR ja
messages: install
	$(BIN)/pybabel extract --mapping-file babel.cfg --no-location --sort-by-file \
		--keywords "N_ NP_:1c,2 ngettext:1,2 pgettext:1c,2" --project stretchbot \
		--copyright-holder "stretchbot contributors" --output-file bot/locales/stretchbot.pot .
	for locale in $(LOCALES); do \
		if [ -f bot/locales/$$locale/LC_MESSAGES/stretchbot.po ]; then \
			$(BIN)/pybabel update --domain stretchbot --input-file bot/locales/stretchbot.pot \
				--output-dir bot/locales --locale $$locale --no-fuzzy-matching; \
		else \
			$(BIN)/pybabel init --domain stretchbot --input-file bot/locales/stretchbot.pot \
				--output-dir bot/locales --locale $$locale; \
		fi; \
	done
	$(BIN)/pybabel compile --domain stretchbot --directory bot/locales --statistics
