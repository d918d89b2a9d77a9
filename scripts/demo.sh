#!/usr/bin/env bash
# Quick start, first command: set up and run the demo on the embedded SQLite database.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/pollwatch demo "$@"
