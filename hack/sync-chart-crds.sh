#!/usr/bin/env bash
# Copies the top-level CRDs (the source of truth) into the chart's crds/ folder, byte for byte.
# test/chart/crd.test.ts fails when they differ. `--check` only reports.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/crds"
dst="$root/charts/olares-operator/crds"
mode="${1:-copy}"

shopt -s nullglob
files=("$src"/*.yaml)
if ((${#files[@]} == 0)); then
  echo "sync-chart-crds: no CRDs in $src" >&2
  exit 1
fi

status=0
for f in "${files[@]}"; do
  target="$dst/$(basename "$f")"
  if cmp -s "$f" "$target"; then continue; fi
  if [[ "$mode" == "--check" ]]; then
    echo "sync-chart-crds: $target differs from $f (run hack/sync-chart-crds.sh)" >&2
    status=1
  else
    mkdir -p "$dst"
    cp "$f" "$target"
    echo "sync-chart-crds: updated $target" >&2
  fi
done
# A CRD removed from the top level must leave the chart too.
for t in "$dst"/*.yaml; do
  [[ -e "$src/$(basename "$t")" ]] && continue
  if [[ "$mode" == "--check" ]]; then
    echo "sync-chart-crds: $t has no source in $src" >&2
    status=1
  else
    rm "$t"
    echo "sync-chart-crds: removed $t" >&2
  fi
done
exit "$status"
