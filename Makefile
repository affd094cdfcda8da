# `make demo`: install pitfalls into .venv and check the demo project.
# `make test`: install pitfalls with its test extras into .venv and run the test suite:
#   the Python tests, the VS Code extension's unit tests (Node and npm), then the
#   extension end to end in a real VS Code host (code-server and chromium, installed by
#   client-vscode/scripts/e2e-install.sh into ~/.cache/pitfalls, about 2 minutes once).
#
# Needs only python3 (>= 3.11; or `make PYTHON=python3.12 ...`), pip and PyPI. The
# install steps run again only when pyproject.toml changes (stamp files in .venv/); the
# install is editable, so edits under server/ need no reinstall.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input --quiet

.PHONY: demo test venv

demo: $(VENV)/.installed
	@$(BIN)/pitfalls check examples/demo || test $$? -eq 1

test: $(VENV)/.installed-test client-vscode/node_modules/.installed
	@$(BIN)/python -m pytest -q
	@cd client-vscode && npm test --silent
	@cd client-vscode && npm run --silent test:e2e

client-vscode/node_modules/.installed: client-vscode/package-lock.json
	@echo "Installing the VS Code extension's dependencies"
	@cd client-vscode && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

venv: $(BIN)/python

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("pitfalls needs Python >= 3.11; run make PYTHON=python3.11 (or newer)" if sys.version_info < (3, 11) else 0)'
	@echo "Creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing pitfalls into $(VENV)"
	@$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing pitfalls with its test dependencies into $(VENV)"
	@$(PIP) install -e ".[test]"
	@touch $@ $(VENV)/.installed
