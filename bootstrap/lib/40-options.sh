# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 40-options.sh: options (flags and OLARES_* environment).
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
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
  --juicefs               use JuiceFS for the root filesystem (JUICEFS=1, or OLARES_SYSTEM_ROOTFS_TYPE=jfs)
  --storage-type T        managed-minio|s3|oss|cos|minio (STORAGE_TYPE or STORAGE); other than managed-minio implies JuiceFS
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
                          container-runtime resolv-conf time-sync nouveau fuse)
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
# STORAGE is olares-cli's own name for it (managed-minio, s3, oss, cos, minio).
opt_storage_type=${OLARES_STORAGE_TYPE:-${STORAGE_TYPE:-${STORAGE:-}}}
# olares-cli's SystemEnv name for the rootfs type: jfs (JuiceFS) or fs (local); JUICEFS=1 wins over it.
opt_rootfs_type=${OLARES_SYSTEM_ROOTFS_TYPE:-}
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

