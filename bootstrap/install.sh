#!/usr/bin/env bash
# olares bootstrap: bare Linux -> containerd -> K3s -> olares-operator -> OlaresInstallation.
# Idempotent: every step checks the host before acting, so a re-run is safe and fast.
# Run `install.sh --help` for usage; bootstrap/README.md has the details.
set -euo pipefail

# ---------------------------------------------------------------------------------------------------
# Pinned artifacts: the one place to bump versions. An artifact without a pinned SHA256 here is verified
# against the checksum file its project publishes next to the pinned release (K3s, runc, Helm).
# The K3s install script and the Calico manifest have no published checksum: pin them with
# OLARES_K3S_INSTALLER_SHA256 / OLARES_CALICO_SHA256 (or ship them with --airgap).
# OLARES_<NAME>_URL + OLARES_<NAME>_SHA256 (NAME: CONTAINERD RUNC K3S K3S_INSTALLER CALICO HELM) point at a mirror.
# ---------------------------------------------------------------------------------------------------
CONTAINERD_VERSION=2.2.3
CONTAINERD_URL_TEMPLATE='https://github.com/containerd/containerd/releases/download/v{version}/containerd-{version}-linux-{arch}.tar.gz'
declare -A CONTAINERD_SHA256=(
  [amd64]=ca26ef5138f17b847bbeeec36d4bf5e002b54d25858197a870c125d57f44d32f
  [arm64]=2942d72435b18610f7b69c1ddb74f99cef5c549425ff80d3e74f04e5e80db6a4
)
RUNC_VERSION=1.3.3
RUNC_URL_TEMPLATE='https://github.com/opencontainers/runc/releases/download/v{version}/runc.{arch}'
RUNC_SUMS_URL_TEMPLATE='https://github.com/opencontainers/runc/releases/download/v{version}/runc.sha256sum'
K3S_VERSION=v1.33.5+k3s1
K3S_URL_TEMPLATE='https://github.com/k3s-io/k3s/releases/download/{version}/{k3s_file}'
K3S_SUMS_URL_TEMPLATE='https://github.com/k3s-io/k3s/releases/download/{version}/sha256sum-{arch}.txt'
K3S_INSTALLER_URL_TEMPLATE='https://raw.githubusercontent.com/k3s-io/k3s/{version}/install.sh'
CALICO_VERSION=v3.30.3
CALICO_URL_TEMPLATE='https://raw.githubusercontent.com/projectcalico/calico/{version}/manifests/calico.yaml'
HELM_VERSION=v3.19.0
HELM_URL_TEMPLATE='https://get.helm.sh/helm-{version}-linux-{arch}.tar.gz'
HELM_SUMS_URL_TEMPLATE='https://get.helm.sh/helm-{version}-linux-{arch}.tar.gz.sha256sum'
OLARES_DEFAULT_VERSION=1.12.1

readonly OPERATOR_NAMESPACE=olares-operator
readonly OPERATOR_RELEASE=olares-operator
readonly CR_API_VERSION=olares.com/v1alpha1
readonly OWNER_PASSWORD_SECRET=olares-owner-password
readonly OBJECT_STORE_SECRET=olares-object-store-credentials
readonly OLARES_PORTS=(80 443 444 2444 6443 9100 30180)
# K3s's default pod network; Calico's IP pool is set to it.
readonly POD_CIDR=10.42.0.0/16
readonly CHECK_NAMES="os arch systemd root cpu memory disk ports container-runtime resolv-conf time-sync nouveau"
# "8 GiB" machines report ~7.6 GiB MemTotal (firmware and kernel reserve the rest): allow 512 MiB slack.
readonly MIN_MEMORY_KIB=$(( (8 * 1024 - 512) * 1024 ))
readonly MIN_CPUS=4
readonly APT_PACKAGES=(ca-certificates conntrack curl iproute2 ipset iptables kmod pciutils procps socat)
readonly DNF_PACKAGES=(ca-certificates conntrack-tools curl iproute ipset iptables kmod pciutils procps-ng socat)

# Everything the script touches lives under ROOT, so tests can point it at a scratch tree.
ROOT=${OLARES_ROOT_PREFIX:-}
ROOT=${ROOT%/}
# Empty under `curl … | bash`: then there is no chart next to the script and --chart-url is needed.
SCRIPT_DIR=""
if [[ -n ${BASH_SOURCE[0]:-} && -f ${BASH_SOURCE[0]} ]]; then SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd); fi
STATE_DIR="$ROOT/var/lib/olares-bootstrap"
LOG_FILE=${OLARES_BOOTSTRAP_LOG:-$ROOT/var/log/olares-bootstrap.log}
POLL_SECONDS=${OLARES_POLL_SECONDS:-5}
LOG_READY=0
WORK_DIR=""

hp() { printf '%s%s' "$ROOT" "$1"; }

# ----- output and logging ---------------------------------------------------------------------------
timestamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
log_line() { if (( LOG_READY )); then printf '%s %s\n' "$(timestamp)" "$*" >>"$LOG_FILE"; fi; }
say() { printf '%s\n' "$*"; log_line "$*"; }
# Details go to stderr: several functions return values on stdout.
detail() { log_line "  $*"; if (( VERBOSE )); then printf '      %s\n' "$*" >&2; fi; }
warn() { printf 'WARNING: %s\n' "$*" >&2; log_line "WARNING: $*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; log_line "ERROR: $*"; exit 1; }
quote_cmd() { local out; out=$(printf '%q ' "$@"); printf '%s' "${out% }"; }

STEP_NO=0
STEP_TOTAL=0
step() { STEP_NO=$((STEP_NO + 1)); say "[$STEP_NO/$STEP_TOTAL] $*"; }

init_log() {
  if (( DRY_RUN )); then return 0; fi
  mkdir -p "$(dirname "$LOG_FILE")"
  touch "$LOG_FILE"
  chmod 600 "$LOG_FILE"
  LOG_READY=1
  local shown=() arg hide=0
  for arg in "${ORIGINAL_ARGS[@]}"; do
    if (( hide )); then shown+=(REDACTED); hide=0; continue; fi
    [[ $arg == --token ]] && hide=1
    shown+=("$arg")
  done
  log_line "==== olares bootstrap $(quote_cmd "${shown[@]}") (root prefix '${ROOT:-/}')"
}

# Every command that changes the host goes through run: dry-run prints it, otherwise it is logged and
# its output appended to the log. Secrets never appear in arguments (they travel in env or stdin).
# Commands get /dev/null as stdin (under `curl | bash` stdin is the script itself); run_input feeds them
# a document instead (manifests for kubectl, which may hold secrets and so are never logged).
run() { run_input "" "$@"; }
run_input() {
  local input=$1
  shift
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  local rc=0
  if [[ -n $input ]]; then "$@" <<<"$input" >>"$LOG_FILE" 2>&1 || rc=$?
  else "$@" </dev/null >>"$LOG_FILE" 2>&1 || rc=$?; fi
  if (( rc != 0 )); then die "command failed (exit $rc): $(quote_cmd "$@") - see $LOG_FILE"; fi
}

# attempt: like run, but returns the command's status instead of stopping.
attempt() {
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  local rc=0
  "$@" </dev/null >>"$LOG_FILE" 2>&1 || rc=$?
  if (( rc != 0 )); then log_line "  (exit $rc)"; fi
  return "$rc"
}

# ----- state: what this script created, so uninstall.sh can remove exactly that ---------------------
record() {
  # record KIND PATH: appended once to $STATE_DIR/created.list ("file", "dir", "replaced", "package").
  local line="$1 $2"
  mkdir -p "$STATE_DIR/backup"
  chmod 700 "$STATE_DIR"
  touch "$STATE_DIR/created.list"
  grep -qxF -- "$line" "$STATE_DIR/created.list" || printf '%s\n' "$line" >>"$STATE_DIR/created.list"
}
mark_get() { cat "$STATE_DIR/$1" 2>/dev/null || true; }
mark_set() {
  if (( DRY_RUN )) || [[ $(mark_get "$1") == "$2" ]]; then return 0; fi
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  printf '%s\n' "$2" >"$STATE_DIR/$1"
}

ensure_dir() {
  local path=$1 target
  target=$(hp "$path")
  [[ -d $target ]] && return 0
  # Create (and record) missing parents first, outermost first.
  local parent
  parent=$(dirname "$path")
  [[ $parent != "$path" ]] && ensure_dir "$parent"
  if (( DRY_RUN )); then printf '      would create directory %s\n' "$path"; return 0; fi
  mkdir "$target"
  record dir "$path"
  log_line "MKDIR: $path"
}

# put_file PATH MODE < content: writes atomically only when content or mode differ; sets FILE_CHANGED.
FILE_CHANGED=0
put_file() {
  local path=$1 mode=$2 target content
  target=$(hp "$path")
  content=$(cat; printf x)
  content=${content%x}
  if [[ -f $target && $(stat -c %a "$target") == "$mode" ]] && [[ "$(cat "$target"; printf x)" == "${content}x" ]]; then
    FILE_CHANGED=0
    return 0
  fi
  FILE_CHANGED=1
  if (( DRY_RUN )); then printf '      would write %s (mode %s)\n' "$path" "$mode"; return 0; fi
  ensure_dir "$(dirname "$path")"
  if [[ -e $target ]]; then
    if [[ ! -e $STATE_DIR/backup$path ]] && ! grep -qxF "file $path" "$STATE_DIR/created.list" 2>/dev/null; then
      mkdir -p "$(dirname "$STATE_DIR/backup$path")"
      cp -a "$target" "$STATE_DIR/backup$path"
      record replaced "$path"
    fi
  else
    record file "$path"
  fi
  local tmp
  tmp=$(mktemp "$target.olares-tmp.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$target"
  log_line "WRITE: $path (mode $mode)"
}

# install_binary SRC PATH: copies a verified artifact into place (recorded like put_file).
install_binary() {
  local src=$1 path=$2 target
  target=$(hp "$path")
  if [[ -f $target ]] && cmp -s "$src" "$target"; then return 0; fi
  if (( DRY_RUN )); then printf '      would install %s\n' "$path"; return 0; fi
  ensure_dir "$(dirname "$path")"
  [[ -e $target ]] || record file "$path"
  run install -m 0755 "$src" "$target"
}

# ----- probes: small readers so tests can stub them (files under ROOT, commands on PATH) -------------
# No /etc/os-release yields "" (reported as an unknown OS), not a silent exit under pipefail.
os_release_field() { { sed -n "s/^$1=//p" "$(hp /etc/os-release)" 2>/dev/null || true; } | head -n1 | tr -d '"'"'"; }
machine_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}
pid1_name() { cat "$(hp /proc/1/comm)" 2>/dev/null || echo unknown; }
cpu_count() { nproc; }
mem_total_kib() { awk '/^MemTotal:/ {print $2}' "$(hp /proc/meminfo)" 2>/dev/null || echo 0; }
# Free KiB on the filesystem holding PATH (or its nearest existing ancestor).
disk_free_kib() {
  local dir
  dir=$(hp "$1")
  while [[ ! -e $dir && $dir != / && -n $dir ]]; do dir=$(dirname "$dir"); done
  df -Pk "${dir:-/}" | awk 'NR == 2 {print $4}'
}
listening_ports() { ss -Htln | awk '{n = split($4, a, ":"); print a[n]}' | sort -un; }
systemd_booted() { [[ -d $(hp /run/systemd/system) ]]; }
time_synchronized() { [[ $(timedatectl show -p NTPSynchronized --value 2>/dev/null) == yes ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

# ----- options (each flag also reads OLARES_<FLAG>; legacy olares-cli names are honoured) ------------
usage() {
  cat <<'EOF'
Usage: install.sh [options]

Installs containerd, K3s and the olares-operator on this machine, then creates an OlaresInstallation
and follows it until Olares is Ready. Safe to re-run: finished steps are skipped.

Olares (the OlaresInstallation):
  --version V             Olares version (OLARES_VERSION; default 1.12.1)
  --name NAME             OlaresInstallation name (default olares)
  --username NAME         owner username (TERMINUS_OS_USERNAME); required
  --domain DOMAIN         owner domain (TERMINUS_OS_DOMAINNAME; default olares.com)
  --email EMAIL           owner email (TERMINUS_OS_EMAIL)
                          the owner password is read from TERMINUS_OS_PASSWORD / OLARES_PASSWORD only
  --base-dir PATH         storage root path (OLARES_BASE_DIR; default /olares)
  --juicefs               use JuiceFS for the root filesystem (JUICEFS=1)
  --storage-type T        managed-minio|s3|oss|cos|minio (STORAGE_TYPE); other than managed-minio implies JuiceFS
  --s3-bucket B           bucket URL or name (S3_BUCKET); keys from AWS_ACCESS_KEY_ID_SETUP,
                          AWS_SECRET_ACCESS_KEY_SETUP, AWS_SESSION_TOKEN_SETUP (stored in a Secret)
  --s3-region R           bucket region (when the bucket is a plain name)
  --s3-endpoint URL       object store endpoint URL (when the bucket is a plain name)
  --cluster-id ID         cluster id (CLUSTER_ID), kept as annotation olares.com/cluster-id
  --registry-mirror M     registry mirror, repeatable: URL (docker.io) or REGISTRY=URL (REGISTRY_MIRRORS, comma separated)
  --gpu auto|true|false   manage NVIDIA GPUs (LOCAL_GPU_ENABLE=1|0; default auto)
  --gpu-share             share GPUs with HAMi (LOCAL_GPU_SHARE=1)
  --kube-type k3s|k8s     (KUBE_TYPE) this script installs K3s only
  --config FILE           apply this OlaresInstallation YAML instead of building one from flags

Install:
  --preinstall            prepare the host and K3s only; no operator, no OlaresInstallation (PREINSTALL=1)
  --airgap DIR            use DIR's K3s binary, images tarball and install.sh (plus containerd, runc,
                          calico.yaml and helm); nothing is downloaded
  --chart-url URL         operator Helm chart (default: charts/olares-operator next to this script)
  --k3s-arg ARG           extra K3s flag, repeatable
  --cni calico|flannel    pod network: Calico (default; K3s runs without flannel, as Olares does) or K3s's flannel
  --reuse-containerd      use the containerd already running on this host
  --join                  join as a worker: needs --server URL and --token (or K3S_URL / K3S_TOKEN)
  --server URL            K3s server URL for --join
  --token TOKEN           K3s join token for --join (prefer K3S_TOKEN: arguments are visible in ps)
  --timeout SECONDS       how long to wait for Ready (default 3600)

Preflight:
  --force                 allow an unsupported OS
  --skip-check NAME       skip a preflight check, repeatable (os arch systemd root cpu memory disk ports
                          container-runtime resolv-conf time-sync nouveau)
  --min-disk-gib N        free disk required under the root path (default 150)

Modes:
  --dry-run               print every step and command; change nothing
  --print-cr              print the OlaresInstallation that would be applied, then exit
  --verbose               show step details
  -h, --help              this help

Log: /var/log/olares-bootstrap.log (OLARES_BOOTSTRAP_LOG). State: /var/lib/olares-bootstrap.
EOF
}

truthy() { [[ ${1,,} =~ ^(1|true|yes|on)$ ]]; }

ORIGINAL_ARGS=("$@")
opt_version=${OLARES_VERSION:-}
opt_name=${OLARES_NAME:-olares}
opt_username=${OLARES_USERNAME:-${TERMINUS_OS_USERNAME:-}}
opt_domain=${OLARES_DOMAIN:-${TERMINUS_OS_DOMAINNAME:-}}
opt_email=${OLARES_EMAIL:-${TERMINUS_OS_EMAIL:-}}
owner_password=${OLARES_PASSWORD:-${TERMINUS_OS_PASSWORD:-}}
opt_base_dir=${OLARES_BASE_DIR:-}
opt_juicefs=${OLARES_JUICEFS:-${JUICEFS:-0}}
opt_storage_type=${OLARES_STORAGE_TYPE:-${STORAGE_TYPE:-}}
opt_s3_bucket=${OLARES_S3_BUCKET:-${S3_BUCKET:-}}
opt_s3_region=${OLARES_S3_REGION:-}
opt_s3_endpoint=${OLARES_S3_ENDPOINT:-}
opt_cluster_id=${OLARES_CLUSTER_ID:-${CLUSTER_ID:-}}
opt_mirrors=${OLARES_REGISTRY_MIRRORS:-${REGISTRY_MIRRORS:-}}
opt_gpu=${OLARES_GPU:-}
if [[ -z $opt_gpu && -n ${LOCAL_GPU_ENABLE:-} ]]; then
  if truthy "$LOCAL_GPU_ENABLE"; then opt_gpu=true; else opt_gpu=false; fi
fi
opt_gpu_share=${OLARES_GPU_SHARE:-${LOCAL_GPU_SHARE:-0}}
opt_kube_type=${OLARES_KUBE_TYPE:-${KUBE_TYPE:-k3s}}
opt_config=${OLARES_CONFIG:-}
opt_preinstall=${OLARES_PREINSTALL:-${PREINSTALL:-0}}
opt_airgap=${OLARES_AIRGAP:-}
opt_chart_url=${OLARES_CHART_URL:-}
opt_k3s_args=${OLARES_K3S_ARGS:-}
opt_reuse_containerd=${OLARES_REUSE_CONTAINERD:-0}
opt_cni=${OLARES_CNI:-calico}
opt_join=${OLARES_JOIN:-0}
opt_server=${OLARES_SERVER:-${K3S_URL:-}}
join_token=${OLARES_TOKEN:-${K3S_TOKEN:-}}
opt_timeout=${OLARES_TIMEOUT:-3600}
opt_force=${OLARES_FORCE:-0}
opt_skip_checks=${OLARES_SKIP_CHECKS:-}
opt_min_disk_gib=${OLARES_MIN_DISK_GIB:-150}
DRY_RUN=0; truthy "${OLARES_DRY_RUN:-0}" && DRY_RUN=1
PREFLIGHT_FAILED=0
PRINT_CR=0
VERBOSE=0; truthy "${OLARES_VERBOSE:-0}" && VERBOSE=1
k3s_extra_args=()
if [[ -n $opt_k3s_args ]]; then read -r -a k3s_extra_args <<<"$opt_k3s_args"; fi

need_value() { [[ $# -ge 2 && -n $2 ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    --version) need_value "$@"; opt_version=$2; shift ;;
    --name) need_value "$@"; opt_name=$2; shift ;;
    --username) need_value "$@"; opt_username=$2; shift ;;
    --domain) need_value "$@"; opt_domain=$2; shift ;;
    --email) need_value "$@"; opt_email=$2; shift ;;
    --base-dir) need_value "$@"; opt_base_dir=$2; shift ;;
    --juicefs) opt_juicefs=1 ;;
    --storage-type) need_value "$@"; opt_storage_type=$2; shift ;;
    --s3-bucket) need_value "$@"; opt_s3_bucket=$2; shift ;;
    --s3-region) need_value "$@"; opt_s3_region=$2; shift ;;
    --s3-endpoint) need_value "$@"; opt_s3_endpoint=$2; shift ;;
    --cluster-id) need_value "$@"; opt_cluster_id=$2; shift ;;
    --registry-mirror) need_value "$@"; opt_mirrors=${opt_mirrors:+$opt_mirrors,}$2; shift ;;
    --gpu) need_value "$@"; opt_gpu=$2; shift ;;
    --gpu-share) opt_gpu_share=1 ;;
    --kube-type) need_value "$@"; opt_kube_type=$2; shift ;;
    --config) need_value "$@"; opt_config=$2; shift ;;
    --preinstall) opt_preinstall=1 ;;
    --airgap) need_value "$@"; opt_airgap=$2; shift ;;
    --chart-url) need_value "$@"; opt_chart_url=$2; shift ;;
    --k3s-arg) need_value "$@"; k3s_extra_args+=("$2"); shift ;;
    --reuse-containerd) opt_reuse_containerd=1 ;;
    --cni) need_value "$@"; opt_cni=$2; shift ;;
    --join) opt_join=1 ;;
    --server) need_value "$@"; opt_server=$2; shift ;;
    --token) need_value "$@"; join_token=$2; shift ;;
    --timeout) need_value "$@"; opt_timeout=$2; shift ;;
    --force) opt_force=1 ;;
    --skip-check) need_value "$@"; opt_skip_checks=${opt_skip_checks:+$opt_skip_checks,}$2; shift ;;
    --min-disk-gib) need_value "$@"; opt_min_disk_gib=$2; shift ;;
    --dry-run) DRY_RUN=1 ;;
    --print-cr) PRINT_CR=1 ;;
    --verbose) VERBOSE=1 ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done

ROOT_PATH=${opt_base_dir:-/olares}
ARCH=$(machine_arch)
# The cluster this script installs, not whatever KUBECONFIG the shell had (OLARES_KUBECONFIG overrides).
export KUBECONFIG=${OLARES_KUBECONFIG:-$(hp /etc/rancher/k3s/k3s.yaml)}

# ----- validation of user input: clear errors naming the flag/variable and the rule ------------------
ERRORS=()
bad() { ERRORS+=("$*"); }
dns_name_re='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
https_url_re='^https://[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(/[-A-Za-z0-9._~%/]*)?$'
http_url_re='^https?://[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(/[-A-Za-z0-9._~%/]*)?$'
semver_re='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
path_re='^(/[A-Za-z0-9_][-A-Za-z0-9._]*)+$'

validate_common_options() {
  [[ $opt_cni =~ ^(calico|flannel)$ ]] || bad "--cni/OLARES_CNI: '$opt_cni' must be calico or flannel"
  [[ $opt_kube_type =~ ^(k3s|k8s)$ ]] || bad "--kube-type/KUBE_TYPE: '$opt_kube_type' must be k3s or k8s"
  [[ $opt_base_dir == "" || $opt_base_dir =~ $path_re ]] || bad "--base-dir/OLARES_BASE_DIR: '$opt_base_dir' must be an absolute path of letters, digits, . _ -"
  [[ $opt_timeout =~ ^[1-9][0-9]*$ ]] || bad "--timeout: '$opt_timeout' must be a positive number of seconds"
  [[ $opt_min_disk_gib =~ ^[0-9]+$ ]] || bad "--min-disk-gib: '$opt_min_disk_gib' must be a whole number"
  local check
  for check in ${opt_skip_checks//,/ }; do
    [[ " $CHECK_NAMES " == *" $check "* ]] || bad "--skip-check: unknown check '$check' (one of: $CHECK_NAMES)"
  done
  if [[ -n $opt_airgap && ! -d $opt_airgap ]]; then bad "--airgap: '$opt_airgap' is not a directory"; fi
  if truthy "$opt_join"; then
    [[ -n $opt_server ]] || bad "--join needs --server URL (or K3S_URL)"
    [[ -z $opt_server || $opt_server =~ $https_url_re ]] || bad "--server/K3S_URL: '$opt_server' must be an https:// URL, e.g. https://10.0.0.1:6443"
    [[ -n $join_token ]] || bad "--join needs --token (or K3S_TOKEN)"
  fi
  if [[ -n $opt_config && ! -r $opt_config ]]; then bad "--config: cannot read '$opt_config'"; fi
}

# Parsed registry mirrors: parallel arrays of registry and comma-joined endpoints, in first-seen order.
MIRROR_REGISTRIES=()
MIRROR_ENDPOINTS=()
parse_mirrors() {
  local item registry url i found
  for item in ${opt_mirrors//,/ }; do
    if [[ $item == *=* ]]; then registry=${item%%=*}; url=${item#*=}; else registry=docker.io; url=$item; fi
    [[ $registry =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$ ]] \
      || { bad "--registry-mirror/REGISTRY_MIRRORS: registry '$registry' must be a host name like docker.io"; continue; }
    [[ $url =~ $https_url_re ]] || { bad "--registry-mirror/REGISTRY_MIRRORS: '$url' must be an https:// URL"; continue; }
    found=""
    for i in "${!MIRROR_REGISTRIES[@]}"; do
      if [[ ${MIRROR_REGISTRIES[$i]} == "$registry" ]]; then MIRROR_ENDPOINTS[i]+=",$url"; found=1; fi
    done
    if [[ -z $found ]]; then MIRROR_REGISTRIES+=("$registry"); MIRROR_ENDPOINTS+=("$url"); fi
  done
}

# Storage derived from JUICEFS / STORAGE_TYPE / S3_BUCKET.
STORAGE_KIND=LocalFS
OBJECT_STORE_TYPE=""
BUCKET_NAME=""
BUCKET_ENDPOINT=""
BUCKET_REGION=""
resolve_storage() {
  local st=${opt_storage_type,,}
  case "$st" in
    "" | managed-minio) OBJECT_STORE_TYPE=ManagedMinIO ;;
    s3) OBJECT_STORE_TYPE=S3 ;;
    oss) OBJECT_STORE_TYPE=OSS ;;
    cos) OBJECT_STORE_TYPE=COS ;;
    minio) OBJECT_STORE_TYPE=MinIO ;;
    *) bad "--storage-type/STORAGE_TYPE: '$opt_storage_type' must be one of managed-minio, s3, oss, cos, minio"; return 0 ;;
  esac
  if truthy "$opt_juicefs" || [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; then STORAGE_KIND=JuiceFS; fi
  [[ $STORAGE_KIND == JuiceFS && $OBJECT_STORE_TYPE != ManagedMinIO ]] || return 0

  BUCKET_REGION=$opt_s3_region
  BUCKET_ENDPOINT=$opt_s3_endpoint
  local bucket=$opt_s3_bucket
  if [[ $bucket =~ ^(https?)://([^/]+)(/([^/]+))?/?$ ]]; then
    local scheme=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} path_bucket=${BASH_REMATCH[4]}
    if [[ -n $path_bucket ]]; then
      # Path style (MinIO): http://minio.example.com:9000/bucket
      BUCKET_NAME=$path_bucket
      BUCKET_ENDPOINT=${BUCKET_ENDPOINT:-$scheme://$host}
    else
      # Virtual-hosted style (S3/OSS/COS): https://bucket.s3.us-east-1.amazonaws.com
      BUCKET_NAME=${host%%.*}
      BUCKET_ENDPOINT=${BUCKET_ENDPOINT:-$scheme://${host#*.}}
    fi
  else
    BUCKET_NAME=$bucket
  fi
  [[ -n $BUCKET_NAME ]] || bad "--s3-bucket/S3_BUCKET is required with STORAGE_TYPE=$opt_storage_type"
  [[ -z $BUCKET_NAME || $BUCKET_NAME =~ ^[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]$ ]] \
    || bad "--s3-bucket/S3_BUCKET: bucket name '$BUCKET_NAME' must be 3-63 lower-case letters, digits, dots or hyphens"
  [[ -z $BUCKET_ENDPOINT || $BUCKET_ENDPOINT =~ $http_url_re ]] || bad "--s3-endpoint: '$BUCKET_ENDPOINT' must be an http(s) URL"
  [[ -z $BUCKET_REGION || $BUCKET_REGION =~ ^[a-z0-9][-a-z0-9]*[a-z0-9]$ ]] || bad "--s3-region: '$BUCKET_REGION' is not a region name"
  if [[ $OBJECT_STORE_TYPE == MinIO && -z $BUCKET_ENDPOINT ]]; then bad "STORAGE_TYPE=minio needs an endpoint: S3_BUCKET=http://host:9000/bucket or --s3-endpoint"; fi
  if [[ -z $BUCKET_ENDPOINT && -z $BUCKET_REGION ]]; then bad "STORAGE_TYPE=$opt_storage_type needs --s3-region or --s3-endpoint (or S3_BUCKET as a bucket URL)"; fi
  [[ -n ${AWS_ACCESS_KEY_ID_SETUP:-} && -n ${AWS_SECRET_ACCESS_KEY_SETUP:-} ]] \
    || bad "STORAGE_TYPE=$opt_storage_type needs AWS_ACCESS_KEY_ID_SETUP and AWS_SECRET_ACCESS_KEY_SETUP"
}

validate_cr_options() {
  opt_version=${opt_version:-$OLARES_DEFAULT_VERSION}
  [[ $opt_version =~ $semver_re ]] || bad "--version/OLARES_VERSION: '$opt_version' must be a semantic version like 1.12.1"
  [[ $opt_name =~ $dns_name_re && ${#opt_name} -le 253 ]] || bad "--name: '$opt_name' must be a lower-case DNS name"
  if [[ -z $opt_username ]]; then
    bad "owner username is required: --username or TERMINUS_OS_USERNAME"
  elif ! [[ $opt_username =~ ^[a-z][a-z0-9]{1,31}$ ]]; then
    bad "--username/TERMINUS_OS_USERNAME: '$opt_username' must start with a-z, then 1-31 of a-z 0-9"
  fi
  [[ -z $opt_domain || ($opt_domain =~ $dns_name_re && ${#opt_domain} -le 253) ]] || bad "--domain/TERMINUS_OS_DOMAINNAME: '$opt_domain' must be a lower-case DNS name"
  [[ -z $opt_email || $opt_email =~ ^[^@[:space:]\"]+@[^@[:space:]\"]+\.[^@[:space:]\"]+$ ]] || bad "--email/TERMINUS_OS_EMAIL: '$opt_email' is not an email address"
  # Length only: the password's characters are never echoed, not even in an error.
  [[ -z $owner_password || (${#owner_password} -ge 6 && ${#owner_password} -le 32) ]] || bad "TERMINUS_OS_PASSWORD must be 6 to 32 characters"
  case "${opt_gpu,,}" in "" | auto | true | false) opt_gpu=${opt_gpu,,} ;; *) bad "--gpu/LOCAL_GPU_ENABLE: '$opt_gpu' must be auto, true or false" ;; esac
  if truthy "$opt_gpu_share" && [[ $opt_gpu == false ]]; then bad "LOCAL_GPU_SHARE=1 conflicts with GPUs disabled (LOCAL_GPU_ENABLE=0 / --gpu false)"; fi
  [[ -z $opt_cluster_id || $opt_cluster_id =~ ^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$ ]] || bad "--cluster-id/CLUSTER_ID: '$opt_cluster_id' must be letters, digits, - _ . (max 63)"
  resolve_storage
}

report_errors_or_continue() {
  (( ${#ERRORS[@]} == 0 )) && return 0
  printf 'ERROR: invalid settings:\n' >&2
  printf '  - %s\n' "${ERRORS[@]}" >&2
  exit 2
}

# ----- the OlaresInstallation ----------------------------------------------------------------------
# Values are validated above; yq() still quotes them as YAML double-quoted scalars.
yq() { local v=${1//\\/\\\\}; printf '"%s"' "${v//\"/\\\"}"; }

render_cr() {
  printf 'apiVersion: %s\nkind: OlaresInstallation\nmetadata:\n  name: %s\n' "$CR_API_VERSION" "$(yq "$opt_name")"
  printf '  labels:\n    app.kubernetes.io/managed-by: olares-bootstrap\n'
  if [[ -n $opt_cluster_id ]]; then printf '  annotations:\n    olares.com/cluster-id: %s\n' "$(yq "$opt_cluster_id")"; fi
  printf 'spec:\n  version: %s\n' "$(yq "$opt_version")"
  printf '  owner:\n    username: %s\n' "$(yq "$opt_username")"
  if [[ -n $opt_domain ]]; then printf '    domain: %s\n' "$(yq "$opt_domain")"; fi
  if [[ -n $opt_email ]]; then printf '    email: %s\n' "$(yq "$opt_email")"; fi
  if [[ -n $owner_password ]]; then printf '    passwordSecretRef:\n      name: %s\n      key: password\n' "$OWNER_PASSWORD_SECRET"; fi
  printf '  kubernetes:\n    distribution: %s\n' "$opt_kube_type"
  if (( ${#MIRROR_REGISTRIES[@]} > 0 )); then
    printf '  registry:\n    mirrors:\n'
    local i endpoint
    for i in "${!MIRROR_REGISTRIES[@]}"; do
      printf '      - registry: %s\n        endpoints:\n' "$(yq "${MIRROR_REGISTRIES[$i]}")"
      for endpoint in ${MIRROR_ENDPOINTS[$i]//,/ }; do printf '          - %s\n' "$(yq "$endpoint")"; done
    done
  fi
  printf '  storage:\n    type: %s\n' "$STORAGE_KIND"
  if [[ -n $opt_base_dir ]]; then printf '    rootPath: %s\n' "$(yq "$opt_base_dir")"; fi
  if [[ $STORAGE_KIND == JuiceFS ]]; then
    printf '    juicefs:\n      objectStore:\n        type: %s\n' "$OBJECT_STORE_TYPE"
    if [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; then
      if [[ -n $BUCKET_ENDPOINT ]]; then printf '        endpoint: %s\n' "$(yq "$BUCKET_ENDPOINT")"; fi
      printf '        bucket: %s\n' "$(yq "$BUCKET_NAME")"
      if [[ -n $BUCKET_REGION ]]; then printf '        region: %s\n' "$(yq "$BUCKET_REGION")"; fi
      printf '        credentialsSecretRef:\n          name: %s\n' "$OBJECT_STORE_SECRET"
      if [[ -n ${AWS_SESSION_TOKEN_SETUP:-} ]]; then printf '          sessionTokenKey: AWS_SESSION_TOKEN\n'; fi
    fi
  fi
  if [[ -n $opt_gpu ]] || truthy "$opt_gpu_share"; then
    printf '  gpu:\n'
    if [[ -n $opt_gpu ]]; then printf '    enabled: "%s"\n' "$opt_gpu"; fi
    if truthy "$opt_gpu_share"; then printf '    sharing:\n      mode: HAMi\n'; fi
  fi
}

# Secret manifest for stdin of kubectl; values base64-encoded so no quoting issue can arise.
render_secret() {
  local name=$1
  shift
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$name" "$OPERATOR_NAMESPACE"
  printf '  labels:\n    app.kubernetes.io/managed-by: olares-bootstrap\ntype: Opaque\ndata:\n'
  while [[ $# -ge 2 ]]; do
    printf '  %s: %s\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n')"
    shift 2
  done
}

# ----- preflight ------------------------------------------------------------------------------------
FAILURES=()
fail_check() { FAILURES+=("$1: $2"); }
check_enabled() { [[ ",$opt_skip_checks," != *",$1,"* ]]; }

preflight() {
  local id version
  if check_enabled os; then
    id=$(os_release_field ID)
    version=$(os_release_field VERSION_ID)
    case "$id/$version" in
      ubuntu/22.04 | ubuntu/24.04 | debian/12 | debian/13) detail "os: $id $version" ;;
      *)
        if truthy "$opt_force"; then warn "os: ${id:-unknown} ${version:-?} is not supported; continuing because of --force"
        else fail_check os "${id:-unknown} ${version:-?} is not supported (Ubuntu 22.04/24.04, Debian 12/13); --force to try anyway"; fi ;;
    esac
  fi
  if check_enabled arch; then
    [[ $ARCH == amd64 || $ARCH == arm64 ]] || fail_check arch "$ARCH is not supported (amd64, arm64)"
  fi
  if check_enabled systemd; then
    local pid1
    pid1=$(pid1_name)
    [[ $pid1 == systemd ]] || fail_check systemd "PID 1 is '$pid1', systemd is required"
  fi
  if check_enabled root; then
    [[ $(id -u) == 0 ]] || fail_check root "must run as root (sudo)"
  fi
  if check_enabled cpu; then
    local cpus
    cpus=$(cpu_count)
    (( cpus >= MIN_CPUS )) || fail_check cpu "$cpus CPUs, at least $MIN_CPUS needed"
  fi
  if check_enabled memory; then
    local mem
    mem=$(mem_total_kib)
    (( mem >= MIN_MEMORY_KIB )) || fail_check memory "$(( mem / 1024 )) MiB RAM, at least 8 GiB needed"
  fi
  if check_enabled disk && ! truthy "$opt_join"; then
    local free_kib
    free_kib=$(disk_free_kib "$ROOT_PATH")
    (( ${free_kib:-0} >= opt_min_disk_gib * 1024 * 1024 )) \
      || fail_check disk "$(( ${free_kib:-0} / 1024 / 1024 )) GiB free under $ROOT_PATH, at least $opt_min_disk_gib GiB needed (--min-disk-gib)"
  fi
  if check_enabled ports; then
    if [[ -n $(mark_get k3s.done) ]]; then
      detail "ports: K3s is already installed by this script; its own ports are expected to be in use"
    elif have ss; then
      local busy=() port open
      open=" $(listening_ports | tr '\n' ' ') "
      for port in "${OLARES_PORTS[@]}"; do
        if truthy "$opt_join" && [[ $port == 6443 ]]; then continue; fi
        [[ $open == *" $port "* ]] && busy+=("$port")
      done
      (( ${#busy[@]} == 0 )) || fail_check ports "in use: ${busy[*]} (Olares needs ${OLARES_PORTS[*]})"
    else
      fail_check ports "cannot list listening ports: 'ss' (iproute2) is missing"
    fi
  fi
  if check_enabled container-runtime; then
    if truthy "$opt_reuse_containerd"; then
      [[ -S $(hp /run/containerd/containerd.sock) ]] || fail_check container-runtime "--reuse-containerd: no socket at /run/containerd/containerd.sock"
    elif [[ -z $(mark_get containerd.version) ]]; then
      local found=()
      have dockerd && found+=("dockerd on PATH")
      have containerd && found+=("containerd on PATH")
      [[ -e $(hp /run/containerd/containerd.sock) ]] && found+=("/run/containerd/containerd.sock")
      [[ -e $(hp /var/run/docker.sock) ]] && found+=("/var/run/docker.sock")
      (( ${#found[@]} == 0 )) || fail_check container-runtime "existing container runtime found (${found[*]}); remove it, or pass --reuse-containerd"
    fi
  fi
  if check_enabled resolv-conf; then
    grep -qE '^[[:space:]]*search([[:space:]]|$)' "$(hp /etc/resolv.conf)" 2>/dev/null \
      && fail_check resolv-conf "/etc/resolv.conf has a 'search' line; remove it (it breaks in-cluster DNS)"
  fi
  if check_enabled time-sync; then
    if ! have timedatectl; then fail_check time-sync "cannot check time sync: timedatectl missing"
    elif ! time_synchronized; then fail_check time-sync "system clock is not NTP-synchronized (timedatectl set-ntp true)"; fi
  fi
  if check_enabled nouveau && [[ $opt_gpu != false ]] && grep -q '^nouveau ' "$(hp /proc/modules)" 2>/dev/null; then
    fail_check nouveau "the nouveau driver is loaded; blacklist it for the NVIDIA driver, or pass --gpu false"
  fi
  if [[ $opt_kube_type == k8s ]]; then
    fail_check kube-type "KUBE_TYPE=k8s: this script installs K3s; on an existing Kubernetes cluster install the chart with helm"
  fi
  if [[ -n $opt_airgap ]]; then
    local f
    for f in "$(k3s_binary_name)" install.sh; do [[ -f $opt_airgap/$f ]] || fail_check airgap "$opt_airgap/$f missing"; done
    [[ -n $(airgap_images) ]] || fail_check airgap "$opt_airgap/k3s-airgap-images-$ARCH.tar[.gz|.zst] missing"
    if ! truthy "$opt_reuse_containerd"; then
      [[ -f $opt_airgap/containerd-$CONTAINERD_VERSION-linux-$ARCH.tar.gz ]] || fail_check airgap "$opt_airgap/containerd-$CONTAINERD_VERSION-linux-$ARCH.tar.gz missing"
      [[ -f $opt_airgap/runc.$ARCH ]] || fail_check airgap "$opt_airgap/runc.$ARCH missing"
    fi
    if [[ $opt_cni == calico ]] && ! truthy "$opt_join"; then
      [[ -f $opt_airgap/calico.yaml ]] || fail_check airgap "$opt_airgap/calico.yaml missing (or use --cni flannel)"
    fi
  fi
  if server_installs_operator && [[ -z $opt_chart_url ]]; then
    if [[ -z $SCRIPT_DIR ]]; then fail_check chart "the script was piped, so no chart ships with it; pass --chart-url"
    elif [[ ! -f $(local_chart_dir)/Chart.yaml ]]; then fail_check chart "no operator chart at $(local_chart_dir); pass --chart-url"; fi
  fi

  if (( ${#FAILURES[@]} > 0 )); then
    say "Preflight found ${#FAILURES[@]} problem(s); nothing was changed:"
    local f
    for f in "${FAILURES[@]}"; do say "  FAIL $f"; done
    say "Fix them and re-run; --skip-check NAME skips a check you accept the risk of."
    if (( DRY_RUN )); then
      # A dry run shows the whole install anyway (as if the checks passed), then exits 1.
      PREFLIGHT_FAILED=1
      say "Dry run: showing the later steps as if these were fixed."
      return 0
    fi
    exit 1
  fi
  say "      all checks passed"
}

server_installs_operator() { ! truthy "$opt_join" && ! truthy "$opt_preinstall"; }
local_chart_dir() { printf '%s' "$SCRIPT_DIR/../charts/olares-operator"; }
k3s_binary_name() { if [[ $ARCH == amd64 ]]; then echo k3s; else echo "k3s-$ARCH"; fi; }
airgap_images() {
  local f
  for f in "$opt_airgap"/k3s-airgap-images-"$ARCH".tar "$opt_airgap"/k3s-airgap-images-"$ARCH".tar.gz "$opt_airgap"/k3s-airgap-images-"$ARCH".tar.zst; do
    if [[ -f $f ]]; then echo "$f"; return 0; fi
  done
}

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

# ----- steps ----------------------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  if have apt-get; then
    local installed
    installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null \
      | awk '$2 == "install" && $4 == "installed" {printf "%s ", $1}' || true)"
    for pkg in "${APT_PACKAGES[@]}"; do [[ $installed == *" $pkg "* ]] || missing+=("$pkg"); done
    if (( ${#missing[@]} == 0 )); then say "      already installed"; return 0; fi
    say "      installing ${missing[*]}"
    # Refresh the package lists only when the install needs it (stale lists, or none yet).
    if ! DEBIAN_FRONTEND=noninteractive attempt apt-get install -y -q --no-install-recommends "${missing[@]}"; then
      DEBIAN_FRONTEND=noninteractive run apt-get update -q
      DEBIAN_FRONTEND=noninteractive run apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
  elif have dnf; then
    for pkg in "${DNF_PACKAGES[@]}"; do rpm -q "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if (( ${#missing[@]} == 0 )); then say "      already installed"; return 0; fi
    say "      installing ${missing[*]}"
    run dnf install -y "${missing[@]}"
  else
    die "no supported package manager (apt-get or dnf)"
  fi
  if (( ! DRY_RUN )); then for pkg in "${missing[@]}"; do record package "$pkg"; done; fi
}

configure_kernel() {
  local changed=0
  put_file /etc/modules-load.d/olares.conf 644 <<'EOF'
# Written by olares bootstrap: kernel modules K3s and the CNI need.
overlay
br_netfilter
EOF
  (( FILE_CHANGED )) && changed=1
  # Not 90-olares.conf: that file belongs to the node agent (spec.os.sysctl), which would overwrite
  # this one and report our next re-run as drift. Later files win, so the spec's values prevail.
  put_file /etc/sysctl.d/80-olares-bootstrap.conf 644 <<'EOF'
# Written by olares bootstrap: forwarding and bridge filtering for Kubernetes networking.
net.ipv4.ip_forward = 1
net.ipv6.conf.all.forwarding = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
EOF
  (( FILE_CHANGED )) && changed=1
  if (( changed == 0 )); then say "      already configured"; return 0; fi
  run modprobe overlay
  run modprobe br_netfilter
  run sysctl --system
}

containerd_config() {
  cat <<'EOF'
# Written by olares bootstrap. Registry mirrors live in /etc/containerd/certs.d/<registry>/hosts.toml;
# drop-ins (the node agent's NVIDIA runtime) in /etc/containerd/conf.d, so nobody else edits this file.
version = 3
imports = ["/etc/containerd/conf.d/*.toml"]

[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '/etc/containerd/certs.d'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
EOF
}

containerd_unit() {
  cat <<'EOF'
# Written by olares bootstrap (containerd's upstream unit).
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
EOF
}

mirror_hosts_toml() {
  local registry=$1 endpoints=$2 server endpoint
  if [[ $registry == docker.io ]]; then server=https://registry-1.docker.io; else server=https://$registry; fi
  # Byte-identical to what the node agent writes for the same spec.registry.mirrors entry, so neither
  # side sees the other's file as a change (re-runs stay no-ops; the agent reports no drift).
  printf '# Managed by olares-operator (spec.registry.mirrors)\nserver = "%s"\n' "$server"
  for endpoint in ${endpoints//,/ }; do
    printf '\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$endpoint"
  done
}

install_containerd() {
  if truthy "$opt_reuse_containerd"; then
    say "      reusing the containerd at /run/containerd/containerd.sock"
    if (( ${#MIRROR_REGISTRIES[@]} > 0 )); then warn "registry mirrors are not written for a reused containerd; configure them in its config"; fi
    return 0
  fi
  local restart=0 i
  if [[ $(mark_get containerd.version) == "$CONTAINERD_VERSION" && -x $(hp /usr/local/bin/containerd) && -x $(hp /usr/local/sbin/runc) ]]; then
    detail "containerd $CONTAINERD_VERSION already installed"
  else
    say "      installing containerd $CONTAINERD_VERSION and runc $RUNC_VERSION"
    if (( DRY_RUN )); then
      printf '      would download and verify containerd-%s-linux-%s.tar.gz and runc.%s\n' "$CONTAINERD_VERSION" "$ARCH" "$ARCH"
    else
      local tarball runc_bin bin
      tarball=$(artifact containerd)
      runc_bin=$(artifact runc)
      mkdir -p "$WORK_DIR/containerd"
      tar -xzf "$tarball" -C "$WORK_DIR/containerd"
      for bin in "$WORK_DIR"/containerd/bin/*; do install_binary "$bin" "/usr/local/bin/$(basename "$bin")"; done
      install_binary "$runc_bin" /usr/local/sbin/runc
    fi
    mark_set containerd.version "$CONTAINERD_VERSION"
    restart=1
  fi
  containerd_config | put_file /etc/containerd/config.toml 644
  (( FILE_CHANGED )) && restart=1
  containerd_unit | put_file /etc/systemd/system/containerd.service 644
  (( FILE_CHANGED )) && restart=1
  for i in "${!MIRROR_REGISTRIES[@]}"; do
    mirror_hosts_toml "${MIRROR_REGISTRIES[$i]}" "${MIRROR_ENDPOINTS[$i]}" \
      | put_file "/etc/containerd/certs.d/${MIRROR_REGISTRIES[$i]}/hosts.toml" 644
  done
  if (( restart == 0 )) && unit_enabled containerd && { ! systemd_booted || unit_active containerd; }; then
    say "      already installed and running"
    return 0
  fi
  enable_unit containerd "$restart"
}

k3s_exec_args() {
  local args=()
  if truthy "$opt_join"; then args=(agent); else args=(server); fi
  args+=(--container-runtime-endpoint unix:///run/containerd/containerd.sock)
  if ! truthy "$opt_join"; then
    args+=("--disable=coredns,servicelb,traefik,metrics-server,local-storage" --disable-cloud-controller
      --write-kubeconfig-mode=0600)
    if [[ $opt_cni == calico ]]; then args+=(--flannel-backend=none --disable-network-policy); fi
  fi
  args+=("--kubelet-arg=system-reserved=cpu=200m,memory=250Mi" --kubelet-arg=max-pods=200
    --kubelet-arg=cgroup-driver=systemd)
  args+=("${k3s_extra_args[@]}")
  printf '%s' "${args[*]}"
}

install_k3s() {
  local exec_args fingerprint unit
  exec_args=$(k3s_exec_args)
  if truthy "$opt_join"; then unit=k3s-agent; else unit=k3s; fi
  fingerprint="$K3S_VERSION $exec_args ${opt_server}"
  if [[ $(mark_get k3s.done) == "$fingerprint" && -x $(hp /usr/local/bin/k3s) && -f $(hp "/etc/systemd/system/$unit.service") ]] \
    && { ! systemd_booted || unit_active "$unit"; }; then
    say "      K3s $K3S_VERSION already installed ($unit)"
    return 0
  fi
  say "      installing K3s $K3S_VERSION ($unit): $exec_args"
  if (( DRY_RUN )); then
    printf '      would verify and install %s to /usr/local/bin/k3s\n' "$(k3s_binary_name)"
    printf '      would run: INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_EXEC=%q sh install.sh\n' "$exec_args"
    return 0
  fi
  local k3s_bin installer images
  k3s_bin=$(artifact k3s)
  installer=$(artifact k3s-installer)
  install_binary "$k3s_bin" /usr/local/bin/k3s
  if [[ -n $opt_airgap ]]; then
    images=$(airgap_images)
    ensure_dir /var/lib/rancher/k3s/agent/images
    install_binary "$images" "/var/lib/rancher/k3s/agent/images/$(basename "$images")"
  fi
  local start_skip=false agent_server="" agent_token=""
  systemd_booted || start_skip=true
  # Only an agent gets a server URL; a stray K3S_URL in the environment must not turn a server into one.
  if truthy "$opt_join"; then agent_server=$opt_server; agent_token=$join_token; fi
  # The join token travels in the environment only, never on a logged command line.
  INSTALL_K3S_SKIP_DOWNLOAD=true INSTALL_K3S_SKIP_START=$start_skip INSTALL_K3S_BIN_DIR="$(hp /usr/local/bin)" \
    INSTALL_K3S_SYSTEMD_DIR="$(hp /etc/systemd/system)" INSTALL_K3S_EXEC="$exec_args" \
    K3S_URL=$agent_server K3S_TOKEN=$agent_token \
    run sh "$installer"
  mark_set k3s.done "$fingerprint"
}

wait_for_api() {
  if (( DRY_RUN )); then printf '      would wait for the Kubernetes API (kubectl get --raw /readyz)\n'; return 0; fi
  if ! systemd_booted; then say "      systemd is not running here: K3s is enabled and starts on boot"; return 0; fi
  local deadline=$((SECONDS + 600))
  until kubectl get --raw /readyz >/dev/null 2>&1; do
    (( SECONDS < deadline )) || die "the Kubernetes API did not become ready in 600s; check: journalctl -u k3s"
    sleep "$POLL_SECONDS"
  done
  detail "Kubernetes API is ready"
}

# Calico, as Olares runs it (K3s without flannel): the pinned manifest with its IP pool set to POD_CIDR.
install_cni() {
  if [[ $opt_cni == flannel ]]; then say "      using K3s's flannel"; return 0; fi
  if ! systemd_booted && (( ! DRY_RUN )); then say "      K3s is not running here: run install.sh again after boot to apply Calico"; return 0; fi
  local fingerprint="$CALICO_VERSION $POD_CIDR"
  if [[ $(mark_get cni.done) == "$fingerprint" ]] && kubectl -n kube-system get daemonset calico-node >/dev/null 2>&1; then
    say "      Calico $CALICO_VERSION already installed"
  else
    say "      installing Calico $CALICO_VERSION (pod network $POD_CIDR)"
    if (( DRY_RUN )); then
      printf '      would download calico.yaml and set its CALICO_IPV4POOL_CIDR\n'
      run kubectl apply --server-side --force-conflicts --field-manager=olares-bootstrap -f -
      return 0
    fi
    local file manifest
    file=$(artifact calico)
    manifest=$(sed -e 's|^\( *\)# - name: CALICO_IPV4POOL_CIDR|\1- name: CALICO_IPV4POOL_CIDR|' \
      -e 's|^\( *\)#   value: "192.168.0.0/16"|\1  value: "'"$POD_CIDR"'"|' "$file")
    grep -q "value: \"$POD_CIDR\"" <<<"$manifest" || die "calico.yaml: could not set CALICO_IPV4POOL_CIDR to $POD_CIDR (unexpected manifest layout)"
    # Calico writes these on the host; record the ones that are new so uninstall.sh removes them.
    local path
    for path in /etc/cni /opt/cni /var/lib/calico /var/run/calico /var/log/calico; do
      [[ -e $(hp "$path") ]] || record tree "$path"
    done
    run_input "$manifest" kubectl apply --server-side --force-conflicts --field-manager=olares-bootstrap -f -
    mark_set cni.done "$fingerprint"
  fi
  kubectl wait --for=condition=Ready nodes --all --timeout=600s >>"$LOG_FILE" 2>&1 \
    || die "the node did not become Ready with Calico; see: kubectl -n kube-system get pods -l k8s-app=calico-node"
  detail "node is Ready"
}

install_helm() {
  if have helm; then say "      helm $(helm version --short 2>/dev/null || echo present) found"; return 0; fi
  say "      installing helm $HELM_VERSION"
  if (( DRY_RUN )); then printf '      would download, verify and install helm to /usr/local/bin/helm\n'; return 0; fi
  local tarball
  if [[ -n $opt_airgap && -f $opt_airgap/helm ]]; then
    install_binary "$opt_airgap/helm" /usr/local/bin/helm
  else
    tarball=$(artifact helm)
    mkdir -p "$WORK_DIR/helm"
    tar -xzf "$tarball" -C "$WORK_DIR/helm"
    install_binary "$WORK_DIR/helm/linux-$ARCH/helm" /usr/local/bin/helm
  fi
  PATH="$(hp /usr/local/bin):$PATH"
}

chart_fingerprint() {
  if [[ -n $opt_chart_url ]]; then printf '%s' "$opt_chart_url"; return 0; fi
  (cd "$(local_chart_dir)" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | awk '{print $1}')
}

install_operator() {
  local chart fingerprint
  if [[ -n $opt_chart_url ]]; then chart=$opt_chart_url; else chart=$(cd "$(local_chart_dir)" && pwd); fi
  fingerprint=$(chart_fingerprint)
  if [[ $(mark_get operator.chart) == "$fingerprint" ]] && helm status "$OPERATOR_RELEASE" -n "$OPERATOR_NAMESPACE" >/dev/null 2>&1; then
    say "      chart already installed"
  else
    run helm upgrade --install "$OPERATOR_RELEASE" "$chart" -n "$OPERATOR_NAMESPACE" --create-namespace --wait --timeout 10m
    mark_set operator.chart "$fingerprint"
  fi
  if (( DRY_RUN )); then printf '      would wait for deployment/%s\n' "$OPERATOR_RELEASE"; return 0; fi
  kubectl -n "$OPERATOR_NAMESPACE" rollout status "deployment/$OPERATOR_RELEASE" --timeout=600s >>"$LOG_FILE" 2>&1 \
    || die "the operator did not become ready; logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE"
  detail "operator deployment is ready"
}

# apply_secret NAME KEY VALUE...: applies the Secret only when its data differs from the live one.
apply_secret() {
  local name=$1 manifest desired live
  manifest=$(render_secret "$@")
  desired=$(printf '%s\n' "$manifest" | sed -n '/^data:/,$p' | tail -n +2 | sort)
  # shellcheck disable=SC2016 # a go-template, not shell
  live=$(kubectl -n "$OPERATOR_NAMESPACE" get secret "$name" -o go-template='{{range $k, $v := .data}}  {{$k}}: {{$v}}{{"\n"}}{{end}}' 2>/dev/null | sort || true)
  if [[ -n $live && $live == "$desired" ]]; then detail "secret $name is up to date"; return 0; fi
  run_input "$manifest" kubectl apply --server-side --field-manager=olares-bootstrap -f -
}

CR_NAME=""
# metadata.name of the (first) OlaresInstallation document in a multi-document YAML file.
config_installation_name() {
  awk '
    /^---/ { if (oi && name != "") { print name; found = 1; exit } oi = 0; name = ""; m = 0; next }
    /^kind:[[:space:]]*OlaresInstallation[[:space:]]*$/ { oi = 1 }
    /^metadata:/ { m = 1; next }
    m && /^[^ ]/ { m = 0 }
    m && /^  name:/ { name = $2; gsub(/["\047]/, "", name) }
    END { if (!found && oi && name != "") print name }' "$1"
}

apply_installation() {
  local manifest fingerprint
  if [[ -n $opt_config ]]; then
    # The file may also hold Secrets: it is applied as is and never logged.
    manifest=$(cat "$opt_config")
    CR_NAME=$(config_installation_name "$opt_config")
    [[ -n $CR_NAME ]] || die "--config $opt_config: no OlaresInstallation with a metadata.name found"
  else
    manifest=$(render_cr)
    CR_NAME=$opt_name
    if [[ -n $owner_password ]]; then apply_secret "$OWNER_PASSWORD_SECRET" password "$owner_password"; fi
    if [[ $STORAGE_KIND == JuiceFS && $OBJECT_STORE_TYPE != ManagedMinIO ]]; then
      local keys=(AWS_ACCESS_KEY_ID "$AWS_ACCESS_KEY_ID_SETUP" AWS_SECRET_ACCESS_KEY "$AWS_SECRET_ACCESS_KEY_SETUP")
      if [[ -n ${AWS_SESSION_TOKEN_SETUP:-} ]]; then keys+=(AWS_SESSION_TOKEN "$AWS_SESSION_TOKEN_SETUP"); fi
      apply_secret "$OBJECT_STORE_SECRET" "${keys[@]}"
    fi
  fi
  fingerprint=$(printf '%s' "$manifest" | sha256sum | awk '{print $1}')
  if [[ $(mark_get installation.sha256) == "$fingerprint" ]] && kubectl get olaresinstallation "$CR_NAME" >/dev/null 2>&1; then
    say "      OlaresInstallation/$CR_NAME is up to date"
    return 0
  fi
  if [[ -z $opt_config ]]; then detail "OlaresInstallation:"$'\n'"$manifest"; fi
  run_input "$manifest" kubectl apply --server-side --field-manager=olares-bootstrap -f -
  mark_set installation.sha256 "$fingerprint"
  mark_set installation.name "$CR_NAME"
}

follow_status() {
  if (( DRY_RUN )); then printf '      would follow OlaresInstallation/%s until Ready (timeout %ss)\n' "${CR_NAME:-$opt_name}" "$opt_timeout"; return 0; fi
  local deadline=$((SECONDS + opt_timeout)) line last="" phase message degraded_since=-1
  local not_ready degraded_message
  # phase, message, the False conditions ("Type: message; ..."), the Degraded condition's message.
  local jsonpath='{.status.phase}{"\t"}{.status.message}{"\t"}{range .status.conditions[?(@.status=="False")]}{.type}: {.message}; {end}{"\t"}{.status.conditions[?(@.type=="Degraded")].message}'
  while :; do
    line=$(kubectl get olaresinstallation "$CR_NAME" -o jsonpath="$jsonpath" 2>/dev/null || true)
    IFS=$'\t' read -r phase message not_ready degraded_message <<<"$line" || true
    if [[ $line != "$last" ]]; then
      say "      ${phase:-Pending}${message:+: $message}"
      last=$line
    fi
    case "$phase" in
      Ready) say "      Olares is Ready. Owner: ${opt_username:-see the CR}@${opt_domain:-olares.com}"; return 0 ;;
      Degraded)
        (( degraded_since >= 0 )) || degraded_since=$SECONDS
        if (( SECONDS - degraded_since >= ${OLARES_DEGRADED_GRACE_SECONDS:-120} )); then
          say "FAILED: OlaresInstallation/$CR_NAME is Degraded: ${degraded_message:-$message}"
          if [[ -n $not_ready ]]; then say "Not ready: $not_ready"; fi
          say "Operator logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE"
          say "Details: kubectl get olaresinstallation $CR_NAME -o yaml ; bootstrap log: $LOG_FILE"
          exit 1
        fi ;;
      Ignored) say "FAILED: OlaresInstallation/$CR_NAME is Ignored: ${message:-another OlaresInstallation is active}"; exit 1 ;;
      *) degraded_since=-1 ;;
    esac
    if (( SECONDS >= deadline )); then
      say "FAILED: OlaresInstallation/$CR_NAME not Ready after ${opt_timeout}s (phase ${phase:-unknown}${message:+: $message})"
      say "Operator logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE ; bootstrap log: $LOG_FILE"
      exit 1
    fi
    sleep "$POLL_SECONDS"
  done
}

cleanup() { if [[ -n $WORK_DIR ]]; then rm -rf "$WORK_DIR"; fi; }

main() {
  validate_common_options
  parse_mirrors
  local build_cr=0
  if server_installs_operator && [[ -z $opt_config ]]; then build_cr=1; fi
  if (( PRINT_CR )); then
    [[ -z $opt_config ]] || die "--print-cr prints the CR built from flags; with --config the file is the CR"
    validate_cr_options
    report_errors_or_continue
    render_cr
    exit 0
  fi
  if (( build_cr )); then validate_cr_options; fi
  report_errors_or_continue

  init_log
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/olares-bootstrap.XXXXXX")
  trap cleanup EXIT
  if (( DRY_RUN )); then say "Dry run: nothing will be changed."; fi

  if truthy "$opt_join"; then STEP_TOTAL=5
  elif truthy "$opt_preinstall"; then STEP_TOTAL=6
  else STEP_TOTAL=10; fi

  step "Preflight checks…"
  preflight
  mark_set root.path "$ROOT_PATH"
  step "Installing base packages…"
  install_packages
  step "Configuring kernel modules and sysctl…"
  configure_kernel
  step "Installing containerd…"
  install_containerd
  if truthy "$opt_join"; then
    step "Joining the cluster as a K3s agent…"
    install_k3s
    say "Done: this node joins $opt_server as a worker."
    finish_dry_run
    return 0
  fi
  step "Installing K3s…"
  install_k3s
  wait_for_api
  step "Installing the pod network…"
  install_cni
  if truthy "$opt_preinstall"; then
    say "Done: host and K3s are prepared (PREINSTALL); no operator or OlaresInstallation was created."
    finish_dry_run
    return 0
  fi
  step "Installing helm…"
  install_helm
  step "Installing the olares-operator chart…"
  install_operator
  step "Creating the OlaresInstallation…"
  apply_installation
  step "Waiting for Olares to be Ready…"
  follow_status
  finish_dry_run
}

# A dry run whose preflight failed exits 1 after showing every step (scripts can tell it would fail).
finish_dry_run() {
  if (( DRY_RUN && PREFLIGHT_FAILED )); then say "Dry run done: preflight failed (see above); a real run stops there."; exit 1; fi
  return 0
}

main
