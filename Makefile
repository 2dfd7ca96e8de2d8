# Two commands: `make run` (set up + start everything on the embedded default) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup browser pdftools migrate demo reset-demo lint bench clean runtime-check

$(STAMP): requirements.txt requirements-dev.txt requirements-testrunner.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

setup: $(STAMP)

migrate: setup
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0

demo: migrate
	$(PY) manage.py seed_demo

run: demo
	@bash bin/run

# The embedded demo from scratch: its SQLite database and filesystem broker are deleted, then
# migrated and seeded again (PostgreSQL users drop their own database instead).
reset-demo: setup
	rm -rf var/db.sqlite3 var/broker
	$(MAKE) demo

# The staff console's browser tests drive Debian's chromium (never a downloaded browser build);
# a Japanese font makes the screenshots readable. Installed only when missing.
browser:
	@test -x /usr/bin/chromium || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		chromium fonts-ipafont-gothic >/dev/null)

# The receipt tests read the PDFs back with poppler's pdftotext, as a person's tools would.
pdftools:
	@test -x /usr/bin/pdftotext || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		poppler-utils >/dev/null)

test: setup browser pdftools
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(VENV)/bin/pytest

# requirements.txt names every runtime dependency: a fresh venv from it alone (plus the test
# runner, --no-deps, so it cannot bring a missing runtime package along) loads kombu's Redis
# transport and runs the Redis-marked tests (real Celery workers). Needs CELERY_BROKER_URL=redis://
# and, for the tests that use them, DATABASE_URL=postgres:// and CACHE_URL.
RUNTIME_VENV := var/runtime-venv
runtime-check:
	@case "$$CELERY_BROKER_URL" in redis://*) ;; *) echo "runtime-check needs CELERY_BROKER_URL=redis://..." >&2; exit 1;; esac
	rm -rf $(RUNTIME_VENV)
	$(PYTHON) -m venv $(RUNTIME_VENV)
	$(RUNTIME_VENV)/bin/python -m pip install --quiet -r requirements.txt
	$(RUNTIME_VENV)/bin/python -c "import kombu.transport.redis, celery.bin.worker"
	$(RUNTIME_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-testrunner.txt
	$(RUNTIME_VENV)/bin/python -m pip check
	$(RUNTIME_VENV)/bin/python -m pytest -m redis -q -p no:cacheprovider

lint: setup
	$(VENV)/bin/ruff check .

# Benchmarks print figures; they need PostgreSQL (DATABASE_URL) and Redis, as on the real stack.
bench: setup
	$(PY) bench/api.py
	$(PY) bench/confirm_inprocess.py
	$(PY) bench/place_inprocess.py
	$(PY) bench/sweep_payments.py
	$(PY) bench/sweep_pickups.py
	$(PY) bench/staff_pages.py
	$(PY) bench/erase_customers.py
	$(PY) bench/receipts.py
	$(PY) bench/settlement.py
	$(PY) bench/webhooks.py

clean:
	rm -rf var $(VENV)
