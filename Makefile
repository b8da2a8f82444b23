# Two commands do everything on a fresh machine: `make demo` and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
STAMP := .venv/.kouan-installed

.PHONY: demo test lint typecheck pytest bench system services install clean

demo: install system
	.venv/bin/kouan demo

test: install system services lint typecheck pytest

install: $(STAMP)

# Re-install when the dependency list changes; the editable install tracks source edits.
$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q -U pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

system:
	scripts/ensure_system.sh

services:
	scripts/ensure_services.sh

lint:
	.venv/bin/ruff check .

typecheck:
	.venv/bin/mypy kouan vision datasets training serving pipelines annotation bench

pytest:
	.venv/bin/pytest -q

bench: install system services
	@mkdir -p bench/results
	@set -e; for f in bench/bench_*.py; do echo "== $$f"; $(PY) $$f; done

clean:
	rm -rf .venv .mypy_cache .ruff_cache .pytest_cache
