#!/usr/bin/env bash
# Prepares a machine for `npm test` (run by npm as the `pretest` script, so `npm ci && npm test` on a fresh
# machine is the one command). Idempotent and cached: what is installed or built is not done again.
#   1. Debian packages the test tiers use (installed when root, else via sudo -n; otherwise it names them)
#   2. helm 3/4 + kubectl (hack/fetch-tools.sh)
#   3. velero (the fixture release ships it), the storage tools, the real control plane and containerd,
#      built from upstream Go modules (in the background)
#
#   hack/setup.sh                         # everything; the Go builds continue in the background
#   SETUP_BUILDS=foreground hack/setup.sh # wait for the Go builds here
#   SETUP_SKIP_BUILDS=1 hack/setup.sh     # packages and helm only (the Go-built tools stay as they are)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { printf 'setup: %s\n' "$*" >&2; }

# Test tiers: bats/shellcheck (bootstrap), debootstrap+zstd (rootfs), lua (Argo CD health), unzip (helm
# layers), parallel (bats -j); storage: redis-server/-tools, fuse3, rsync, attr, acl (JuiceFS live migration).
packages=(shellcheck bats debootstrap lua5.1 lua5.4 zstd unzip parallel redis-server redis-tools fuse3 rsync attr acl)

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

# The Go-built tools take most of a cold run (Kubernetes alone is minutes on 2 cores). By default they
# build in the background while the tiers that need none run: `npm test` orders those tiers first
# (.mocharc.cjs), and the first test of each tool tier waits on the same build lock (hack/lib/build-lock.sh).
builds=(velero-tools storage-tools controlplane containerd-tools)
mode=${SETUP_BUILDS:-background}
[ "${SETUP_SKIP_BUILDS:-0}" = "1" ] && mode=skip
scripts=()
for tool in "${builds[@]}"; do
  [ -x "$root/hack/$tool.sh" ] && scripts+=("$root/hack/$tool.sh")
done
case $mode in
  skip) log "SETUP_SKIP_BUILDS=1: the Go-built tools stay as they are" ;;
  foreground)
    for script in "${scripts[@]}"; do
      log "${script#"$root"/} build (cached by version)"
      "$script" build
    done ;;
  background)
    build_log="${OLARES_TOOLS_CACHE:-$HOME/.cache/olares-operator}/setup-builds.log"
    mkdir -p "$(dirname "$build_log")"
    # A failed build here is retried, in the foreground and loudly, by the tier that needs it.
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    setsid nohup bash -c 'for s in "$@"; do "$s" build || echo "setup: $s build failed"; done; echo "setup: background builds done"' \
      setup-builds "${scripts[@]}" >"$build_log" 2>&1 </dev/null &
    log "building ${builds[*]} in the background (pid $!, log $build_log); the tiers that need them run last and wait for them" ;;
  *) log "SETUP_BUILDS must be background, foreground or skip (got '$mode')"; exit 2 ;;
esac
log "ready"
