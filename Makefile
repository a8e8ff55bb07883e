# Two commands for a fresh machine:  `make serve`  and  `make test`.
# Both create .venv from pyproject.toml on first use.
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 5006

.PHONY: serve test test-fast chromium bench

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

serve: $(VENV)/.installed
	$(VENV)/bin/panel serve app/main.py --port $(PORT) --num-threads 4 --show

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

# two workers (browser tests together on one, with one server); a 2-core machine spends
# much of the suite compiling, which is single-threaded
test: $(VENV)/.installed chromium
	$(PY) -m pytest -n 2 --dist loadgroup

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not slow"

bench: $(VENV)/.installed chromium
	for b in kernels predict_vs_nt predict finite empirical latency; do \
		echo "== benchmarks/$$b.py"; $(PY) benchmarks/$$b.py || exit 1; done
