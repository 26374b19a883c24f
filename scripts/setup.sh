#!/usr/bin/env bash
# Create the virtual environments and install the pinned dependencies.
# Idempotent: does nothing when requirements did not change since the last run.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  if command -v pyenv >/dev/null 2>&1; then
    local p
    p=$(pyenv root 2>/dev/null)/versions
    for d in "$p"/3.10.*; do [ -x "$d/bin/python3.10" ] && candidates+=("$d/bin/python3.10"); done
  fi
  for d in /root/.pyenv/versions/3.10.* "$HOME"/.pyenv/versions/3.10.*; do
    [ -x "$d/bin/python3.10" ] && candidates+=("$d/bin/python3.10")
  done
  command -v python3.10 >/dev/null 2>&1 && candidates+=("$(command -v python3.10)")
  local c
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then
      echo "$c"; return 0
    fi
  done
  return 1
}

PY310=$(find_python310) || {
  echo "ERROR: Python 3.10 is required (Rasa Open Source 3.6 supports Python 3.8-3.10)." >&2
  echo "Install it (e.g. 'pyenv install 3.10.13') or point PYTHON=/path/to/python3.10." >&2
  exit 1
}

# $1 venv dir, $2 requirements file
install_venv() {
  local venv=$1 req=$2 stamp="$1/.requirements.sha256" want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  echo "==> Installing $req into $venv (Python: $PY310)"
  [ -x "$venv/bin/python" ] || "$PY310" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip<25" >/dev/null
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  "$venv/bin/python" -m pip check
  echo "$want" > "$stamp"
}

install_venv .venv requirements.txt
# The development identity provider needs pydantic 2, so it has its own environment.
if [ -f idp/requirements.txt ]; then
  install_venv .venv-idp idp/requirements.txt
fi
mkdir -p var models
