# Two commands for a fresh machine:  `make serve`  and  `make test`.
# Both create .venv from pyproject.toml on first use: `make serve` installs what the app
# needs, `make test` adds the test tools (pytest, Playwright, ruff) to the same .venv.
#
#   make serve                      http://localhost:5006/main, on this machine only
#   make serve PORT=8080            another port
#   make serve HOST=teacher-pc.lan  for other machines: listens on that name and accepts
#                                   pages opened as http://teacher-pc.lan:PORT/main only
#   make serve SCHEDULER=tcp://HOST:8786   long jobs on that Dask cluster (default: an
#                                   embedded one of IWE_WORKERS worker processes)
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
PORT ?= 5006
HOST ?=
SCHEDULER ?=
PIP := $(PY) -m pip install -q --disable-pip-version-check
ifeq ($(HOST),)
  LISTEN := --address 127.0.0.1 --allow-websocket-origin localhost:$(PORT) \
            --allow-websocket-origin 127.0.0.1:$(PORT)
  URL := http://localhost:$(PORT)/main
else
  LISTEN := --address $(HOST) --allow-websocket-origin $(HOST):$(PORT)
  URL := http://$(HOST):$(PORT)/main
endif

.PHONY: serve test test-fast lint chromium bench screenshots

# one marker per install step, so `make serve` then `make test` adds only the test extra
$(PY):
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed ($(PYTHON) is $$($(PYTHON) -V 2>&1))"; exit 1; }
	@echo "creating $(VENV)"
	@$(PYTHON) -m venv $(VENV) || { rm -rf $(VENV); \
		echo "on Debian/Ubuntu: sudo apt-get install python3-venv"; exit 1; }

$(VENV)/.serve: pyproject.toml | $(PY)
	@echo "installing the app's packages into $(VENV) (JAX, Panel, ...; a minute on first run)"
	@$(PIP) -e .
	@touch $@

$(VENV)/.test: $(VENV)/.serve
	@echo "installing the test tools into $(VENV) (pytest, Playwright, ruff)"
	@$(PIP) -e '.[test]'
	@touch $@

serve: $(VENV)/.serve
	@echo "starting the server (Ctrl+C stops it)"
	@echo "open $(URL)"
	@IWE_WARMUP=$${IWE_WARMUP:-1} $(VENV)/bin/panel serve app/main.py --port $(PORT) $(LISTEN) --num-threads 4 \
		--liveness --plugins app.readiness $(if $(SCHEDULER),--args --scheduler $(SCHEDULER))

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

lint: $(VENV)/.test
	$(VENV)/bin/ruff check .

# two workers (browser tests in two groups, each on one worker with one server); a 2-core
# machine spends much of the suite compiling, which is single-threaded. The order the
# workers take tests in is tests/conftest.py's (browser groups first, quick tests last).
# A worker that crashes ends the run with its test failed: xdist's replacement worker under
# loadgroup waited forever for tests that never came (a CI run killed at its time limit).
test: lint chromium
	$(PY) -m pytest -n 2 --dist loadgroup --no-loadscope-reorder --max-worker-restart 0

test-fast: lint
	$(PY) -m pytest -m "not slow"

# neural-tangents 0.6.5 in its own venv (it needs jax 0.5.3), beside which the benchmarks run
NT_VENV ?= $(HOME)/.cache/nt-peer-venv
$(NT_VENV)/bin/python:
	@echo "building neural-tangents' venv in $(NT_VENV) for the side-by-side benchmarks"
	@bash ../shared/peers/neural_tangents/setup.sh $(NT_VENV)

bench: $(VENV)/.test chromium $(NT_VENV)/bin/python
	@export NT_VENV=$(NT_VENV); \
	for b in kernels predict_vs_nt predict finite empirical latency; do \
		echo "== benchmarks/$$b.py"; $(PY) benchmarks/$$b.py || exit 1; done

# the README's pictures, from the real app at its defaults (assets/make_screenshots.py)
screenshots: $(VENV)/.test chromium
	$(PY) assets/make_screenshots.py
