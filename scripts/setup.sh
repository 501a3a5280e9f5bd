#!/usr/bin/env bash
# Create .venv (if needed) and install gee with its test, bench and dev extras, editable.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.gee-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e ".[dev]"
    touch "$stamp"
fi
# Pyodide for the browser demos (examples/wasm), from npm at the version package-lock.json pins.
if [ ! -f node_modules/pyodide/pyodide.mjs ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    command -v npm >/dev/null || { echo "setup: npm is needed for Pyodide (apt-get install npm)" >&2; exit 1; }
    npm ci --no-audit --no-fund --loglevel=error
fi
