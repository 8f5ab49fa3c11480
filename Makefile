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

# The whole suite on SQLite and, at the same time, on PostgreSQL when it answers (CI requires
# both). The two runs share nothing (each has its own database, temporary folders, ports and
# LibreOffice profiles), so on two cores they take the time of the longer one; the PostgreSQL
# run's output follows the SQLite run's. TEST_PARALLEL=0 runs them one after the other.
TEST_PARALLEL ?= 1
PYTEST := $(BIN)/python -m pytest -q -p no:cacheprovider
test: venv translations
	$(BIN)/ruff check tracker tests bench
	$(BIN)/mypy tracker
	$(BIN)/lint-imports
	@pg=skip; \
	if [ -n "$$CI" ] || $(BIN)/python -c "import psycopg,sys; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=test', connect_timeout=3).close()" 2>/dev/null; then \
		pg=run; \
	else \
		echo "PostgreSQL is not reachable at 127.0.0.1:5432: the PostgreSQL run is skipped here (CI runs it)."; \
	fi; \
	sq=0; pgrc=0; \
	if [ $$pg = run ] && [ "$(TEST_PARALLEL)" != 0 ]; then \
		log=$$(mktemp -t tracker-test-postgresql.XXXXXX); \
		echo "== SQLite and PostgreSQL runs side by side (PostgreSQL's output: $$log, shown after) =="; \
		TRACKER_TEST_DB=postgresql $(PYTEST) > $$log 2>&1 & pid=$$!; \
		TRACKER_TEST_DB=sqlite $(PYTEST) || sq=$$?; \
		wait $$pid || pgrc=$$?; \
		echo "== PostgreSQL run =="; cat $$log; rm -f $$log; \
	else \
		echo "== SQLite run =="; TRACKER_TEST_DB=sqlite $(PYTEST) || sq=$$?; \
		if [ $$pg = run ]; then echo "== PostgreSQL run =="; TRACKER_TEST_DB=postgresql $(PYTEST) || pgrc=$$?; fi; \
	fi; \
	echo "== SQLite: $$( [ $$sq = 0 ] && echo passed || echo FAILED ); PostgreSQL: $$( [ $$pg = skip ] && echo skipped || { [ $$pgrc = 0 ] && echo passed || echo FAILED; } ) =="; \
	[ $$sq = 0 ] && [ $$pgrc = 0 ]

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
