#!/usr/bin/env bash
# Drives the official DashScope Python SDK (PyPI `dashscope`) against the fake DashScope
# server: Tests/DashScopeSDK/test_sdk_against_fake.py. Needs .build/debug/fake-dashscope
# (built by `swift build`) plus espeak-ng, sox and opus-tools (scripts/install-deps.sh).
#
# Makes or reuses a virtualenv under .build/ and installs the pinned SDK into it only
# when missing. Exits non-zero when any test fails. Extra arguments go to unittest,
# e.g. `scripts/test-dashscope-sdk.sh RecognitionTests.test_paraformer_pcm_streaming`.
#
# Environment: DASHSCOPE_SDK_VERSION (pin), DASHSCOPE_SDK_VENV, PYTHON (interpreter for
# the venv), FAKE_DASHSCOPE_BIN, DASHSCOPE_SDK_TEST_PACE (seconds between 100 ms chunks),
# DASHSCOPE_SDK_TEST_SHOW_LOG=1 (print the fake's log), DASHSCOPE_LOGGING_LEVEL=debug
# (SDK wire log).
set -euo pipefail
cd "$(dirname "$0")/.."

sdk_version="${DASHSCOPE_SDK_VERSION:-2.0.2}"
venv="${DASHSCOPE_SDK_VENV:-.build/python-venv}"
export FAKE_DASHSCOPE_BIN="${FAKE_DASHSCOPE_BIN:-$PWD/.build/debug/fake-dashscope}"

if [ ! -x "$FAKE_DASHSCOPE_BIN" ]; then
  echo "error: $FAKE_DASHSCOPE_BIN is missing; build it first (swift build --product fake-dashscope)" >&2
  exit 1
fi

scripts/sdk-venv.sh "$venv" "dashscope==$sdk_version"

exec "$venv/bin/python" Tests/DashScopeSDK/test_sdk_against_fake.py "$@"
