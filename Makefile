# Two commands do all set-up: `make run` starts the portal, `make test` runs the whole test suite.
# Both create .venv from requirements.lock (exact versions, resolved from the ranges in pyproject.toml).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: run test lint chromium nginx lock bench

$(INSTALLED): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(INSTALLED)

run: $(INSTALLED)
	$(BIN)/python main.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "chromium fehlt: sudo apt-get install chromium chromium-driver (Browser-Tests werden übersprungen)"; fi; }

# The proxy of the multi-process test (tests/deploy/test_smoke.py with the shipped deploy/nginx configuration).
nginx:
	@command -v nginx >/dev/null 2>&1 || test -x /usr/sbin/nginx || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq nginx-light >/dev/null; \
		else echo "nginx fehlt: sudo apt-get install nginx-light (der Mehrprozess-Test wird übersprungen)"; fi; }

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(INSTALLED) chromium nginx lint
	$(BIN)/python -m pytest -n auto --dist loadgroup

# Each benchmark prints its own report; the goals they check are collected in bench/.goals.jsonl and printed
# together at the end (bench/goals.py).
bench: export BENCH_GOALS := $(abspath bench/.goals.jsonl)
bench: $(INSTALLED)
	rm -f bench/.goals.jsonl
	$(BIN)/python bench/login.py
	$(BIN)/python bench/session_checks.py
	$(BIN)/python bench/contract_table.py
	$(BIN)/python bench/massenupload.py
	$(BIN)/python bench/self_service_accounts.py
	$(BIN)/python bench/hostile_uploads.py
	$(BIN)/python bench/import_latency.py
	$(BIN)/python bench/dashboard.py
	$(BIN)/python bench/clients.py
	$(BIN)/python bench/sepa.py
	$(BIN)/python bench/mail.py
	$(BIN)/python bench/lighthouse.py
	$(BIN)/python bench/goals.py bench/.goals.jsonl

# After changing dependency ranges in pyproject.toml: resolve them afresh into requirements.lock.
lock:
	rm -rf /tmp/portal-lock-venv && $(PYTHON) -m venv /tmp/portal-lock-venv
	/tmp/portal-lock-venv/bin/pip install --quiet '.[test]'
	/tmp/portal-lock-venv/bin/pip freeze --exclude-editable | grep -v '^firmenportal' > requirements.lock
