# Two commands: `make run` (set up + start everything on the embedded default) and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test setup browser pdftools migrate demo lint bench clean

$(STAMP): requirements.txt requirements-dev.txt
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

lint: setup
	$(VENV)/bin/ruff check .

# Benchmarks print figures; they need PostgreSQL (DATABASE_URL) and Redis, as on the real stack.
bench: setup
	$(PY) bench/api.py
	$(PY) bench/confirm_inprocess.py
	$(PY) bench/sweep_payments.py
	$(PY) bench/sweep_pickups.py
	$(PY) bench/staff_pages.py
	$(PY) bench/receipts.py

clean:
	rm -rf var $(VENV)
