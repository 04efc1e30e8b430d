#!/usr/bin/env bash
# Prepares a machine for `npm test` (run by npm as the `pretest` script, so `npm ci && npm test` on a fresh
# machine is the one command). Idempotent and cached: what is installed or built is not done again.
#   1. Debian packages the test tiers use (installed when root, else via sudo -n; otherwise it names them)
#   2. helm 3/4 + kubectl (hack/fetch-tools.sh)
#   3. the real control plane and the storage tools, built from upstream Go modules, when those scripts exist
#
#   hack/setup.sh                  # everything
#   SETUP_SKIP_BUILDS=1 hack/setup.sh   # packages and helm only (the Go-built tools stay as they are)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf 'setup: %s\n' "$*" >&2; }

# Test tiers: bats/shellcheck (bootstrap), debootstrap+zstd (rootfs), lua (Argo CD health), unzip (helm
# layers), parallel (bats -j); storage: redis-server, fuse3, rsync (JuiceFS live migration).
packages=(shellcheck bats debootstrap lua5.1 lua5.4 zstd unzip parallel redis-server fuse3 rsync)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
else
  log "no dpkg-query: not a Debian-family host; the test tiers need: ${packages[*]}"
fi

if [ ${#missing[@]} -gt 0 ]; then
  apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      apt=(sudo -n env DEBIAN_FRONTEND=noninteractive apt-get)
    else
      log "missing Debian packages: ${missing[*]}"
      log "install them as root: apt-get install -y ${missing[*]}"
      exit 1
    fi
  fi
  log "installing ${missing[*]}"
  "${apt[@]}" update -qq
  "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Packages that start a daemon on install: the storage tests run their own redis on loopback.
  if [[ " ${missing[*]} " == *" redis-server "* ]] && command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  fi
fi

"$root/hack/fetch-tools.sh"

if [ "${SETUP_SKIP_BUILDS:-0}" != "1" ]; then
  for tool in controlplane storage-tools; do
    script="$root/hack/$tool.sh"
    if [ -x "$script" ]; then
      log "hack/$tool.sh build (cached by version)"
      "$script" build
    fi
  done
fi
log "ready"
