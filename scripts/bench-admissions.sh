#!/usr/bin/env bash
# Admissions on PostgreSQL (docs/benchmarks.md, "Admissions on PostgreSQL (issue 13)"); a
# measurement, not a test.
#
# A PostgreSQL server of its own (scripts/postgres-test-server.sh: fsync off, a throwaway), then
# for each layout a fresh database and fresh release centrals on it:
#   one      one central, the driver straight at it;
#   one-lb   one central behind nginx (what the load balancer alone costs);
#   three    three centrals behind nginx (scripts/nginx-proxy-conf.sh, round-robin).
#   sqlite   one central on a fresh SQLite file instead, the driver straight at it: the same
#            driver and HTTP path on the embedded store, as a baseline on this machine today.
# PostgreSQL, nginx and every central are pinned to SERVER_CORE, the driver
# (scripts/admission-load.py: CONCURRENCY clients, each admitting and releasing its own licenses
# over a kept-alive connection) to DRIVER_CORE. Then a table of admissions/s and latencies.
#
# Environment: LAYOUTS ("one one-lb three"; "sqlite" too for the baseline), CONCURRENCY ("4 16"), ADMISSIONS (5000 timed, after
# WARMUP 500), BUILD (1: build the release central first), SERVER_CORE (0), DRIVER_CORE (1),
# SWIFT, CENTRAL (binary).
set -euo pipefail
cd "$(dirname "$0")/.."

LAYOUTS=${LAYOUTS:-"one one-lb three"}
CONCURRENCY=${CONCURRENCY:-"4 16"}
ADMISSIONS=${ADMISSIONS:-5000}
WARMUP=${WARMUP:-500}
BUILD=${BUILD:-1}
SERVER_CORE=${SERVER_CORE:-0}
DRIVER_CORE=${DRIVER_CORE:-1}
SWIFT=${SWIFT:-$(command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)}
CENTRAL=${CENTRAL:-.build/release/central}
PSQL=/usr/lib/postgresql/15/bin/psql

if [ "$BUILD" = 1 ]; then nice -n 15 "$SWIFT" build -c release --product central; fi
scripts/install-deps.sh nginx postgresql
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/bench-admissions.XXXXXX)
chmod 755 "$work"   # as root nginx's worker (nobody) reaches its directory
pg_dir=
started=()
cleanup() {
    local pid
    for pid in "${started[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${started[@]}"; do wait "$pid" 2>/dev/null || true; done
    [ -z "$pg_dir" ] || scripts/postgres-test-server.sh stop "$pg_dir"
    rm -rf "$work"
}
trap cleanup EXIT

token=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
wait_ready() { # URL: until /readyz answers 200 (60 s)
    local _
    for _ in $(seq 600); do
        curl -fsS -o /dev/null "$1/readyz" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "$1 did not become ready:"; tail -n 20 "$work/central.log"; exit 1
}

pg_dir=$(taskset -c "$SERVER_CORE" scripts/postgres-test-server.sh start)
pg_url=$(cat "$pg_dir/url")   # postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
pg_pid=$(head -n 1 "$pg_dir/data/postmaster.pid")

# run LAYOUT CONCURRENCY: one measurement on a fresh database and fresh processes.
run=0
run() {
    local layout=$1 clients=$2 count database pids=() port url central_ports=() pid_args=() index
    run=$((run + 1))
    "$PSQL" -q "$pg_url" -c "CREATE DATABASE bench_$run" >/dev/null
    count=1
    [ "$layout" = three ] && count=3
    database="${pg_url%/postgres*}/bench_$run?sslmode=disable"
    [ "$layout" = sqlite ] && database="sqlite:$work/bench_$run.sqlite"
    for index in $(seq "$count"); do
        port=$(free_port)
        ADMIN_TOKEN=$token SPEECH_PROVIDER=null TRUSTED_PROXIES=127.0.0.1/32 CENTRAL_INSTANCE_ID="central-$index" \
            taskset -c "$SERVER_CORE" "$CENTRAL" serve --host 127.0.0.1 --port "$port" --log-level error \
            --database-url "$database" >>"$work/central.log" 2>&1 &
        pids+=($!)
        started+=($!)
        central_ports+=("$port")
        pid_args+=(--pid "central$index=$!")
    done
    for port in "${central_ports[@]}"; do wait_ready "http://127.0.0.1:$port"; done
    url="http://127.0.0.1:${central_ports[0]}"
    if [ "$layout" = one-lb ] || [ "$layout" = three ]; then
        port=$(free_port)
        scripts/nginx-proxy-conf.sh "$work/nginx-$run" "$port" "${central_ports[@]}"
        taskset -c "$SERVER_CORE" "$NGINX" -p "$work/nginx-$run" -e "$work/nginx-$run/error.log" -c "$work/nginx-$run/nginx.conf" &
        pids+=($!)
        started+=($!)
        pid_args+=(--pid "nginx=$!")
        url="http://127.0.0.1:$port"
        wait_ready "$url"
    fi
    echo "## $layout, $clients clients; $(uptime)"
    taskset -c "$DRIVER_CORE" python3 scripts/admission-load.py --url "$url" --admin-url "http://127.0.0.1:${central_ports[0]}" \
        --admin-token "$token" --concurrency "$clients" --admissions "$ADMISSIONS" --warmup "$WARMUP" \
        "${pid_args[@]}" --pid "postgres=$pg_pid" | tee "$work/out"
    result=$(grep '^result ' "$work/out" | tail -n 1)
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    local kept=()
    for pid in "${started[@]}"; do [[ " ${pids[*]} " == *" $pid "* ]] || kept+=("$pid"); done
    started=("${kept[@]}")
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
servers_cpu() { # central (summed), nginx, postgres
    local sum=0 name value
    for name in $(grep -o 'central[0-9]*_cpu_pct=[0-9]*' <<<"$result"); do
        value=${name#*=}
        sum=$((sum + value))
    done
    local nginx
    nginx=$(field nginx_cpu_pct)
    echo "$sum / ${nginx:--} / $(field postgres_cpu_pct)"
}

echo "# $(nproc) cores; $(uname -sr); $("$NGINX" -v 2>&1); PostgreSQL $("$PSQL" -XAtq "$pg_url" -c 'SHOW server_version'), fsync off"
rows=()
for layout in $LAYOUTS; do
    for clients in $CONCURRENCY; do
        load=$(cut -d' ' -f1-3 /proc/loadavg)
        run "$layout" "$clients"
        rows+=("| $layout | $clients | $(field admissions_per_s) | $(field admit_p50_ms) ms | $(field admit_p99_ms) ms | $(field admit_max_ms) ms | $(field release_p99_ms) ms | $(servers_cpu) | $(field driver_cpu_pct) | $load | $(field errors) |")
    done
done

echo
echo "| layout | clients | admissions/s | admit p50 | admit p99 | admit max | release p99 | CPU %: central / nginx / postgres | driver CPU % | load before | errors |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
