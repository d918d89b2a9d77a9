#!/usr/bin/env bash
# Sets up pollwatch in ./.venv: finds Python >= 3.11, creates the virtualenv, installs the
# project (with the development tools and Chromium for browser tests when called with --dev).
# Safe to run again: it only installs what is missing or changed.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0 extra="" suffix=""
if [[ "${1:-}" == "--dev" ]]; then
  dev=1 extra="[dev]" suffix="-dev"
fi

find_python() {
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  echo "pollwatch needs Python 3.11 or newer; none found on PATH." >&2
  return 1
}

if [[ ! -x .venv/bin/python ]]; then
  python=$(find_python)
  "$python" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi

# Reinstall only when pyproject.toml changed since the last install.
stamp=.venv/.pollwatch-installed$suffix
if [[ ! -f $stamp || pyproject.toml -nt $stamp ]]; then
  .venv/bin/python -m pip install --quiet --editable ".${extra}"
  touch "$stamp"
fi

if [[ $dev == 1 && ! -x /usr/bin/chromium ]]; then
  # Browser tests drive Debian's Chromium (Playwright's own browser download is not used).
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    apt-get install -y -q chromium >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
  elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
    sudo apt-get install -y -q chromium >/dev/null
  else
    echo "Chromium not found at /usr/bin/chromium: browser tests will be skipped." >&2
  fi
fi
