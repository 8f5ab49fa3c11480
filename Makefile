# The two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := tracker

.PHONY: run test test-sqlite test-postgresql lint venv bench screenshots clean translations

$(BIN)/flask: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(BIN)/flask

venv: $(BIN)/flask

# Compiled message catalogues (English msgids; zh_Hans, the default, and en are catalogues).
translations: venv
	@if [ -d tracker/translations ]; then $(BIN)/pybabel -q compile -d tracker/translations; fi

run: venv translations
	$(BIN)/flask --app tracker db upgrade
	$(BIN)/flask --app tracker demo --if-empty
	@echo ""
	@echo "  整改台账 serving on http://127.0.0.1:$(PORT)/  (API under /api/v1, OpenAPI at /api/v1/openapi.json)"
	@echo "  Demo logins: the table above (every demo user's password is demo123456)."
	@echo ""
	$(BIN)/flask --app tracker scheduler & SCHED=$$!; \
	trap 'kill $$SCHED 2>/dev/null' EXIT INT TERM; \
	$(BIN)/gunicorn --no-control-socket -w 2 --timeout 300 --limit-request-line 8190 --limit-request-field_size 16380 -b 127.0.0.1:$(PORT) 'tracker:create_app()'

# The whole suite on SQLite; on PostgreSQL as well when it answers (CI requires both).
test: venv translations
	$(BIN)/ruff check tracker tests bench
	$(BIN)/mypy tracker
	$(BIN)/lint-imports
	TRACKER_TEST_DB=sqlite $(BIN)/python -m pytest -q -p no:cacheprovider
	@if [ -n "$$CI" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=test', connect_timeout=3).close()" 2>/dev/null; then \
		TRACKER_TEST_DB=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider; \
	else \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432: the PostgreSQL run is skipped here (CI runs it)."; \
	fi

test-sqlite: venv translations
	TRACKER_TEST_DB=sqlite $(BIN)/python -m pytest -q

test-postgresql: venv translations
	TRACKER_TEST_DB=postgresql $(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff check tracker tests bench
	$(BIN)/mypy tracker
	$(BIN)/lint-imports

bench: venv
	$(BIN)/python -m bench

screenshots: venv
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) instance *.egg-info
