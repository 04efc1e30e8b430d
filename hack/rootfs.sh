#!/usr/bin/env bash
# Builds, once, a minimal Debian bookworm rootfs for the test/rootfs tier and caches it as a zstd
# tarball; later runs only print the cached path. Needs root, debootstrap, zstd and (first run only)
# the Debian archive this machine's apt sources use.
#
#   hack/rootfs.sh [package ...]   # packages whose .debs are pre-downloaded into the rootfs apt cache,
#                                  # so the tests install them with apt but without network
# Prints the tarball path on stdout. Env: OLARES_ROOTFS_CACHE (default /var/cache/olares-test).
set -euo pipefail

SUITE=bookworm
CACHE_DIR=${OLARES_ROOTFS_CACHE:-/var/cache/olares-test}
# systemd gives the rootfs systemctl (offline enable); everything else is installed by the tests.
INCLUDE=systemd

die() { echo "rootfs.sh: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap and chroot)"
command -v zstd >/dev/null || die "zstd missing: apt-get install -y zstd"
if ! command -v debootstrap >/dev/null; then
  echo "rootfs.sh: installing debootstrap" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y debootstrap >&2 || die "debootstrap missing and could not be installed"
fi

# The Debian archive this machine already uses (deb822 or one-line sources), else Debian's default.
debian_mirror() {
  local uri
  uri=$(grep -hE '^URIs:.*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | head -n1 || true)
  if [[ -z $uri ]]; then
    uri=$(grep -hE '^deb +(\[[^]]*\] +)?https?://[^ ]+/debian/? ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
      | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}' | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}

packages=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
key=$(printf '%s|%s|%s' "$SUITE" "$INCLUDE" "$packages" | sha256sum | cut -c1-10)
tarball="$CACHE_DIR/rootfs-$SUITE-$key.tar.zst"
mkdir -p "$CACHE_DIR"

exec 9>"$CACHE_DIR/.lock"
flock 9
if [[ -s $tarball ]]; then echo "$tarball"; exit 0; fi

mirror=$(debian_mirror)
work=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
root="$work/root"
cleanup() {
  mountpoint -q "$root/proc" && umount -l "$root/proc"
  mountpoint -q "$root/dev" && umount -l "$root/dev"
  rm -rf "$work"
}
trap cleanup EXIT

echo "rootfs.sh: debootstrap $SUITE from $mirror (first run only, a few minutes)" >&2
start=$(date +%s)
debootstrap --variant=minbase --include="$INCLUDE" "$SUITE" "$root" "$mirror" >&2 \
  || die "debootstrap $SUITE from $mirror failed (see above)"

# No service may start inside the chroot while apt runs (the standard chroot policy).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"
# Keep downloaded .debs: the tests install from this cache, offline.
rm -f "$root/etc/apt/apt.conf.d/docker-clean"
echo 'APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/10keep-debs"

if [[ -n $packages ]]; then
  mount -t proc proc "$root/proc"
  mount --bind /dev "$root/dev"
  chroot "$root" apt-get update -q >&2
  # shellcheck disable=SC2086
  chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only --no-install-recommends $packages >&2 \
    || die "pre-downloading packages failed: $packages"
  umount "$root/dev"; umount "$root/proc"
fi

tar -C "$root" --numeric-owner -I 'zstd -T0 -3' -cf "$work/rootfs.tar.zst" .
mv "$work/rootfs.tar.zst" "$tarball"
echo "rootfs.sh: cached $tarball ($(du -h "$tarball" | cut -f1), $(( $(date +%s) - start ))s)" >&2
echo "$tarball"
