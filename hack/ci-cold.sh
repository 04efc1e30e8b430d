#!/usr/bin/env bash
# Runs .ci/run as on a fresh machine, to measure CI cold: a fresh clone of this checkout's HEAD and an
# empty HOME (so npm's cache, the Go module and build caches and ~/.cache/olares-operator are all empty);
# Debian packages already installed stay installed. Prints the total and the background builds' times.
#
#   hack/ci-cold.sh [WORKDIR]     # default: a new temp dir; leaves WORKDIR/{home,repo,ci.log}
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work="${1:-$(mktemp -d /tmp/olares-ci-cold.XXXXXX)}"
mkdir -p "$work/home/.config/go"
# What a machine image carries: npm and git settings, Go's env file (GOFLAGS, GOTOOLCHAIN).
for f in .npmrc .gitconfig; do [[ -f "$HOME/$f" ]] && cp "$HOME/$f" "$work/home/"; done
[[ -f "$HOME/.config/go/env" ]] && cp "$HOME/.config/go/env" "$work/home/.config/go/env"
git clone -q "$root" "$work/repo"
cd "$work/repo" || exit 1
start=$SECONDS
echo "ci-cold: $(git log --oneline -1) in $work, started $(date -u +%T)"
HOME="$work/home" CI=true bash .ci/run >"$work/ci.log" 2>&1
rc=$?
echo "ci-cold: .ci/run exit $rc after $((SECONDS - start)) s (log $work/ci.log)"
grep -E "built .* in [0-9]+s|background builds done|build failed" "$work/home/.cache/olares-operator/setup-builds.log" 2>/dev/null || true
tail -3 "$work/ci.log"
exit "$rc"
