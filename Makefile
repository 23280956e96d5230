# The two commands: `make run` and `make test`. Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app app
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/15
# Python keeps compiled modules in __pycache__ (git ignores it) even where the shell says not to: every
# app process (`flask` commands, gunicorn and Celery workers, the test suite's servers) otherwise
# compiles the app's ~500 modules again at each start.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: run test install install-dev lock setup translations oidc-provider test-sqlite test-postgres bench lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed from the lock files: every package, direct or not, pinned with its sha256 hashes (pip's
# hash-checking mode refuses anything else). requirements*.txt are the short list people edit; after a
# change there, `make lock` (tests/secc/test_requirements_lock.py fails until the two agree).
$(VENV)/.installed: $(BIN)/activate requirements.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.lock
	$(BIN)/pip install --quiet --require-hashes -r requirements-dev.lock
	touch $@

# Re-resolve the locks from requirements*.txt (needs PyPI; pip-tools in a throw-away venv, not in .venv).
PIP_COMPILE = $(VENV)-tools/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links
lock:
	test -x $(VENV)-tools/bin/pip-compile || ($(PYTHON) -m venv $(VENV)-tools && $(VENV)-tools/bin/pip install --quiet pip-tools==7.7.0)
	$(PIP_COMPILE) --output-file requirements.lock requirements.txt
	$(PIP_COMPILE) --output-file requirements-dev.lock requirements-dev.txt

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The OpenID provider the identity tests start (panva's oidc-provider, from npm, pinned by its lock
# file) into tests/identity/oidc/node_modules (git-ignored). Without node the SSO tests are skipped, except in CI.
oidc-provider:
	@if command -v npm >/dev/null; then cd tests/identity/oidc && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the single sign-on tests will be skipped"; fi

# Compiled message catalogues are build output (not in git), compiled when their .po changed: a running
# app reads them, and `make run` runs while the other test pass serves pages (scripts/test_passes.sh).
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard lms/translations/*/LC_MESSAGES/messages.po))
translations: $(CATALOGUES)
lms/translations/%/LC_MESSAGES/messages.mo: lms/translations/%/LC_MESSAGES/messages.po $(VENV)/.installed
	$(BIN)/pybabel compile -l $* -i $< -o $@.tmp && mv $@.tmp $@

setup: install translations
	$(FLASK) db upgrade
	$(FLASK) localities load
	@# A broken course is reported and skipped; the others and the server still start.
	@# The library first: lessons that embed an item show its title.
	-$(FLASK) library import library/
	-$(FLASK) courses import courses/
	-$(FLASK) programs import programs/
	@# Rows for content that was there before the search index (cheap on a small install).
	$(FLASK) search reindex
	@if [ -z "$$DATABASE_URL" ] || [ "$$LMS_DEMO" = "1" ]; then $(FLASK) demo create; fi

# gunicorn, and without a broker (the embedded default) the background runner beside it: certificates,
# imports, exports, e-mail and the schedule (report refresh, reminders, overdue quizzes) — docs/operations.md.
run: setup
	@echo "Serving on http://127.0.0.1:$(PORT)  (Ctrl+C to stop)"
	PORT=$(PORT) $(FLASK) serve --port $(PORT)

test: install-dev translations
	@echo "== static checks: ruff, bandit (medium and high) =="
	$(BIN)/ruff check .
	$(BIN)/bandit -q -r lms -ll
	@# SQLite and PostgreSQL + Redis side by side, then the wall-clock budgets alone (the script says why).
	BIN=$(BIN) scripts/test_passes.sh "$(PG_TEST_URL)" "$(REDIS_TEST_URL)"

# The budgets of DESIGN.md §7: lesson page (SQLite, always), exam day on PostgreSQL (when reachable;
# a scratch database named after this checkout is created and dropped), then the same exam through a
# 30 s crash of a private PostgreSQL (tests/services.py), and two app hosts behind nginx with one killed
# mid-exam (bench/two_hosts.py). Figures go to docs/performance.md with the command.
BENCH_PG_SERVER ?= postgresql://postgres@127.0.0.1:5432
BENCH_DB ?= lms_bench_$(shell basename "$(CURDIR)" | tr 'A-Z.-' 'a-z__')
bench: install-dev
	@if $(BIN)/python -m tests.backends postgres "$(PG_TEST_URL)"; then \
		$(BIN)/python bench/lesson_page.py --scratch-db "$(BENCH_PG_SERVER)/$(BENCH_DB)"; \
		$(BIN)/python bench/library_pages.py --scratch-db "$(BENCH_PG_SERVER)/$(BENCH_DB)" || true; \
	else echo "PostgreSQL not reachable: the lesson and library pages on PostgreSQL skipped"; fi
	$(BIN)/python bench/lesson_page.py  # SQLite after PostgreSQL: bench/capacity.py reads this run's bare-Flask figure
	-$(BIN)/python bench/library_pages.py
	@if $(BIN)/python -m tests.backends postgres "$(PG_TEST_URL)"; then \
		$(BIN)/python bench/quiz_exam.py --scratch-db "$(BENCH_PG_SERVER)/$(BENCH_DB)" --learners 1000 --spread 60 --think 20; \
		$(BIN)/python bench/quiz_exam.py --scratch-db "$(BENCH_PG_SERVER)/$(BENCH_DB)" --learners 5000 --spread 60 --think 20 --timeline; \
	else echo "PostgreSQL not reachable: exam-day benchmarks skipped"; fi
	@# The capacity model on PostgreSQL, the production database, when it answers (its DB column: round trips to the server)
	@if $(BIN)/python -m tests.backends postgres "$(PG_TEST_URL)"; then \
		$(BIN)/python bench/capacity.py --scratch-db "$(BENCH_PG_SERVER)/$(BENCH_DB)"; \
	else $(BIN)/python bench/capacity.py; fi
	@if $(BIN)/python -m tests.services; then \
		$(BIN)/python bench/quiz_exam.py --outage 30 --learners 200 --spread 20; \
		$(BIN)/python bench/two_hosts.py --learners 300 --spread 20 --think 2; \
	else echo "no private PostgreSQL here: exam-day outage and two-host benchmarks skipped"; fi

lint: install-dev
	$(BIN)/ruff check .
	BIN=$(BIN) scripts/security_lint.sh

clean:
	rm -rf $(VENV) $(VENV)-tools instance
