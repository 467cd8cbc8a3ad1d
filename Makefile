# The README's two commands:  `make demo`  and  `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
IDP := tests/idp
HUB := tests/hub
AZURITE := tests/azurite
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
# The server extension's config: a wheel install puts it there (pyproject data-files); an editable
# install (pip install -e) skips data-files, so the Makefile copies it.
SERVER_CONFIG := etc/jupyter/jupyter_server_config.d/nbauth.json

.PHONY: demo test install install-test chromium java bench lab

$(VENV)/bin/python:
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

install: $(VENV)/bin/python
	$(PY) -m pip install -q -e .
	install -D -m 644 jupyter-config/jupyter_server_config.d/nbauth.json $(VENV)/$(SERVER_CONFIG)

$(STAMP): $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install -q -e '.[test,bench]'
	install -D -m 644 jupyter-config/jupyter_server_config.d/nbauth.json $(VENV)/$(SERVER_CONFIG)
	touch $@

$(IDP)/node_modules/.package-lock.json: $(IDP)/package-lock.json
	npm ci --prefix $(IDP) --no-audit --no-fund --loglevel=error

# configurable-http-proxy for the JupyterHub browser tests.
$(HUB)/node_modules/.package-lock.json: $(HUB)/package-lock.json
	npm ci --prefix $(HUB) --no-audit --no-fund --loglevel=error

# Azurite (Azure Storage) for the async credential's tests.
$(AZURITE)/node_modules/.package-lock.json: $(AZURITE)/package-lock.json
	npm ci --prefix $(AZURITE) --no-audit --no-fund --loglevel=error

# Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's Java 17 for the PySpark tests (tests/clusters).
java:
	@command -v java >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; }

install-test: $(STAMP) $(IDP)/node_modules/.package-lock.json $(HUB)/node_modules/.package-lock.json \
	$(AZURITE)/node_modules/.package-lock.json chromium java

## The main job: install nbauth and sign in against the local OpenID provider.
## DEMO_ARGS=--self-approve approves the code without a person; DEMO_ARGS=--lab opens JupyterLab.
demo: install $(IDP)/node_modules/.package-lock.json
	$(PY) notebooks/demo.py $(DEMO_ARGS)

## Everything the tests need, then the whole suite.
# Two workers: most tests wait on servers, kernels and browsers, not on the CPU (tests/conftest.py).
test: install-test
	$(PY) -m pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: $(STAMP) $(IDP)/node_modules/.package-lock.json
	$(PY) bench/run.py $(BENCH_ARGS)
