#!/usr/bin/env bash
# Makes a local stand-in for debian:bookworm-slim, for machines that cannot pull images:
# `debootstrap --variant=minbase bookworm`, trimmed and configured like the official slim image
# (deb822 sources with updates and security, dpkg excludes for docs/man/locales, no apt lists),
# tarred once into a cache and `podman import`ed. Prints the image name on stdout.
#
#   scripts/container-base-image.sh            # reuse the cached tarball and image
#   REFRESH=1 scripts/container-base-image.sh  # debootstrap again
#
# Environment: CACHE_DIR (default ~/.cache/speech-edge/container-check), BASE_IMAGE (default
# localhost/speech-edge-check/debian:bookworm-slim), DEBIAN_MIRROR / DEBIAN_SECURITY_MIRROR
# (default: the ones this machine's apt uses, else deb.debian.org).
set -euo pipefail

CACHE_DIR="${CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/speech-edge/container-check}"
BASE_IMAGE="${BASE_IMAGE:-localhost/speech-edge-check/debian:bookworm-slim}"
# Bump when the recipe below changes, so caches made by an older recipe are not reused.
RECIPE=2
TARBALL="$CACHE_DIR/debian-bookworm-minbase-r$RECIPE.tar"

log() { echo "container-base-image: $*" >&2; }

# The mirrors this machine's apt uses (one-line or deb822 sources), else Debian's CDN.
detect_mirror() { # $1: "main" or "security"
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  local uris
  uris="$(cat "${files[@]}" 2>/dev/null | awk '
    /^[[:space:]]*#/ { next }
    $1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(https?|ftp):/) { print $i, $(i + 1); break } }
    $1 == "URIs:" { uri = $2 }
    $1 == "Suites:" && uri != "" { for (i = 2; i <= NF; i++) print uri, $i; uri = "" }')"
  if [ "$1" = security ]; then
    awk '$2 ~ /^bookworm-security/ { print $1; exit }' <<<"$uris"
  else
    awk '$2 == "bookworm" && $1 ~ /debian\/?$/ { print $1; exit }' <<<"$uris"
  fi
}

MIRROR="${DEBIAN_MIRROR:-$(detect_mirror main)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
SECURITY_MIRROR="${DEBIAN_SECURITY_MIRROR:-$(detect_mirror security)}"
SECURITY_MIRROR="${SECURITY_MIRROR:-http://deb.debian.org/debian-security}"

if [ "${REFRESH:-0}" = 1 ]; then
  rm -f "$TARBALL"
  podman rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

if [ ! -s "$TARBALL" ]; then
  mkdir -p "$CACHE_DIR"
  ROOT="$(mktemp -d "$CACHE_DIR/rootfs.XXXXXX")"
  trap 'rm -rf "$ROOT"' EXIT
  log "debootstrap --variant=minbase bookworm from $MIRROR (once; cached in $TARBALL)"
  debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" >"$CACHE_DIR/debootstrap.log" 2>&1 || {
    tail -20 "$CACHE_DIR/debootstrap.log" >&2
    exit 1
  }
  # Like the official slim image: apt sources in deb822 form, updates and security included.
  rm -f "$ROOT/etc/apt/sources.list"
  cat >"$ROOT/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # Like the slim image: later package installs leave out documentation, man pages and locales.
  cat >"$ROOT/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
EOF
  printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' >"$ROOT/etc/apt/apt.conf.d/docker-no-recommends"
  find "$ROOT/usr/share/doc" -mindepth 2 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "${ROOT:?}"/usr/share/man/* "${ROOT:?}"/usr/share/info/* "${ROOT:?}"/var/cache/apt/*.bin \
    "${ROOT:?}"/var/cache/apt/archives/*.deb "${ROOT:?}"/var/lib/apt/lists/* "${ROOT:?}"/var/log/*.log \
    "${ROOT:?}"/tmp/* "${ROOT:?}"/dev/*
  find "$ROOT/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  : >"$ROOT/etc/resolv.conf"
  echo "localhost" >"$ROOT/etc/hostname"
  tar --numeric-owner -C "$ROOT" -cf "$TARBALL.tmp" .
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$ROOT"
  trap - EXIT
  podman rmi -f "$BASE_IMAGE" >/dev/null 2>&1 || true
fi

if ! podman image exists "$BASE_IMAGE"; then
  log "podman import $TARBALL as $BASE_IMAGE"
  podman import --quiet --change 'CMD ["bash"]' "$TARBALL" "$BASE_IMAGE" >/dev/null
fi
echo "$BASE_IMAGE"
