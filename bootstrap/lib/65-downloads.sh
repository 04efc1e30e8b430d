# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 65-downloads.sh: downloads and systemd helpers.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- downloads ------------------------------------------------------------------------------------
# expand TEMPLATE VERSION: fills {version}, {arch} and {k3s_file} in a pinned URL template.
expand() {
  local out=$1
  out=${out//\{version\}/$2}
  out=${out//\{arch\}/$ARCH}
  out=${out//\{k3s_file\}/$(k3s_binary_name)}
  printf '%s' "$out"
}
sha256_of() { sha256sum "$1" | awk '{print $1}'; }

# fetch_verified URL SHA256 SUMS_URL NAME: downloads to WORK_DIR/NAME and verifies it (a pinned SHA256
# wins; otherwise the line for NAME in the release's checksum file). Prints the local path.
fetch_verified() {
  local url=$1 expected=$2 sums_url=$3 name=$4 out
  out="$WORK_DIR/$name"
  curl -fsSL --retry 3 --retry-delay 2 -o "$out" "$url" >>"$LOG_FILE" 2>&1 || die "download failed: $url"
  log_line "DOWNLOAD: $url"
  if [[ -z $expected ]]; then
    [[ -n $sums_url ]] || die "no checksum pinned for $url"
    curl -fsSL --retry 3 -o "$out.sums" "$sums_url" >>"$LOG_FILE" 2>&1 || die "download failed: $sums_url"
    expected=$(awk -v f="$(basename "$url")" '{sub(/^\*/, "", $2)} $2 == f || $2 == "./"f {print $1}' "$out.sums" | head -n1)
    [[ -n $expected ]] || die "$sums_url has no checksum for $(basename "$url")"
  fi
  local actual
  actual=$(sha256_of "$out")
  [[ $actual == "$expected" ]] || die "checksum mismatch for $url: expected $expected, got $actual"
  detail "verified $name sha256 $actual"
  printf '%s' "$out"
}

# artifact NAME: local path of a verified artifact (airgap copy or download), honouring the
# OLARES_<NAME>_URL / OLARES_<NAME>_SHA256 overrides (a mirror must come with its checksum).
artifact() {
  local name=$1 url sha sums file
  case "$name" in
    containerd)
      file="containerd-$CONTAINERD_VERSION-linux-$ARCH.tar.gz"
      url=$(expand "$CONTAINERD_URL_TEMPLATE" "$CONTAINERD_VERSION")
      sha=${CONTAINERD_SHA256[$ARCH]:-}; sums="" ;;
    runc)
      file="runc.$ARCH"
      url=$(expand "$RUNC_URL_TEMPLATE" "$RUNC_VERSION"); sha=""; sums=$(expand "$RUNC_SUMS_URL_TEMPLATE" "$RUNC_VERSION") ;;
    k3s)
      file=$(k3s_binary_name)
      url=$(expand "$K3S_URL_TEMPLATE" "$K3S_VERSION"); sha=""; sums=$(expand "$K3S_SUMS_URL_TEMPLATE" "$K3S_VERSION") ;;
    calico)
      file=calico.yaml
      url=$(expand "$CALICO_URL_TEMPLATE" "$CALICO_VERSION"); sha=""; sums="" ;;
    k3s-installer)
      file=install.sh
      url=$(expand "$K3S_INSTALLER_URL_TEMPLATE" "$K3S_VERSION"); sha=""; sums="" ;;
    helm)
      file="helm-$HELM_VERSION-linux-$ARCH.tar.gz"
      url=$(expand "$HELM_URL_TEMPLATE" "$HELM_VERSION"); sha=""; sums=$(expand "$HELM_SUMS_URL_TEMPLATE" "$HELM_VERSION") ;;
  esac
  local upper=${name^^}
  upper=${upper//-/_}
  local url_var="OLARES_${upper}_URL" sha_var="OLARES_${upper}_SHA256"
  if [[ -n ${!url_var:-} ]]; then
    url=${!url_var}; sums=""
    sha=${!sha_var:-}
    [[ -n $sha ]] || die "$url_var is set: $sha_var must be set too (downloads are always verified)"
  elif [[ -n ${!sha_var:-} ]]; then
    sha=${!sha_var}
  fi
  if [[ -n $opt_airgap ]]; then
    [[ -f $opt_airgap/$file ]] || die "--airgap: $opt_airgap/$file missing"
    if [[ -n $sha ]]; then
      [[ $(sha256_of "$opt_airgap/$file") == "$sha" ]] || die "checksum mismatch for $opt_airgap/$file (expected $sha)"
    fi
    printf '%s' "$opt_airgap/$file"
    return 0
  fi
  if [[ -z $sha && -z $sums ]]; then
    warn "$file from $url has no published checksum; set OLARES_${upper}_SHA256 to pin it"
    fetch_unverified "$url" "$file"
    return 0
  fi
  fetch_verified "$url" "$sha" "$sums" "$file"
}
fetch_unverified() {
  local out="$WORK_DIR/$2"
  curl -fsSL --retry 3 -o "$out" "$1" >>"$LOG_FILE" 2>&1 || die "download failed: $1"
  log_line "DOWNLOAD: $1"
  printf '%s' "$out"
}

# ----- systemd helpers ------------------------------------------------------------------------------
unit_active() { systemd_booted && systemctl is-active --quiet "$1" 2>/dev/null; }
unit_enabled() { systemctl is-enabled --quiet "$1" 2>/dev/null; }
# Enables UNIT and (re)starts it when RESTART=1 or it is not running. Without a running systemd (a
# chroot or an image build) the unit is only enabled.
enable_unit() {
  local unit=$1 restart=${2:-0}
  unit_enabled "$unit" || run systemctl enable "$unit"
  if ! systemd_booted; then detail "systemd is not running: $unit enabled, not started"; return 0; fi
  if [[ $restart == 1 ]]; then run systemctl daemon-reload; fi
  if [[ $restart == 1 ]]; then run systemctl restart "$unit"
  elif ! unit_active "$unit"; then run systemctl start "$unit"; fi
}

