# The two commands of the quick start: `make run` (set up, serve gee.kv) and `make test` (everything).
.PHONY: run test quick lint bench

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

quick:
	bash scripts/setup.sh && .venv/bin/python -m pytest -n auto --quick

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy

bench:
	.venv/bin/python -m bench $(SYSTEM)
