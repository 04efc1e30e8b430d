#!/usr/bin/env bash
# Builds and installs the real storage tools the storage tier runs against: JuiceFS and MinIO from
# their upstream Go modules (once per machine, cached by version, never committed), and redis-server,
# fuse3, rsync and attr from Debian. Idempotent: a cached build or an installed package is not redone.
#
#   hack/storage-tools.sh build          # build/install everything (what `npm test`'s pretest runs)
#   hack/storage-tools.sh path juicefs   # print the path of a built tool (juicefs|minio|redis-server|rsync)
#   hack/storage-tools.sh versions       # print the pinned versions
#
# Cache: ${OLARES_TOOLS_CACHE:-~/.cache/olares-operator}/storage-tools/<tool>-<version>/<tool>
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${OLARES_TOOLS_CACHE:-$HOME/.cache/olares-operator}/storage-tools"

# JuiceFS: the newest 1.3 release on the Go proxy; its replace directives live in hack/storage-tools/juicefs/go.mod.
juicefs_version="1.3.1"
juicefs_revision="e0032b2a"
juicefs_date="2025-12-02"
# Backends we never use are compiled out (upstream's own `juicefs.lite` tag set, keeping S3, MinIO, OSS, COS and Redis).
juicefs_tags="nogateway,nowebdav,nobos,nohdfs,noibmcos,noobs,noqingstor,nosftp,noswift,noazure,nogs,noufile,nob2,nonfs,nodragonfly,nosqlite,nomysql,nopg,notikv,nobadger,noetcd"
# MinIO: a RELEASE tag, which the Go proxy serves as this pseudo-version (no replace directives upstream).
minio_release="RELEASE.2025-09-07T16-13-09Z"
minio_module_version="v0.0.0-20250907161309-07c3a429bfed"
debian_packages=(redis-server redis-tools fuse3 rsync attr acl)

log() { printf 'storage-tools: %s\n' "$*" >&2; }
# shellcheck disable=SC1091 # hack/lib/build-lock.sh, checked on its own
source "$root/hack/lib/build-lock.sh"
die() { log "error: $*"; exit 1; }

juicefs_bin() { echo "$cache/juicefs-$juicefs_version/juicefs"; }
minio_bin() { echo "$cache/minio-$minio_release/minio"; }

# Runs a Go build at low priority: the machine has 2 cores shared with other builds.
go_build() { nice -n 10 go build -trimpath "$@"; }

build_juicefs() {
  local out; out="$(juicefs_bin)"
  if [[ -x "$out" ]] && "$out" version >/dev/null 2>&1; then log "juicefs $juicefs_version cached at $out"; return; fi
  command -v go >/dev/null || die "go is needed to build JuiceFS $juicefs_version (it is built from github.com/juicedata/juicefs)"
  local work start; work="$(mktemp -d)"; start=$SECONDS
  cp "$root/hack/storage-tools/juicefs/go.mod" "$root/hack/storage-tools/juicefs/main.go" "$work/"
  log "building juicefs $juicefs_version from github.com/juicedata/juicefs (one time, several minutes on 2 cores)…"
  (
    cd "$work"
    # Upstream's go.sum vouches for its replacement modules (forks the checksum database does not
    # know, such as juicedata/go-fuse); the module zip itself is verified against sum.golang.org.
    local upstream; upstream="$(go mod download -json "github.com/juicedata/juicefs@v$juicefs_version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -f "$upstream/go.sum" ]] || die "github.com/juicedata/juicefs@v$juicefs_version has no go.sum"
    cat "$upstream/go.sum" >>go.sum
    mkdir -p "$(dirname "$out")"
    GOFLAGS=-mod=mod go_build -tags "$juicefs_tags" \
      -ldflags "-s -w -X github.com/juicedata/juicefs/pkg/version.revision=$juicefs_revision -X github.com/juicedata/juicefs/pkg/version.revisionDate=$juicefs_date" \
      -o "$out.tmp" .
  )
  rm -rf "$work"
  mv "$out.tmp" "$out"
  "$out" version >/dev/null || die "the built juicefs does not run"
  log "juicefs $juicefs_version built in $((SECONDS - start))s: $("$out" version)"
}

build_minio() {
  local out; out="$(minio_bin)"
  if [[ -x "$out" ]] && "$out" --version >/dev/null 2>&1; then log "minio $minio_release cached at $out"; return; fi
  command -v go >/dev/null || die "go is needed to build MinIO $minio_release (it is built from github.com/minio/minio)"
  local start=$SECONDS gobin; gobin="$(mktemp -d)"
  log "building minio $minio_release from github.com/minio/minio (one time, several minutes on 2 cores)…"
  mkdir -p "$(dirname "$out")"
  # go install of the module at its release: the module's own go.mod and go.sum decide every dependency.
  GOBIN="$gobin" nice -n 10 go install -trimpath \
    -ldflags "-s -w -X github.com/minio/minio/cmd.Version=${minio_release#RELEASE.} -X github.com/minio/minio/cmd.ReleaseTag=$minio_release -X github.com/minio/minio/cmd.CommitID=${minio_module_version##*-}" \
    "github.com/minio/minio@$minio_module_version"
  mv "$gobin/minio" "$out"; rm -rf "$gobin"
  "$out" --version >/dev/null || die "the built minio does not run"
  log "minio $minio_release built in $((SECONDS - start))s"
}

install_debian() {
  local missing=() p
  for p in "${debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then log "debian packages present: ${debian_packages[*]}"; return; fi
  command -v apt-get >/dev/null || die "apt-get is needed to install ${missing[*]}"
  log "installing from Debian: ${missing[*]}"
  local sudo=(); [[ $EUID -ne 0 ]] && sudo=(sudo)
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  # Debian's redis-server package tries to start the service; without systemd that fails harmlessly.
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The package may have started a redis-server on 6379 (sysvinit script); the tests run their own.
  pgrep -x redis-server >/dev/null 2>&1 && { "${sudo[@]}" service redis-server stop >/dev/null 2>&1 || true; }
  return 0
}

tool_path() {
  case "$1" in
    juicefs) p="$(juicefs_bin)" ;;
    minio) p="$(minio_bin)" ;;
    redis-server|redis-cli|rsync|getfattr|setfattr|fusermount3) p="$(command -v "$1" || true)" ;;
    *) die "unknown tool '$1' (juicefs, minio, redis-server, redis-cli, rsync, getfattr, setfattr, fusermount3)" ;;
  esac
  [[ -n "$p" && -x "$p" ]] || die "$1 is not installed: run hack/storage-tools.sh build"
  echo "$p"
}

case "${1:-build}" in
  build)
    what="${2:-all}"
    case "$what" in
      all) build_lock "$cache/.build.lock" storage-tools; install_debian; build_juicefs; build_minio ;;
      juicefs) build_lock "$cache/.build.lock" storage-tools; build_juicefs ;;
      minio) build_lock "$cache/.build.lock" storage-tools; build_minio ;;
      debian) install_debian ;;
      *) die "build what? all|juicefs|minio|debian" ;;
    esac ;;
  path) tool_path "${2:?tool name}" ;;
  versions) printf 'juicefs %s\nminio %s\n' "$juicefs_version" "$minio_release" ;;
  *) die "usage: $0 build [all|juicefs|minio|debian] | path <tool> | versions" ;;
esac
