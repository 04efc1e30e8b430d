# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 00-artifacts.sh: pinned artifacts, defaults and host paths.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
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

