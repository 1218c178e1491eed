#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need. Idempotent and quiet when
# everything is already present, so `make run` and `make test` can call it every time.
# With arguments, installs those packages instead (other scripts reuse it that way).
# postgresql and nginx: the tests run servers of their own (scripts/postgres-test-server.sh,
# scripts/nginx-proxy-conf.sh) as the calling user, with every path in a temporary directory.
set -euo pipefail

default_packages=(
  pkg-config
  libasound2-dev libasound2-plugins alsa-utils
  libopus-dev libogg-dev opus-tools
  espeak-ng sox
  libsqlite3-dev sqlite3
  postgresql
  nginx
  nftables iproute2
  libssl-dev
  curl ca-certificates
  python3 python3-venv openssl
)
if [ $# -gt 0 ]; then packages=("$@"); else packages=("${default_packages[@]}"); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing Debian packages: ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
