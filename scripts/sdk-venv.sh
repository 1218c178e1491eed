#!/usr/bin/env bash
# Makes (or reuses) a Python virtualenv for the provider SDK tests and installs the pinned
# packages into it when missing. Usage: scripts/sdk-venv.sh <venv dir> <name==version>...
# PYTHON picks the interpreter the venv is made from (default python3).
set -euo pipefail
venv="$1"
shift
python="${PYTHON:-python3}"

# (Re)create the venv when absent or broken (e.g. its base interpreter went away).
if ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  if ! "$python" -m venv "$venv"; then
    echo "error: '$python -m venv' failed (on Debian's python3: apt-get install python3-venv)" >&2
    exit 1
  fi
fi

for pin in "$@"; do
  if ! "$venv/bin/python" - "${pin%%==*}" "${pin#*==}" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
sys.exit(0 if version(sys.argv[1]) == sys.argv[2] else 1)
PY
  then
    echo "Installing $pin into $venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$pin"
  fi
done
