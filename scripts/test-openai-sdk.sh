#!/usr/bin/env bash
# Drives the official OpenAI Python SDK (PyPI `openai`, with `websockets` for its realtime
# client) against the fakes: Tests/OpenAISDK/test_realtime_against_fake.py (fake-openai-realtime,
# transcription sessions) and Tests/OpenAISDK/test_chat_against_fake_llm.py (fake-llm, chat
# completions) and Tests/OpenAISDK/test_chat_through_central.py (central's chat proxy with a
# license key, fake-llm as its upstream). Needs the fakes and central built (`swift build`) plus espeak-ng and sox.
#
# Environment: OPENAI_SDK_VERSION (pin), SDK_VENV, PYTHON, FAKE_OPENAI_REALTIME_BIN, FAKE_LLM_BIN, CENTRAL_BIN.
set -euo pipefail
cd "$(dirname "$0")/.."

sdk_version="${OPENAI_SDK_VERSION:-3.57.0}"
venv="${SDK_VENV:-.build/python-venv}"
export FAKE_OPENAI_REALTIME_BIN="${FAKE_OPENAI_REALTIME_BIN:-$PWD/.build/debug/fake-openai-realtime}"
export FAKE_LLM_BIN="${FAKE_LLM_BIN:-$PWD/.build/debug/fake-llm}"
export CENTRAL_BIN="${CENTRAL_BIN:-$PWD/.build/debug/central}"

for fake in "$FAKE_OPENAI_REALTIME_BIN" "$FAKE_LLM_BIN" "$CENTRAL_BIN"; do
  if [ ! -x "$fake" ]; then
    echo "error: $fake is missing; build it first (swift build)" >&2
    exit 1
  fi
done
scripts/sdk-venv.sh "$venv" "openai==$sdk_version" "websockets==15.0.1"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" Tests/OpenAISDK/test_realtime_against_fake.py "$@"
PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" Tests/OpenAISDK/test_chat_against_fake_llm.py "$@"
PYTHONDONTWRITEBYTECODE=1 exec "$venv/bin/python" Tests/OpenAISDK/test_chat_through_central.py "$@"
