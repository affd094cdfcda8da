# `make demo`: install pitfalls into .venv and check the demo project.
# `make test`: install pitfalls with its test extras into .venv and run the test suite:
#   the Python tests, the VS Code extension's unit tests (Node and npm), then the
#   extension end to end in a real VS Code host (code-server and chromium, installed
#   first by client-vscode/scripts/e2e-install.sh into ~/.cache/pitfalls, about 2 minutes once).
# `make dist`: the wheel and sdist of pitfalls, and the VS Code extension's .vsix with pitfalls
#   bundled (linux-x64; client-vscode/scripts/build-vsix.sh names the other targets), into dist/.
#
# Needs only python3 (>= 3.11; or `make PYTHON=python3.12 ...`), pip and PyPI. The
# install steps run again only when pyproject.toml changes (stamp files in .venv/); the
# install is editable, so edits under server/ need no reinstall.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --no-input --quiet

.PHONY: demo dist test venv

demo: $(VENV)/.installed
	@$(BIN)/pitfalls check examples/demo || test $$? -eq 1

# The VS Code host's tools are installed first: the Python tests include the install
# script's own (a killed install, cleaned by the next run), which need its apt packages.
test: $(VENV)/.installed-test client-vscode/node_modules/.installed
	@bash client-vscode/scripts/e2e-install.sh
	@$(BIN)/python -m pytest -q
	@cd client-vscode && npm test --silent
	@cd client-vscode && npm run --silent test:e2e

dist: $(VENV)/.installed-build client-vscode/node_modules/.installed
	@rm -rf dist
	@$(BIN)/python -m build --sdist --wheel --outdir dist . >/dev/null
	@bash client-vscode/scripts/build-vsix.sh dist/pitfalls-*-py3-none-any.whl
	@ls -l dist

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

$(VENV)/.installed-build: | $(BIN)/python
	@echo "Installing build into $(VENV)"
	@$(PIP) install build
	@touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	@echo "Installing pitfalls with its test dependencies into $(VENV)"
	@$(PIP) install -e ".[test]"
	@touch $@ $(VENV)/.installed
