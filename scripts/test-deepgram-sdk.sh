#!/usr/bin/env bash
# Drives the official Deepgram Python SDK (PyPI `deepgram-sdk`) against the fake Deepgram
# server: Tests/DeepgramSDK/test_sdk_against_fake.py. Needs .build/debug/fake-deepgram (built
# by `swift build`) plus espeak-ng, sox and opus-tools (scripts/install-deps.sh). Extra
# arguments go to unittest, e.g. `scripts/test-deepgram-sdk.sh LiveTranscriptionTests`.
#
# Environment: DEEPGRAM_SDK_VERSION (pin), SDK_VENV, PYTHON, FAKE_DEEPGRAM_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

sdk_version="${DEEPGRAM_SDK_VERSION:-7.17.0}"
venv="${SDK_VENV:-.build/python-venv}"
export FAKE_DEEPGRAM_BIN="${FAKE_DEEPGRAM_BIN:-$PWD/.build/debug/fake-deepgram}"

if [ ! -x "$FAKE_DEEPGRAM_BIN" ]; then
  echo "error: $FAKE_DEEPGRAM_BIN is missing; build it first (swift build --product fake-deepgram)" >&2
  exit 1
fi
scripts/sdk-venv.sh "$venv" "deepgram-sdk==$sdk_version"
exec "$venv/bin/python" Tests/DeepgramSDK/test_sdk_against_fake.py "$@"
