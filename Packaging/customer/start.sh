#!/bin/sh
# Starts Speech Edge. Put your license key in .env (LICENSE_KEY=...), run ./start.sh, open the
# address it prints (http://localhost:3000). README.md explains everything.
#
#   ./start.sh           start (or restart) the edge in Docker and print the address and quota
#   ./start.sh --check   print the support check: license, minutes left, microphones, network
#
# It uses `docker compose`, `docker-compose`, `podman compose` or `podman-compose`, whichever
# is installed. EDGE_RUNTIME=binary EDGE_AGENT_BIN=/path/to/edge-agent ./start.sh runs an
# edge-agent program directly instead (no Docker; for support and for the vendor's tests); its
# device identity is then kept in ./data and its log in ./edge-agent.log.
set -eu
cd "$(dirname "$0")"

say() { printf '%s\n' "$*"; }
die() { printf 'start.sh: %s\n' "$*" >&2; exit 1; }

if [ ! -f .env ]; then
  cp .env.example .env
  chmod 600 .env 2>/dev/null || true
  die "created .env: open it, put the license key from your vendor after LICENSE_KEY=, save it, and run ./start.sh again."
fi

# A setting from .env (the last one wins), without running the file as a script.
setting() {
  sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" .env | tail -n 1 | tr -d '\r' \
    | sed -e 's/[[:space:]]*$//' -e 's/^"\(.*\)"$/\1/' -e "s/^'\\(.*\\)'\$/\\1/"
}

KEY="$(setting LICENSE_KEY | tr -d ' \t' | tr '[:lower:]' '[:upper:]')"
[ -n "$KEY" ] || die "LICENSE_KEY is empty in .env: put the license key from your vendor after LICENSE_KEY= and run ./start.sh again."
printf '%s\n' "$KEY" | grep -Eq '^(TRIAL|LIC)(-[0-9A-HJKMNP-TV-Z]{8}){4}$' \
  || die "LICENSE_KEY in .env does not look like a license key (TRIAL-XXXXXXXX-XXXXXXXX-XXXXXXXX-XXXXXXXX): check it for typos."
PORT="$(setting EDGE_PORT)"
PORT="${PORT:-3000}"
URL="http://localhost:$PORT"
RUNTIME="${EDGE_RUNTIME:-$(setting EDGE_RUNTIME)}"
RUNTIME="${RUNTIME:-auto}"

# GET a local URL, or fail quietly (curl or wget, whichever exists).
fetch() {
  if command -v curl >/dev/null 2>&1; then curl -fsS --max-time 3 "$1" 2>/dev/null
  elif command -v wget >/dev/null 2>&1; then wget -q -T 3 -O - "$1" 2>/dev/null
  else return 1; fi
}
edge_answers() { fetch "http://127.0.0.1:$PORT/api/status" | grep -q '"link"'; }

# Is something other than the edge listening on the port?
port_busy() {
  if command -v ss >/dev/null 2>&1; then
    ss -Hltn "sport = :$PORT" 2>/dev/null | grep -q .
  elif command -v lsof >/dev/null 2>&1; then
    lsof -nP -iTCP:"$PORT" -sTCP:LISTEN >/dev/null 2>&1
  elif command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/"; [ $? -ne 7 ]
  else
    return 1
  fi
}

# Minutes left and the license state, from the edge's local API.
show_quota() {
  quota="$(fetch "http://127.0.0.1:$PORT/api/license/quota" || true)"
  if [ -z "$quota" ]; then
    if command -v curl >/dev/null 2>&1; then
      quota="$(curl -sS --max-time 10 "http://127.0.0.1:$PORT/api/license/quota" 2>/dev/null || true)"
    fi
  fi
  case "$quota" in
    *'"seconds_remaining"'*)
      status="$(printf '%s' "$quota" | sed -n 's/.*"status" *: *"\([^"]*\)".*/\1/p')"
      left="$(printf '%s' "$quota" | sed -n 's/.*"seconds_remaining" *: *\([0-9.]*\).*/\1/p')"
      limit="$(printf '%s' "$quota" | sed -n 's/.*"seconds_limit" *: *\([0-9.]*\).*/\1/p')"
      say "License: $status, $(awk -v s="${left:-0}" 'BEGIN { printf "%.1f", s / 60 }') of $(awk -v s="${limit:-0}" 'BEGIN { printf "%.1f", s / 60 }') minutes left."
      ;;
    *'"error"'*)
      say "License problem: $(printf '%s' "$quota" | sed -n 's/.*"code" *: *"\([^"]*\)".*"message" *: *"\([^"]*\)".*/\1: \2/p')"
      say "See README.md, \"License errors\"."
      ;;
    *)
      say "Minutes left: shown on the page, or: curl $URL/api/license/quota"
      ;;
  esac
}

wait_until_up() {
  i=0
  while [ $i -lt 90 ]; do
    if edge_answers; then return 0; fi
    if [ -n "${1:-}" ] && ! kill -0 "$1" 2>/dev/null; then return 1; fi
    i=$((i + 1))
    sleep 1
  done
  return 1
}

started() {
  say ""
  say "Speech Edge is running: open $URL"
  show_quota
  say "Stop it with ./stop.sh."
}

# ---------------------------------------------------------------- without Docker
if [ "$RUNTIME" = binary ]; then
  BIN="${EDGE_AGENT_BIN:-}"
  [ -n "$BIN" ] || { [ -x ./edge-agent ] && BIN=./edge-agent; } || BIN="$(command -v edge-agent || true)"
  if [ -z "$BIN" ] || [ ! -x "$BIN" ]; then
    die "EDGE_RUNTIME=binary needs EDGE_AGENT_BIN=/path/to/edge-agent (or edge-agent on the PATH)."
  fi
  # Every NAME=value of .env, exported as it is (compose reads the same file).
  while IFS= read -r line || [ -n "$line" ]; do
    line="$(printf '%s' "$line" | tr -d '\r')"
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"
    name="$(printf '%s' "$name" | tr -d ' \t')"
    case "$name" in *[!A-Za-z0-9_]*|'') continue ;; esac
    export "$name=$(setting "$name")"
  done < .env
  export EDGE_PORT="$PORT" EDGE_DATA_DIR="${EDGE_DATA_DIR:-$PWD/data}"
  # As compose.ca.yml does in Docker mode.
  if [ -f central-ca.pem ] && [ -z "${CENTRAL_CA_FILE:-}" ]; then export CENTRAL_CA_FILE="$PWD/central-ca.pem"; fi
  if [ "${1:-}" = --check ]; then exec "$BIN" --check; fi
  if [ -f edge-agent.pid ] && kill -0 "$(cat edge-agent.pid)" 2>/dev/null; then
    say "The edge is already running (pid $(cat edge-agent.pid))."
    started
    exit 0
  fi
  if port_busy; then
    die "port $PORT is in use by another program: put EDGE_PORT=3001 (or another free port) in .env and run ./start.sh again."
  fi
  mkdir -p "$EDGE_DATA_DIR"
  nohup "$BIN" >>edge-agent.log 2>&1 </dev/null &
  echo $! >edge-agent.pid
  wait_until_up "$!" || die "the edge did not start: see edge-agent.log."
  started
  exit 0
fi

# ---------------------------------------------------------------- Docker or Podman
ENGINE=""
COMPOSE=""
if [ "$RUNTIME" = auto ] || [ "$RUNTIME" = docker ]; then
  if docker compose version >/dev/null 2>&1; then ENGINE=docker COMPOSE="docker compose"
  elif command -v docker-compose >/dev/null 2>&1; then ENGINE=docker COMPOSE="docker-compose"
  fi
fi
if [ -z "$COMPOSE" ] && { [ "$RUNTIME" = auto ] || [ "$RUNTIME" = podman ]; }; then
  if podman compose version >/dev/null 2>&1; then ENGINE=podman COMPOSE="podman compose"
  elif command -v podman-compose >/dev/null 2>&1; then ENGINE=podman COMPOSE="podman-compose"
  fi
fi
[ -n "$COMPOSE" ] || die "Docker with Compose is needed: install Docker Engine and its compose plugin (or Docker Desktop), then run ./start.sh again."
$ENGINE info >/dev/null 2>&1 || die "cannot talk to $ENGINE: start it, and run ./start.sh as a user in the 'docker' group (or with sudo)."

FILES="-f compose.yml"
if [ ! -e /dev/snd ]; then
  FILES="$FILES -f compose.browser-mic.yml"
  say "No sound devices on this machine (/dev/snd): the page will use the browser's microphone."
fi
if [ -f central-ca.pem ]; then FILES="$FILES -f compose.ca.yml"; fi

# A bundle that carries the image: load it once.
for archive in edge-image.tar edge-image.tar.gz; do
  if [ -f "$archive" ]; then
    # shellcheck disable=SC2016 # a literal ${EDGE_IMAGE:-...}
    image="$(sed -n 's/^[[:space:]]*image:[[:space:]]*\${EDGE_IMAGE:-\(.*\)}[[:space:]]*$/\1/p' compose.yml | head -n 1)"
    if ! $ENGINE image inspect "${image:-none}" >/dev/null 2>&1; then
      say "Loading the edge image from $archive ..."
      $ENGINE load -i "$archive" >/dev/null || die "could not load $archive."
    fi
  fi
done

if [ "${1:-}" = --check ]; then
  # shellcheck disable=SC2086 # FILES is a list of options
  exec $COMPOSE $FILES run --rm --no-deps edge --check
fi

if ! edge_answers && port_busy; then
  die "port $PORT is in use by another program: put EDGE_PORT=3001 (or another free port) in .env and run ./start.sh again."
fi
# shellcheck disable=SC2086
$COMPOSE $FILES up -d || die "could not start the edge (see the message above and README.md, \"Troubleshooting\")."
if wait_until_up; then
  started
else
  say "The edge has not answered yet on $URL. Its log: $COMPOSE logs edge"
  exit 1
fi
