#!/usr/bin/env bash
# Edge resource use while streaming: starts a release central and a release edge-agent whose
# microphone is alsa-lib's file plugin (real-time paced by the edge), streams for DURATION
# seconds, and prints the edge's CPU (% of one core) and RSS. See docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${DURATION:-20}"
SWIFT="${SWIFT:-swift}"
"$SWIFT" build -c release --product central >/dev/null
"$SWIFT" build -c release --product edge-agent >/dev/null
BIN="$("$SWIFT" build -c release --show-bin-path)"
WORK="$(mktemp -d)"
trap 'kill ${CENTRAL_PID:-} ${EDGE_PID:-} 2>/dev/null || true; rm -rf "$WORK"' EXIT

# 60 s of speech-like audio (tone bursts) as the microphone.
sox -n -r 16000 -c 1 -b 16 -e signed-integer "$WORK/mic.raw" synth 60 sine 220 tremolo 1 90
mkdir -p "$WORK/alsa"
printf 'pcm.benchmic { type file slave.pcm "null" file "/dev/null" infile "%s" format "raw" }\n' "$WORK/mic.raw" > "$WORK/alsa/asoundrc"

TOKEN="bench-$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')"
ADMIN_TOKEN="$TOKEN" "$BIN/central" serve --host 127.0.0.1 --port 18480 --database-url "sqlite:$WORK/central.sqlite" --log-level error &
CENTRAL_PID=$!
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:18480/healthz >/dev/null 2>&1 && break; sleep 0.1; done
KEY="$("$BIN/central" license create --database-url "sqlite:$WORK/central.sqlite" --name bench --minutes 100 --json | sed -n 's/.*"key" *: *"\([^"]*\)".*/\1/p')"

XDG_CONFIG_HOME="$WORK" LICENSE_KEY="$KEY" CENTRAL_URL=http://127.0.0.1:18480 EDGE_PORT=18400 AUDIO_DEVICE=benchmic \
  EDGE_DATA_DIR="$WORK/edge" LOG_LEVEL=error "$BIN/edge-agent" &
EDGE_PID=$!
for _ in $(seq 1 100); do curl -fsS http://127.0.0.1:18400/api/status >/dev/null 2>&1 && break; sleep 0.1; done
IDLE_RSS=$(awk '/VmRSS/ {print $2}' /proc/$EDGE_PID/status)
curl -fsS -X POST -H 'Content-Type: application/json' http://127.0.0.1:18400/api/translation/start -d '{"source_language":"en","target_language":"zh"}' >/dev/null
sleep 3

ticks() { awk '{print $14 + $15}' /proc/$EDGE_PID/stat; }
HZ=$(getconf CLK_TCK)
T0=$(ticks); S0=$(date +%s.%N)
sleep "$DURATION"
T1=$(ticks); S1=$(date +%s.%N)
RSS=$(awk '/VmRSS/ {print $2}' /proc/$EDGE_PID/status)
STATUS=$(curl -fsS http://127.0.0.1:18400/api/status)
curl -fsS -X POST -H 'Content-Type: application/json' http://127.0.0.1:18400/api/translation/stop >/dev/null || true

awk -v t0="$T0" -v t1="$T1" -v s0="$S0" -v s1="$S1" -v hz="$HZ" -v rss="$RSS" -v idle="$IDLE_RSS" 'BEGIN {
  printf "edge CPU while streaming one stream: %.2f %% of one core over %.1f s\n", (t1 - t0) / hz / (s1 - s0) * 100, s1 - s0
  printf "edge RSS while streaming: %.1f MB (idle before the stream: %.1f MB)\n", rss / 1024, idle / 1024
}'
echo "status: $STATUS"
