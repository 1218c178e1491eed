#!/usr/bin/env bash
# Starts a command in an exported image filesystem the way a container engine would, for
# scripts/container-check.sh (podman run does not work on these machines). Call it through
#   unshare --pid --fork --kill-child --mount --propagation private ns-run.sh ROOTFS USER WORKDIR ENVFILE -- COMMAND...
# so that COMMAND is PID 1 of a new PID namespace (as ENTRYPOINT is in a container) and every
# mount below disappears with it. It mounts /proc, a minimal /dev (null, zero, full, random,
# urandom, tty, shm) and a /tmp tmpfs, then chroots as USER (resolved in the image, with its
# supplementary groups) with exactly the environment in ENVFILE (one NAME=value a line), in
# WORKDIR. The network is the host's: servers are reached on 127.0.0.1.
set -euo pipefail
ROOTFS="$1" USER_SPEC="$2" WORKDIR="$3" ENVFILE="$4"
shift 4
[ "${1:-}" = -- ] && shift

mount -t proc -o nosuid,nodev,noexec proc "$ROOTFS/proc"
mount -t tmpfs -o nosuid,mode=0755,size=256k dev "$ROOTFS/dev"
for node in null zero full random urandom tty; do
  : >"$ROOTFS/dev/$node"
  mount --bind "/dev/$node" "$ROOTFS/dev/$node"
done
mkdir -p "$ROOTFS/dev/shm" "$ROOTFS/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$ROOTFS/dev/shm"
ln -s /proc/self/fd "$ROOTFS/dev/fd"
ln -s /proc/self/fd/0 "$ROOTFS/dev/stdin"
ln -s /proc/self/fd/1 "$ROOTFS/dev/stdout"
ln -s /proc/self/fd/2 "$ROOTFS/dev/stderr"
mount -t tmpfs -o nosuid,nodev,mode=1777 tmp "$ROOTFS/tmp"

mapfile -t environment <"$ENVFILE"
# shellcheck disable=SC2016 # $0 and $@ belong to the image's shell
exec /usr/bin/env -i "${environment[@]}" /usr/sbin/chroot --userspec="$USER_SPEC" "$ROOTFS" \
  /bin/sh -c 'cd "$0" && exec "$@"' "$WORKDIR" "$@"
