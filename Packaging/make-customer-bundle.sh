#!/usr/bin/env bash
# `make customer-bundle`: the customer's whole installation as one versioned tarball,
#   $DIST/speech-edge-customer-$VERSION.tar.gz  →  speech-edge-$VERSION/
#     compose.yml               docker/compose.customer.yml with the image and central filled in
#     compose.browser-mic.yml   for hosts without /dev/snd (Docker Desktop)
#     compose.ca.yml            only with CENTRAL_CA_FILE: trust central's own CA (+ central-ca.pem)
#     .env.example              LICENSE_KEY (empty) and CENTRAL_URL (preset)
#     start.sh stop.sh start.bat stop.bat README.md README.zh-CN.md
#     edge-image.tar            only with EDGE_IMAGE_TAR: the image, for customers without registry access
#
# Environment (the Makefile passes its variables of the same names):
#   VERSION          default: the VERSION file
#   CENTRAL_URL      the vendor's central as the customer's edge reaches it (https://…)
#   EDGE_IMAGE       the image the customer pulls, default speech-edge/edge-agent:$VERSION
#   CENTRAL_CA_FILE  optional PEM of the CA that signs central's certificate
#   EDGE_IMAGE_TAR   optional `docker save` archive of EDGE_IMAGE to ship inside the bundle
#   DIST             output directory, default .build-dist
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION="${VERSION:-$(cat VERSION 2>/dev/null || git describe --tags --always 2>/dev/null || echo dev)}"
CENTRAL_URL="${CENTRAL_URL:-https://central.example.com}"
EDGE_IMAGE="${EDGE_IMAGE:-speech-edge/edge-agent:$VERSION}"
DIST="${DIST:-.build-dist}"
NAME="speech-edge-$VERSION"
OUT="$DIST/speech-edge-customer-$VERSION.tar.gz"

case "$CENTRAL_URL" in
  http://* | https://*) ;;
  *) echo "make-customer-bundle: CENTRAL_URL must be an http:// or https:// URL, not '$CENTRAL_URL'" >&2; exit 2 ;;
esac
case "$CENTRAL_URL$EDGE_IMAGE" in
  *[\|\&\\]*) echo "make-customer-bundle: CENTRAL_URL and EDGE_IMAGE may not contain | & or \\" >&2; exit 2 ;;
esac
if [ "$CENTRAL_URL" = https://central.example.com ]; then
  echo "make-customer-bundle: warning: CENTRAL_URL is the placeholder https://central.example.com; pass CENTRAL_URL=https://your-central" >&2
fi

STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
B="$STAGE/$NAME"
mkdir -p "$B"

fill() { # template → file with the bundle's values
  sed -e "s|@VERSION@|$VERSION|g" -e "s|@CENTRAL_URL@|$CENTRAL_URL|g" -e "s|@EDGE_IMAGE@|$EDGE_IMAGE|g" "$1" >"$2"
}

# The compose file: pinned image, the vendor's central as the default.
sed -e "s|\${EDGE_IMAGE:-[^}]*}|\${EDGE_IMAGE:-$EDGE_IMAGE}|" \
    -e "s|\${CENTRAL_URL:-[^}]*}|\${CENTRAL_URL:-$CENTRAL_URL}|" \
    -e "s|compose.customer.yml (compose.yml in the bundle)|compose.yml|" \
    docker/compose.customer.yml >"$B/compose.yml"
sed -e "s|compose.customer.yml (compose.yml in the bundle)|compose.yml|" docker/compose.browser-mic.yml >"$B/compose.browser-mic.yml"
fill Packaging/customer/.env.example "$B/.env.example"
fill Packaging/customer/README.md "$B/README.md"
fill Packaging/customer/README.zh-CN.md "$B/README.zh-CN.md"
install -m 0755 Packaging/customer/start.sh "$B/start.sh"
install -m 0755 Packaging/customer/stop.sh "$B/stop.sh"
# Windows wants CRLF line ends in batch files.
for script in start.bat stop.bat; do
  sed -e 's/\r$//' -e 's/$/\r/' "Packaging/customer/$script" >"$B/$script"
done
if [ -n "${CENTRAL_CA_FILE:-}" ]; then
  grep -q "BEGIN CERTIFICATE" "$CENTRAL_CA_FILE" || { echo "make-customer-bundle: $CENTRAL_CA_FILE is not a PEM certificate" >&2; exit 2; }
  sed -e "s|compose.customer.yml (compose.yml in the bundle)|compose.yml|" docker/compose.ca.yml >"$B/compose.ca.yml"
  install -m 0644 "$CENTRAL_CA_FILE" "$B/central-ca.pem"
fi
if [ -n "${EDGE_IMAGE_TAR:-}" ]; then
  install -m 0644 "$EDGE_IMAGE_TAR" "$B/edge-image.tar"
fi
chmod 0644 "$B"/*.yml "$B"/*.md "$B"/*.bat "$B/.env.example"

mkdir -p "$DIST"
# Reproducible: sorted, root-owned, dated by the last commit.
MTIME="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$MTIME" -C "$STAGE" -czf "$OUT.tmp" "$NAME"
mv "$OUT.tmp" "$OUT"
echo "$OUT"
