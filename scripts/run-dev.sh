#!/usr/bin/env bash
# `make run`: build central and the edge, keep an admin token and a demo license under ./data,
# start central, then the edge with the demo license, and print where everything is.
# Ctrl-C stops both. Re-running reuses the token and the license while they are valid.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT="${SWIFT:-swift}"
PORT="${CENTRAL_PORT:-8080}"
EDGE_PORT="${EDGE_PORT:-3000}"
export DATABASE_URL="${DATABASE_URL:-sqlite:data/central.sqlite}"

"$SWIFT" build --product central
"$SWIFT" build --product edge-agent
BIN="$("$SWIFT" build --show-bin-path)"

mkdir -p data
chmod 700 data
if [ ! -s data/admin-token ]; then
  umask 077
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > data/admin-token
fi
ADMIN_TOKEN_VALUE="$(cat data/admin-token)"
KEY="$("$BIN/central" license demo --key-file data/demo-license.key)"

"$BIN/central" serve --port "$PORT" --admin-token-file data/admin-token &
CENTRAL_PID=$!
trap 'kill $CENTRAL_PID 2>/dev/null || true; kill ${EDGE_PID:-} 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "http://localhost:${PORT}/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

LICENSE_KEY="$KEY" CENTRAL_URL="http://localhost:${PORT}" EDGE_PORT="$EDGE_PORT" EDGE_DATA_DIR=data/edge \
  "$BIN/edge-agent" &
EDGE_PID=$!

cat <<BANNER

  Central:      http://localhost:${PORT}        (database ${DATABASE_URL})
  Edge page:    http://localhost:${EDGE_PORT}
  Admin token:  ${ADMIN_TOKEN_VALUE}        (kept in data/admin-token)
  Demo license: ${KEY}   (kept in data/demo-license.key)

  Try:
    curl -H "Authorization: Bearer ${KEY}" http://localhost:${PORT}/v1/license/quota
    curl http://localhost:${EDGE_PORT}/api/status
    curl -H "Authorization: Bearer ${ADMIN_TOKEN_VALUE}" http://localhost:${PORT}/v1/admin/licenses

BANNER

wait -n "$CENTRAL_PID" "$EDGE_PID"
