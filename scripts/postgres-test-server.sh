#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server (Debian's `postgresql`) for the test suite, in a temporary
# directory on a free loopback port. It is fast and disposable on purpose (fsync off): never
# point anything but tests at it.
#
#   dir=$(scripts/postgres-test-server.sh start)   # prints the state directory; $dir/url holds
#                                                  # postgres://postgres@127.0.0.1:PORT/postgres?sslmode=disable
#   CENTRAL_TEST_POSTGRES_URL=$(cat "$dir/url") swift test
#   scripts/postgres-test-server.sh stop "$dir"    # stops the server and removes the directory
#
# initdb and postgres refuse to run as root: as root they run as the `postgres` user (created
# by the Debian package), otherwise as the calling user.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
pg_bin=/usr/lib/postgresql/15/bin

as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  [ -x "$pg_bin/initdb" ] || "$here/install-deps.sh" postgresql >&2
  local dir
  dir="$(mktemp -d "${TMPDIR:-/tmp}/central-test-postgres.XXXXXX")"
  mkdir -p "$dir/data" "$dir/socket"
  if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$dir"; fi
  as_server_user "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  local port attempt
  for attempt in 1 2 3; do
    port="$(free_port)"
    if as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir/socket -c listen_addresses=127.0.0.1 -c max_connections=500 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >"$dir/pg_ctl.log" 2>&1; then
      echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable" >"$dir/url"
      echo "$dir"
      return 0
    fi
  done
  cat "$dir/pg_ctl.log" "$dir/server.log" >&2 || true
  exit 1
}

stop() {
  local dir="${1:?usage: $0 stop DIR}"
  [ -d "$dir/data" ] || { echo "not a test server directory: $dir" >&2; exit 1; }
  as_server_user "$pg_bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start | stop DIR" >&2; exit 2 ;;
esac
