# Two commands for a newcomer: `make run` and `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
REQUIREMENTS := requirements/web.txt requirements/gpu.txt requirements/dev.txt requirements/gpu-nodeps.txt

.PHONY: install run test lint bench clean browser-deps

$(STAMP): $(REQUIREMENTS)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check $(addprefix -r ,$(filter-out %-nodeps.txt,$(REQUIREMENTS)))
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -r requirements/gpu-nodeps.txt
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) -m config.run_embedded

lint: install
	$(VENV)/bin/ruff check .

# The browser tests drive Debian's Chromium (fonts-nanum: Korean glyphs). Installed when missing and apt-get
# is available; otherwise the browser tests skip with a loud reason.
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null 2>&1; then \
	  apt-get install -y chromium fonts-nanum || { apt-get update && apt-get install -y chromium fonts-nanum; } \
	  || echo "!!! could not install chromium: the browser tests will be skipped"; \
	fi

test: lint browser-deps
	$(PY) -m pytest

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
