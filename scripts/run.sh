#!/usr/bin/env bash
# The main job: set up, then serve gee.kv on 127.0.0.1:6379 with its data under ./data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mkdir -p data
echo "gee kv: connect with  redis-cli -h 127.0.0.1 -p ${PORT:-6379}  (Ctrl-C stops it)"
exec .venv/bin/gee kv --bind 127.0.0.1 --port "${PORT:-6379}" --dir ./data
