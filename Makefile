# The set-up contract: `make run` and `make test` work on a fresh Linux machine with Python 3.11.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
INSTANCE ?= instance
HOST ?= 127.0.0.1
PORT ?= 5000
export PORTFOLIO_INSTANCE_PATH ?= $(abspath $(INSTANCE))

.PHONY: run test bench lint clean chromium nginx

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Re-install only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/portfolio db upgrade
	$(BIN)/portfolio catalogue import --builtin
	$(BIN)/portfolio serve --demo --host $(HOST) --port $(PORT)

test: $(VENV)/.installed chromium nginx
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The browser tests drive Debian's Chromium (never a downloaded browser): install it when it is
# missing and this user may; otherwise those tests skip and say why.
chromium:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "chromium is not installed: the browser tests will be skipped"; \
	  fi; \
	fi

# The cluster test (tests/deploy/test_cluster.py) puts Debian's nginx in front of two app
# servers, run as a plain process from deploy/nginx/: install it when it is missing and this
# user may (without starting Debian's own site); otherwise that test skips and says why.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's nginx for the cluster test"; \
	    apt-get update -qq && RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null; \
	  else \
	    echo "nginx is not installed: the cluster test will be skipped"; \
	  fi; \
	fi

bench: $(VENV)/.installed
	$(BIN)/python -m tests.benchmarks

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis *.egg-info
