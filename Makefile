# WeMoov backend. `make run` serves a demo; `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
HOST   ?= 127.0.0.1
PORT   ?= 8000
# The TypeScript client (clients/typescript). Its tests need Node.js 20+: `make test` runs them
# when it is here and says why it skipped them otherwise (CLIENT_TESTS=auto); CI makes them
# required (CLIENT_TESTS=required); CLIENT_TESTS=skip leaves them out.
CLIENT       := clients/typescript
CLIENT_DEPS  := $(CLIENT)/node_modules/.installed
CLIENT_TESTS ?= auto
NODE_MAJOR   := $(shell node -p 'process.versions.node.split(".")[0]' 2>/dev/null)
NODE_OK      := $(shell [ "$(NODE_MAJOR)" -ge 20 ] 2>/dev/null && command -v npm >/dev/null && echo yes)

.PHONY: run test lint fmt bench soak browser wrk migrate clean venv schema client-test \
	client-test-auto client-test-required client-test-skip client-pack

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@rm -f $(VENV)/.installed-* && touch $@

venv: $(STAMP)

migrate: $(STAMP)
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

run: migrate
	DEBUG=$${DEBUG:-1} $(PY) manage.py seed_demo --if-empty
	DEBUG=$${DEBUG:-1} $(PY) manage.py demo_staff
	@echo "Admin: http://$(HOST):$(PORT)/admin/   API: http://$(HOST):$(PORT)/api/   Docs: http://$(HOST):$(PORT)/api/docs/"
	@echo "Dispatch: the demo's drivers report positions around Abidjan (manage.py dispatch_simulate)"
	DEBUG=$${DEBUG:-1} $(PY) manage.py dispatch_simulate --url http://$(HOST):$(PORT) >/dev/null & \
		trap 'kill $$! 2>/dev/null' EXIT INT TERM; \
		DEBUG=$${DEBUG:-1} $(PY) manage.py runserver $(HOST):$(PORT)

# The browser test drives Debian's Chromium; install it when it is missing (root only).
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			echo "Installing chromium and chromium-driver for the browser test"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "chromium is missing: install the chromium and chromium-driver packages"; fi; }

# The client's tests first, so that pytest's summary line closes the output.
test: $(STAMP) browser
	@$(MAKE) --no-print-directory client-test-$(CLIENT_TESTS)
	$(PY) -m pytest $(PYTEST_ARGS)

# The client's packages, exactly as package-lock.json pins them, from the npm registry.
$(CLIENT_DEPS): $(CLIENT)/package.json $(CLIENT)/package-lock.json
	cd $(CLIENT) && npm ci --no-audit --no-fund
	@touch $@

# docs/openapi.json and the client's types, regenerated from the code: commit both.
schema: $(STAMP) $(CLIENT_DEPS)
	cd $(CLIENT) && WEMOOV_PYTHON=$(CURDIR)/$(PY) node scripts/schema.mjs write

# Schema drift and untyped bodies, the type tests, the helpers against a stand-in, the tarball
# installed into a project of its own and run as ESM and CommonJS (npm registry or cache), and
# the story test against gunicorn on PostgreSQL with Redis (clients/typescript/test/server.ts).
client-test: $(STAMP) $(CLIENT_DEPS)
	cd $(CLIENT) && WEMOOV_PYTHON=$(CURDIR)/$(PY) node scripts/schema.mjs check
	cd $(CLIENT) && WEMOOV_PYTHON=$(CURDIR)/$(PY) npm test

# The client as an npm package, built from the committed schema (dist/ inside, ESM and CommonJS):
# $(CLIENT)/wemoov-api-client-<version>.tgz, the version being docs/openapi.json's info.version.
# A frontend runs `npm install path/to/wemoov-api-client-<version>.tgz`.
client-pack: $(CLIENT_DEPS)
	cd $(CLIENT) && npm pack

client-test-auto:
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory client-test
else
	@echo "SKIPPED the TypeScript client's tests ($(CLIENT)): they need Node.js 20+ with npm," \
		"and this machine has $(if $(NODE_MAJOR),Node.js $(NODE_MAJOR),no node on the PATH)."
endif

client-test-required:
ifeq ($(NODE_OK),yes)
	@STORY_REQUIRED=1 $(MAKE) --no-print-directory client-test
else
	@echo "FATAL: the TypeScript client's tests need Node.js 20+ with npm;" \
		"this machine has $(if $(NODE_MAJOR),Node.js $(NODE_MAJOR),no node on the PATH)." >&2; exit 1
endif

client-test-skip:
	@echo "SKIPPED the TypeScript client's tests: CLIENT_TESTS=skip"

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

fmt: $(STAMP)
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# The load tool of the benchmark's HTTP section; installed when missing (root only).
wrk:
	@command -v wrk >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ]; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else echo "wrk is missing: install Debian's wrk package (the HTTP section is skipped)"; fi; }

# On PostgreSQL (DATABASE_URL; the bench creates its own database `wemoov_bench` there).
bench: $(STAMP) wrk
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m bench $(BENCH_ARGS)

# Reliability scenarios (faults on this machine's PostgreSQL and Redis); writes docs/reliability.md.
soak: $(STAMP)
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres} $(PY) -m bench.reliability $(SOAK_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache \
		$(CLIENT)/node_modules $(CLIENT)/dist $(CLIENT)/.build $(CLIENT)/wemoov-api-client-*.tgz
