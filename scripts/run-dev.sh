#!/usr/bin/env bash
# `make run`: build central, keep an admin token and a demo license under ./data, print them,
# then serve in the foreground (Ctrl-C stops it). Re-running reuses both while they are valid.
set -euo pipefail
cd "$(dirname "$0")/.."

SWIFT="${SWIFT:-swift}"
PORT="${CENTRAL_PORT:-8080}"
export DATABASE_URL="${DATABASE_URL:-sqlite:data/central.sqlite}"

"$SWIFT" build --product central
BIN="$("$SWIFT" build --show-bin-path)/central"

mkdir -p data
chmod 700 data
if [ ! -s data/admin-token ]; then
  umask 077
  od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > data/admin-token
fi
ADMIN_TOKEN_VALUE="$(cat data/admin-token)"
KEY="$("$BIN" license demo --key-file data/demo-license.key)"

cat <<BANNER

  Central is starting on http://localhost:${PORT}
  Database:     ${DATABASE_URL}
  Admin token:  ${ADMIN_TOKEN_VALUE}        (kept in data/admin-token)
  Demo license: ${KEY}   (kept in data/demo-license.key)

  Try:
    curl -H "Authorization: Bearer ${KEY}" http://localhost:${PORT}/v1/license/quota
    curl -H "Authorization: Bearer ${ADMIN_TOKEN_VALUE}" http://localhost:${PORT}/v1/admin/licenses

BANNER

exec "$BIN" serve --port "$PORT" --admin-token-file data/admin-token
