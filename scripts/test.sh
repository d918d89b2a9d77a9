#!/usr/bin/env bash
# Quick start, second command: set up (development tools, Chromium) and run the whole suite.
# Runs on SQLite by default; set POLLWATCH_DATABASE_URL to run it on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
exec .venv/bin/pytest "$@"
