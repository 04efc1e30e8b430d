#!/usr/bin/env bash
# Runs the bootstrap test tiers: shellcheck on every shell script of the repo (*.sh under bootstrap/,
# hack/, test/, .ci/, plus the bootstrap test stubs and helpers), then the bats suites in
# test/bootstrap (the chroot suite skips itself, with its reason, when not run as root).
# Ends with exactly one summary line: "N passed, N failed" (", N skipped" when any); exits 1 on failure.
#
#   test/bootstrap/run.sh              # everything
#   test/bootstrap/run.sh cr-mapping   # only test/bootstrap/cr-mapping.bats (after shellcheck)
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cd "$repo" || exit 1

if ! command -v bats >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
    echo "run.sh: installing bats and shellcheck" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q bats shellcheck >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q bats shellcheck >/dev/null 2>&1; }
  fi
  if ! command -v bats >/dev/null 2>&1 || ! command -v shellcheck >/dev/null 2>&1; then
    echo "run.sh: bats and shellcheck are required (apt-get install -y bats shellcheck)"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

passed=0
failed=0
skipped=0

# --- shellcheck: one check per script ---
mapfile -t scripts < <(
  { find bootstrap hack test .ci -type f -name '*.sh' 2>/dev/null
    printf '%s\n' test/bootstrap/stubs/fake-cmd test/bootstrap/helpers.bash
  } | grep -v '/node_modules/' | sort -u)
for script in "${scripts[@]}"; do
  [[ -f $script ]] || continue
  if out=$(shellcheck -x --shell=bash "$script" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "not ok shellcheck $script"
    printf '%s\n' "$out" | sed 's/^/# /'
  fi
done
echo "shellcheck: ${#scripts[@]} scripts checked"

# --- bats suites ---
suites=()
if [[ $# -gt 0 ]]; then
  for name in "$@"; do suites+=("$here/${name%.bats}.bats"); done
else
  suites=("$here"/*.bats)
fi
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
jobs=()
# Suites run in parallel when GNU parallel (a bats recommendation) is there; chroot.bats stays serial inside.
if command -v parallel >/dev/null 2>&1; then jobs=(--jobs "$(( $(nproc) * 2 > 4 ? 4 : $(nproc) * 2 ))"); fi
bats --tap "${jobs[@]}" "${suites[@]}" 2>&1 | tee "$tap"
ok=$(grep -cE '^ok [0-9]+' "$tap")
skip=$(grep -cE '^ok [0-9]+ .*# skip' "$tap")
notok=$(grep -cE '^not ok [0-9]+' "$tap")
# A suite that aborted before reporting its plan counts as a failure.
planned=$(grep -E '^1\.\.[0-9]+' "$tap" | awk -F. '{s += $3} END {print s + 0}')
reported=$((ok + notok))
if (( reported < planned )); then notok=$((notok + planned - reported)); fi
if (( $(grep -cE '^1\.\.' "$tap") == 0 )); then notok=$((notok + 1)); fi
passed=$((passed + ok - skip))
failed=$((failed + notok))
skipped=$((skipped + skip))

if (( skipped > 0 )); then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
(( failed == 0 ))
