#!/usr/bin/env bash
# Builds the real velero CLI the fixture release ships as its `velero` component, from the upstream Go
# module github.com/vmware-tanzu/velero (once per machine, cached by version, never committed). Olares
# 1.12.1 runs velero v1.11.3 (image beclab/velero:v1.11.3); the Go module proxy serves v1.11.1 as the
# newest v1.11 release (v1.11.2 and v1.11.3 answer "not available"), so the fixture carries v1.11.1,
# whose `install` and `backup-location create` take the same flags. Idempotent.
#
#   hack/velero-tools.sh build     # build velero (a few minutes cold on 2 cores)
#   hack/velero-tools.sh path      # print the binary's path
#   hack/velero-tools.sh cached    # exit 0 when built
#   hack/velero-tools.sh version
#
# Cache: ${OLARES_TOOLS_CACHE:-~/.cache/olares-operator}/velero-<version>/velero
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="1.11.1"
cache="${OLARES_TOOLS_CACHE:-$HOME/.cache/olares-operator}/velero-$version"

log() { printf 'velero-tools: %s\n' "$*" >&2; }
# shellcheck disable=SC1091 # hack/lib/build-lock.sh, checked on its own
source "$here/lib/build-lock.sh"
die() { log "error: $*"; exit 1; }

cached() { [[ -x "$cache/velero" ]] && "$cache/velero" version --client-only >/dev/null 2>&1; }

build() {
  build_lock "$cache.build.lock" velero-tools
  if cached; then log "velero $version cached at $cache"; return; fi
  command -v go >/dev/null || die "go is needed to build velero $version (from github.com/vmware-tanzu/velero)"
  local start=$SECONDS gobin; gobin="$(mktemp -d)"
  log "building velero $version from github.com/vmware-tanzu/velero (one time)…"
  # The version ldflags as velero's Makefile sets them, so `velero version` reports it.
  GOBIN="$gobin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false nice -n 10 go install -trimpath \
    -ldflags "-s -w -X github.com/vmware-tanzu/velero/pkg/buildinfo.Version=v$version" \
    "github.com/vmware-tanzu/velero/cmd/velero@v$version"
  mkdir -p "$cache"
  mv "$gobin/velero" "$cache/"; rm -rf "$gobin"
  cached || die "the built velero does not run"
  log "velero $version built in $((SECONDS - start))s"
}

case "${1:-build}" in
  build) build ;;
  cached) cached ;;
  path) echo "$cache/velero" ;;
  version) echo "$version" ;;
  *) die "usage: $0 build|cached|path|version" ;;
esac
