#!/usr/bin/env bash
# Pinned relay cost (docs/benchmarks.md, "Pinned relay cost (issue 12)"); a measurement, not a test.
#
# For each stream count, two runs with a fresh central (release, SPEECH_PROVIDER=null, its own
# temp SQLite file) each:
#   1. central pinned to SERVER_CORE, loadgen (one event loop) pinned to DRIVER_CORE: central's
#      CPU µs per relayed frame, frames/s held, relay p99, RSS per stream;
#   2. the floor: nginx (Debian's, a WebSocket reverse proxy with its own temp config, from
#      scripts/nginx-proxy-conf.sh) pinned to SERVER_CORE in front of central, which moves to
#      DRIVER_CORE with loadgen: nginx's own CPU µs per frame (its worker's /proc/PID/stat) for the same load.
# Then a table: streams | central µs/frame | nginx µs/frame | ratio.
#
# Environment: STREAMS ("100 500 1000 2000"), DURATION (10 s window), WARMUP (3 s), FLOOR (1: also
# run nginx; 0: central only), BUILD (1: build the release binaries first), SERVER_CORE (0),
# DRIVER_CORE (1), SWIFT, CENTRAL, LOADGEN (binaries).
set -euo pipefail
cd "$(dirname "$0")/.."

STREAMS=${STREAMS:-"100 500 1000 2000"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-3}
FLOOR=${FLOOR:-1}
BUILD=${BUILD:-1}
SERVER_CORE=${SERVER_CORE:-0}
DRIVER_CORE=${DRIVER_CORE:-1}
SWIFT=${SWIFT:-$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)}
CENTRAL=${CENTRAL:-.build/release/central}
LOADGEN=${LOADGEN:-.build/release/loadgen}

if [ "$BUILD" = 1 ]; then
    nice -n 15 "$SWIFT" build -c release --product central
    nice -n 15 "$SWIFT" build -c release --product loadgen
fi
# Debian's nginx (scripts/install-deps.sh installs it); this script runs its own instance.
if [ "$FLOOR" = 1 ]; then scripts/install-deps.sh nginx; fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

# 2,000 streams are 2,000 sockets in loadgen and central, twice that in nginx.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work=$(mktemp -d /tmp/bench-pinned.XXXXXX)
started=()
cleanup() {
    [ ${#started[@]} -eq 0 ] || stop "${started[@]}"
    rm -rf "$work"
}
trap cleanup EXIT

token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
port() { echo $((20000 + RANDOM % 20000)); }

# start_central CORE PORT: sets central_pid.
start_central() {
    rm -f "$work/central.sqlite"*
    ADMIN_TOKEN=$token SPEECH_PROVIDER=null taskset -c "$1" "$CENTRAL" serve --host 127.0.0.1 --port "$2" \
        --log-level error --database-url "sqlite:$work/central.sqlite" >>"$work/central.log" 2>&1 &
    central_pid=$!
    started+=("$central_pid")
}

# start_nginx CORE PORT UPSTREAM_PORT: sets nginx_pid (the master) and nginx_worker.
start_nginx() {
    scripts/nginx-proxy-conf.sh "$work/nginx" "$2" "$3"
    taskset -c "$1" "$NGINX" -p "$work/nginx" -e "$work/nginx/error.log" -c "$work/nginx/nginx.conf" &
    nginx_pid=$!
    started+=("$nginx_pid")
    nginx_worker=
    for _ in $(seq 100); do
        nginx_worker=$(cat "/proc/$nginx_pid/task/$nginx_pid/children" 2>/dev/null | awk '{print $1}')
        [ -n "$nginx_worker" ] && break
        sleep 0.05
    done
    [ -n "$nginx_worker" ] || { echo "nginx did not start:"; cat "$work/nginx/error.log"; exit 1; }
}

# stop PID…: ends processes this script started, and forgets them.
stop() {
    local pid kept=()
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    for pid in "${started[@]}"; do
        [[ " $* " == *" $pid "* ]] || kept+=("$pid")
    done
    started=("${kept[@]}")
}

# loadgen N URL --pid ...: prints loadgen's output, and its result line to $work/result.
loadgen() {
    local count=$1 url=$2
    shift 2
    taskset -c "$DRIVER_CORE" "$LOADGEN" --url "$url" --admin-token "$token" --streams "$count" \
        --duration "$DURATION" --warmup "$WARMUP" "$@" | tee "$work/loadgen.out"
    grep '^result ' "$work/loadgen.out" | tail -1 >"$work/result" || : >"$work/result"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" "$work/result"; }

echo "# $(nproc) cores; $(uname -sr); $("$NGINX" -v 2>&1 || echo 'no nginx'); window ${DURATION} s after ${WARMUP} s warm-up"
rows=()
for count in $STREAMS; do
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    echo "## $count streams: central on core $SERVER_CORE, loadgen on core $DRIVER_CORE; $(uptime)"
    cport=$(port)
    start_central "$SERVER_CORE" "$cport"
    loadgen "$count" "http://127.0.0.1:$cport" --pid "central=$central_pid"
    stop "$central_pid"
    held=$(field held) offered=$(field offered_per_s) accepted=$(field accepted_per_s) p99=$(field relay_p99_ms)
    central_us=$(field central_us_per_frame) central_kb=$(field central_kb_per_stream) errors=$(field errors)

    nginx_us=- nginx_fps=- ratio=- floor_load=-
    if [ "$FLOOR" = 1 ]; then
        floor_load=$(cut -d' ' -f1-3 /proc/loadavg)
        echo "## $count streams: nginx on core $SERVER_CORE; central and loadgen on core $DRIVER_CORE; $(uptime)"
        cport=$(port)
        nport=$(port)
        start_central "$DRIVER_CORE" "$cport"
        start_nginx "$SERVER_CORE" "$nport" "$cport"
        loadgen "$count" "http://127.0.0.1:$nport" --pid "nginx=$nginx_worker" --pid "central=$central_pid"
        stop "$nginx_pid" "$central_pid"
        nginx_us=$(field nginx_us_per_frame)
        nginx_fps=$(field accepted_per_s)
        ratio=$(awk -v c="$central_us" -v n="$nginx_us" 'BEGIN { if (n + 0 > 0) printf "%.1f", c / n; else print "-" }')
    fi
    rows+=("| $count | $held | $accepted ($offered) | ≤ $p99 ms | $central_us | $central_kb | $nginx_us ($nginx_fps/s) | $ratio | $load / $floor_load | $errors |")
done

echo
echo "| streams | held | frames/s relayed (offered) | relay p99 | central µs/frame | central KB/stream | nginx µs/frame (frames/s) | ratio | load before (central / nginx run) | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
