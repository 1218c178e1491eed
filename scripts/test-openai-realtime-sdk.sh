#!/usr/bin/env bash
# Drives the official OpenAI Python SDK's realtime client (PyPI `openai[realtime]`) against the
# fake OpenAI Realtime server: Tests/OpenAIRealtimeSDK/test_sdk_against_fake.py. Needs
# .build/debug/fake-openai-realtime (built by `swift build`) plus espeak-ng and sox. Extra
# arguments go to unittest.
#
# Environment: OPENAI_SDK_VERSION (pin), SDK_VENV, PYTHON, FAKE_OPENAI_REALTIME_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

sdk_version="${OPENAI_SDK_VERSION:-3.57.0}"
venv="${SDK_VENV:-.build/python-venv}"
export FAKE_OPENAI_REALTIME_BIN="${FAKE_OPENAI_REALTIME_BIN:-$PWD/.build/debug/fake-openai-realtime}"

if [ ! -x "$FAKE_OPENAI_REALTIME_BIN" ]; then
  echo "error: $FAKE_OPENAI_REALTIME_BIN is missing; build it first (swift build --product fake-openai-realtime)" >&2
  exit 1
fi
scripts/sdk-venv.sh "$venv" "openai==$sdk_version" "websockets==15.0.1"
exec "$venv/bin/python" Tests/OpenAIRealtimeSDK/test_sdk_against_fake.py "$@"
