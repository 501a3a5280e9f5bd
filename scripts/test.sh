#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, venv, lint, types, tests, benchmark smoke.
# Extra arguments go to pytest (e.g. scripts/test.sh --quick tests/web).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
bash scripts/setup.sh
. .venv/bin/activate
echo "== ruff check"; ruff check .
echo "== ruff format --check"; ruff format --check .
echo "== mypy"; mypy
echo "== pytest"
python -m pytest -n auto -p no:cacheprovider "$@"
if [ $# -eq 0 ]; then
    echo "== benchmarks (quick smoke, no numbers asserted)"
    for system in $(python -m bench --list); do
        python -m bench "$system" --quick --no-docs
    done
fi
