#!/usr/bin/env bash
# Installs what the browser tests need: Debian's chromium and chromium-driver (apt), and
# Selenium from PyPI in a virtual environment under .build/browser-venv. Idempotent and quiet
# when everything is already present, so `make test-browser` can call it every time.
# The tests then run with .build/browser-venv/bin/python.
set -euo pipefail

cd "$(dirname "$0")/.."

scripts/install-deps.sh chromium chromium-driver espeak-ng sox python3 python3-venv fonts-noto-cjk

# Debian's python3 is "externally managed": Selenium goes into a venv of our own. The system
# interpreter is used on purpose (a pyenv or conda python on PATH may lack venv support).
venv=.build/browser-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
  echo "Installing Selenium into $venv"
  rm -rf "$venv"
  /usr/bin/python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'selenium>=4.11'
fi
