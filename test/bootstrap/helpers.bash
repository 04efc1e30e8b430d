# Shared setup for the bootstrap bats suites: a fake host (a scratch root prefix plus stub commands
# first on PATH) that install.sh and uninstall.sh run against as if it were a real machine.
# shellcheck disable=SC2034 # INSTALL, UNINSTALL, LOG, ... are used by the .bats files that load this.

REPO_ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
INSTALL="$REPO_ROOT/bootstrap/install.sh"
UNINSTALL="$REPO_ROOT/bootstrap/uninstall.sh"
STUBS="$BATS_TEST_DIRNAME/stubs"
STUB_COMMANDS=(uname id nproc df ss timedatectl modprobe sysctl systemctl apt-get dpkg-query curl helm kubectl)

# Variables a developer's or CI's environment might carry into install.sh.
clear_install_env() {
  local var
  for var in $(compgen -e | grep -E '^(OLARES_|TERMINUS_OS_|AWS_.*_SETUP$|K3S_|KUBECONFIG$|KUBE_TYPE$|JUICEFS$|STORAGE_TYPE$|STORAGE$|S3_BUCKET$|CLUSTER_ID$|REGISTRY_MIRRORS$|LOCAL_GPU_|PREINSTALL$)' || true); do
    unset "$var"
  done
}

setup_fake_host() {
  clear_install_env
  FAKE_ROOT="$BATS_TEST_TMPDIR/root"
  STUB_BIN="$BATS_TEST_TMPDIR/bin"
  export STUB_STATE="$BATS_TEST_TMPDIR/stub-state"
  export STUB_CALLS="$BATS_TEST_TMPDIR/calls.log"
  mkdir -p "$FAKE_ROOT"/{dev,etc,proc/1,run/systemd/system,var/log,var/lib} "$STUB_BIN" "$STUB_STATE"
  : >"$FAKE_ROOT/dev/fuse" # stands for the FUSE device JuiceFS needs (preflight checks it exists)
  : >"$STUB_CALLS"
  local cmd
  for cmd in "${STUB_COMMANDS[@]}"; do ln -s "$STUBS/fake-cmd" "$STUB_BIN/$cmd"; done
  # /usr/local/bin stays off PATH: the host's own tools (docker, ...) must not leak into the fake host.
  export PATH="$STUB_BIN:/usr/bin:/bin:/usr/sbin:/sbin"
  printf 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n' >"$FAKE_ROOT/etc/os-release"
  echo systemd >"$FAKE_ROOT/proc/1/comm"
  printf 'MemTotal:       16315424 kB\nMemFree:        12000000 kB\n' >"$FAKE_ROOT/proc/meminfo"
  printf 'nameserver 1.1.1.1\n' >"$FAKE_ROOT/etc/resolv.conf"
  export OLARES_ROOT_PREFIX="$FAKE_ROOT"
  export OLARES_POLL_SECONDS=0
  LOG="$FAKE_ROOT/var/log/olares-bootstrap.log"
}

# Artifacts the curl stub serves: a fake containerd tarball (pinned by OLARES_CONTAINERD_SHA256),
# runc and k3s with release checksum files, and the stub K3s install script.
make_downloads() {
  local dir="$BATS_TEST_TMPDIR/downloads" bin
  mkdir -p "$dir/pkg/bin"
  for bin in containerd containerd-shim-runc-v2 ctr; do
    printf '#!/bin/sh\necho "fake %s $*"\n' "$bin" >"$dir/pkg/bin/$bin"
    chmod 755 "$dir/pkg/bin/$bin"
  done
  tar -czf "$dir/containerd-2.2.3-linux-amd64.tar.gz" -C "$dir/pkg" bin
  rm -rf "$dir/pkg"
  printf '#!/bin/sh\necho "fake runc"\n' >"$dir/runc.amd64"
  printf '#!/bin/sh\necho "fake k3s $*"\n' >"$dir/k3s"
  cp "$STUBS/fake-k3s-install.sh" "$dir/install.sh"
  # Shaped like Calico's manifest where install.sh sets the IP pool.
  cat >"$dir/calico.yaml" <<'YAML'
kind: DaemonSet
apiVersion: apps/v1
metadata:
  name: calico-node
  namespace: kube-system
spec:
  template:
    spec:
      containers:
        - name: calico-node
          env:
            # - name: CALICO_IPV4POOL_CIDR
            #   value: "192.168.0.0/16"
YAML
  (cd "$dir" && sha256sum runc.amd64 >runc.sha256sum)
  (cd "$dir" && sha256sum k3s >sha256sum-amd64.txt)
  export FAKE_DOWNLOADS="$dir"
  OLARES_CONTAINERD_SHA256=$(sha256sum "$dir/containerd-2.2.3-linux-amd64.tar.gz" | awk '{print $1}')
  OLARES_K3S_INSTALLER_SHA256=$(sha256sum "$dir/install.sh" | awk '{print $1}')
  OLARES_CALICO_SHA256=$(sha256sum "$dir/calico.yaml" | awk '{print $1}')
  export OLARES_CONTAINERD_SHA256 OLARES_K3S_INSTALLER_SHA256 OLARES_CALICO_SHA256
}

# An airgap bundle in $1 with the same fake artifacts (and an images tarball).
make_airgap_bundle() {
  local dir=$1
  make_downloads
  mkdir -p "$dir"
  cp "$FAKE_DOWNLOADS"/{containerd-2.2.3-linux-amd64.tar.gz,runc.amd64,k3s,install.sh,calico.yaml} "$dir/"
  printf 'fake images' >"$dir/k3s-airgap-images-amd64.tar.zst"
  unset FAKE_DOWNLOADS
}

# A listing of every path under the fake root with its type, mode and content hash.
snapshot_root() {
  (cd "$FAKE_ROOT" && find . -printf '%y %m %p %l\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r sha256sum)
}

# Stub calls that change something (installs, unit changes, downloads, cluster writes).
mutating_calls() {
  grep -vE '^(uname|id|nproc|df|ss|timedatectl|dpkg-query) |^systemctl is-(active|enabled) |^kubectl (.* )?(get|rollout|wait) |^helm (status|version)' "$STUB_CALLS" || true
}

# Minimal valid identity for runs that build a CR.
export_owner() { export TERMINUS_OS_USERNAME=alice; }
