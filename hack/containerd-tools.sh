#!/usr/bin/env bash
# Builds the real containerd and ctr the image-import tier runs against, from the upstream Go module
# github.com/containerd/containerd/v2 at the version bootstrap/install.sh installs (once per machine,
# cached by version, never committed). Idempotent: a cached build is not redone.
#
#   hack/containerd-tools.sh build        # build containerd + ctr (a few minutes cold on 2 cores)
#   hack/containerd-tools.sh path ctr     # print a built tool's path (containerd|ctr)
#   hack/containerd-tools.sh cached       # exit 0 when both are built (setup.sh builds only then... or on demand)
#
# Cache: ${OLARES_TOOLS_CACHE:-~/.cache/olares-operator}/containerd-<version>/{containerd,ctr}
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version="$(sed -n 's/^CONTAINERD_VERSION=//p' "$root/bootstrap/lib/00-artifacts.sh")"
[[ -n "$version" ]] || { echo "containerd-tools: no CONTAINERD_VERSION in bootstrap/lib/00-artifacts.sh" >&2; exit 1; }
cache="${OLARES_TOOLS_CACHE:-$HOME/.cache/olares-operator}/containerd-$version"

log() { printf 'containerd-tools: %s\n' "$*" >&2; }
# shellcheck disable=SC1091 # hack/lib/build-lock.sh, checked on its own
source "$root/hack/lib/build-lock.sh"
die() { log "error: $*"; exit 1; }

cached() { [[ -x "$cache/containerd" && -x "$cache/ctr" ]] && "$cache/ctr" --version >/dev/null 2>&1; }

build() {
  build_lock "$cache.build.lock" containerd-tools
  if cached; then log "containerd $version cached at $cache"; return; fi
  command -v go >/dev/null || die "go is needed to build containerd $version (from github.com/containerd/containerd/v2)"
  local start=$SECONDS gobin; gobin="$(mktemp -d)"
  log "building containerd + ctr $version from github.com/containerd/containerd/v2 (one time)…"
  # No cgo: the btrfs snapshotter (cgo-only) drops out; the tier uses the native snapshotter. The tags
  # leave out what the tier's config disables anyway (CRI, devmapper, ZFS, tracing): half the build.
  GOBIN="$gobin" CGO_ENABLED=0 nice -n 10 go install -trimpath -tags no_cri,no_devmapper,no_zfs,no_btrfs,no_tracing \
    -ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=v$version" \
    "github.com/containerd/containerd/v2/cmd/containerd@v$version" \
    "github.com/containerd/containerd/v2/cmd/ctr@v$version"
  mkdir -p "$cache"
  mv "$gobin/containerd" "$gobin/ctr" "$cache/"; rm -rf "$gobin"
  cached || die "the built ctr does not run"
  log "containerd $version built in $((SECONDS - start))s"
}

case "${1:-build}" in
  build) build ;;
  cached) cached ;;
  path)
    case "${2:-}" in containerd|ctr) echo "$cache/$2" ;; *) die "path: containerd|ctr" ;; esac ;;
  version) echo "$version" ;;
  *) die "usage: $0 build|cached|path <tool>|version" ;;
esac
