#!/bin/sh
# Stops Speech Edge. The device identity (and so the license's device slot) is kept: the next
# ./start.sh is the same device.
set -eu
cd "$(dirname "$0")"

# Started with EDGE_RUNTIME=binary: stop that process.
if [ -f edge-agent.pid ]; then
  pid="$(cat edge-agent.pid)"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    i=0
    while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do sleep 0.5; i=$((i + 1)); done
    if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f edge-agent.pid
  echo "Speech Edge stopped."
  exit 0
fi

if docker compose version >/dev/null 2>&1; then COMPOSE="docker compose"
elif command -v docker-compose >/dev/null 2>&1; then COMPOSE="docker-compose"
elif podman compose version >/dev/null 2>&1; then COMPOSE="podman compose"
elif command -v podman-compose >/dev/null 2>&1; then COMPOSE="podman-compose"
else echo "stop.sh: no docker compose found." >&2; exit 1
fi
# Not `down -v`: the named volume keeps the device identity.
$COMPOSE -f compose.yml down
echo "Speech Edge stopped."
