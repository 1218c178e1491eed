#!/usr/bin/env bash
# Instance faults under load (issue 13; a measurement, not a test): its own PostgreSQL server,
# N central instances on it behind nginx (round robin, WebSocket upgrades passed through, no
# stickiness), S streaming clients that resume like the edge, and K random `kill -9` of an
# instance, each restarted after 0-3 s. Reports seconds lost (audio sent - billed, from the
# database) and leases leaked; docs/benchmarks.md, "Instance faults (issue 13)".
#
#   scripts/fault-kill.sh                  # or: make fault-kill
#   KILLS=10 STREAMS=20 BUILD=1 scripts/fault-kill.sh
#
# Environment: INSTANCES (3), STREAMS (20), KILLS (100), LEASE_TTL (30: instances lapse after
# min(10, TTL/2) s), SESSION_SECONDS ("20 60": each session's length, a random pick in the
# range), REPLAY (acked: the edge's buffer, acks drop frames; window: keep the last 10 s
# whatever was acked), SEED, LOG_LEVEL (central's, warning), BUILD (1: build the release binary first, nice'd), SWIFT, CENTRAL
# (binary, default .build/release/central), OUT (.build/fault-kill: logs, per-session table).
# Exits non-zero when something was billed twice, a lease or session leaked, or the ledger, the
# license counter and the usage report disagree.
set -euo pipefail
cd "$(dirname "$0")/.."

INSTANCES=${INSTANCES:-3}
STREAMS=${STREAMS:-20}
KILLS=${KILLS:-100}
LEASE_TTL=${LEASE_TTL:-30}
SESSION_SECONDS=${SESSION_SECONDS:-"20 60"}
REPLAY=${REPLAY:-acked}
BUILD=${BUILD:-0}
SWIFT=${SWIFT:-$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)}
CENTRAL=${CENTRAL:-.build/release/central}
OUT=${OUT:-.build/fault-kill}

if [ "$BUILD" = 1 ]; then
    nice -n 15 "$SWIFT" build -c release --product central
fi
[ -x "$CENTRAL" ] || { echo "no central binary at $CENTRAL (BUILD=1 builds it)" >&2; exit 1; }
scripts/install-deps.sh nginx opus-tools postgresql >&2

mkdir -p "$OUT"
work=$(mktemp -d /tmp/fault-kill.XXXXXX)
pg_dir=
nginx_pid=
cleanup() {
    # The driver stops its instances itself; these are for a driver that died first.
    local file pid
    for file in "$work"/central-*.pid; do
        [ -f "$file" ] || continue
        pid=$(cat "$file")
        if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    if [ -n "$nginx_pid" ] && kill -0 "$nginx_pid" 2>/dev/null; then
        kill -QUIT "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
    fi
    [ -z "$pg_dir" ] || scripts/postgres-test-server.sh stop "$pg_dir"
    cp "$work"/*.log "$OUT"/ 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

pg_dir=$(scripts/postgres-test-server.sh start)
database_url=$(cat "$pg_dir/url")

ports=()
for _ in $(seq "$INSTANCES"); do ports+=("$(free_port)"); done
lb_port=$(free_port)

# nginx as the load balancer, the one the tests and benchmarks run (scripts/nginx-proxy-conf.sh):
# round robin, upgrades passed through on fresh upstream connections, a refused connection to a
# dead instance moves to the next one (and rests the dead one for 5 s); a request that reached
# an instance is never resent (admissions are not idempotent).
scripts/nginx-proxy-conf.sh "$work/nginx" "$lb_port" "${ports[@]}"
nginx -p "$work/nginx" -e "$work/nginx.log" -c "$work/nginx/nginx.conf" &
nginx_pid=$!

admin_token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
stamp=$(date -u +%Y%m%dT%H%M%SZ)
# shellcheck disable=SC2086 # SESSION_SECONDS is two numbers
nice -n 10 python3 scripts/fault-kill.py --central "$CENTRAL" --database-url "$database_url" \
    --lb-port "$lb_port" --ports "${ports[@]}" --admin-token "$admin_token" --work "$work" \
    --streams "$STREAMS" --kills "$KILLS" --lease-ttl "$LEASE_TTL" --session-seconds $SESSION_SECONDS \
    --replay "$REPLAY" --log-level "${LOG_LEVEL:-warning}" ${SEED:+--seed "$SEED"} --sessions-file "$OUT/sessions-$stamp.tsv" \
    | tee "$OUT/summary-$stamp.txt"
