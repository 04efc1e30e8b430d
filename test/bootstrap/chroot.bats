#!/usr/bin/env bats
# install.sh's OS steps for real, in a debootstrap'd Debian bookworm rootfs under chroot: apt installs
# the base packages (offline, from the rootfs apt cache), containerd and K3s come from an airgap bundle
# (fake binaries, stub K3s install script), systemctl enables units offline. Only modprobe and sysctl
# are stubbed: they would change the host kernel. Runs in private mount and network namespaces, so
# nothing leaks to the host and nothing can reach the network.

load helpers

# Must match install.sh's APT_PACKAGES: their .debs are cached in the rootfs by hack/rootfs.sh.
ROOTFS_PACKAGES=(ca-certificates conntrack curl iproute2 ipset iptables kmod pciutils procps socat)

setup_file() {
  export BATS_NO_PARALLELIZE_WITHIN_FILE=true
  if [[ $(id -u) -ne 0 ]]; then return 0; fi
  local tarball
  tarball=$("$BATS_TEST_DIRNAME/../../hack/rootfs.sh" "${ROOTFS_PACKAGES[@]}")
  export R="$BATS_FILE_TMPDIR/rootfs"
  mkdir -p "$R"
  tar -C "$R" -I zstd -xf "$tarball"
  printf 'nameserver 192.0.2.53\n' >"$R/etc/resolv.conf"

  local arch k3s_file
  arch=$(dpkg --print-architecture)
  if [[ $arch == amd64 ]]; then k3s_file=k3s; else k3s_file=k3s-$arch; fi
  export ARCH_NAME=$arch
  mkdir -p "$R/opt/olares/airgap" "$R/opt/olares/stubs" "$R/opt/olares/stub-state" "$R/opt/olares/pkg/bin"
  cp -r "$BATS_TEST_DIRNAME/../../bootstrap" "$R/opt/olares/bootstrap"
  cp "$BATS_TEST_DIRNAME/stubs/fake-cmd" "$R/opt/olares/stubs/fake-cmd"
  ln -s fake-cmd "$R/opt/olares/stubs/modprobe"
  ln -s fake-cmd "$R/opt/olares/stubs/sysctl"
  local bin
  for bin in containerd containerd-shim-runc-v2 ctr; do
    printf '#!/bin/sh\necho "fake %s"\n' "$bin" >"$R/opt/olares/pkg/bin/$bin"
    chmod 755 "$R/opt/olares/pkg/bin/$bin"
  done
  tar -czf "$R/opt/olares/airgap/containerd-2.2.3-linux-$arch.tar.gz" -C "$R/opt/olares/pkg" bin
  printf '#!/bin/sh\necho "fake runc"\n' >"$R/opt/olares/airgap/runc.$arch"
  # K3s is not running in a chroot: as kubectl it reports the API unreachable.
  printf '#!/bin/sh\n[ "$(basename "$0")" = k3s ] || exit 1\necho "fake k3s $*"\n' >"$R/opt/olares/airgap/$k3s_file"
  cp "$BATS_TEST_DIRNAME/stubs/fake-k3s-install.sh" "$R/opt/olares/airgap/install.sh"
  printf 'fake images' >"$R/opt/olares/airgap/k3s-airgap-images-$arch.tar.zst"
  printf 'kind: DaemonSet\nmetadata:\n  name: calico-node\n' >"$R/opt/olares/airgap/calico.yaml"
  CONTAINERD_SHA=$(sha256sum "$R/opt/olares/airgap/containerd-2.2.3-linux-$arch.tar.gz" | awk '{print $1}')
  export CONTAINERD_SHA
}

setup() {
  if [[ $(id -u) -ne 0 ]]; then skip "chroot tier needs root (debootstrap rootfs, chroot, namespaces)"; fi
}

# in_chroot CMD...: runs CMD inside the rootfs with /proc and /dev mounted privately and no network.
in_chroot() {
  unshare --mount --net --fork -- bash -c '
    set -e
    mount -t proc proc "$R/proc"
    mount --bind /dev "$R/dev"
    exec chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 \
      PATH=/opt/olares/stubs:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      STUB_STATE=/opt/olares/stub-state STUB_CALLS=/opt/olares/calls.log \
      OLARES_CONTAINERD_SHA256="$CONTAINERD_SHA" OLARES_POLL_SECONDS=0 "$@"' bash "$@"
}

install_in_chroot() {
  in_chroot bash /opt/olares/bootstrap/install.sh --preinstall --airgap /opt/olares/airgap \
    --skip-check systemd,time-sync,ports,cpu --min-disk-gib 1 --registry-mirror https://mirror.example.com
}

@test "chroot: the OS steps install packages, containerd and a K3s unit for real" {
  run install_in_chroot
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"[5/6] Installing K3s…"* ]]
  [[ $output == *"systemd is not running here: K3s is enabled and starts on boot"* ]]
  [[ $output == *"K3s is not running here: run install.sh again after boot to apply Calico"* ]]
  local pkg
  for pkg in "${ROOTFS_PACKAGES[@]}"; do
    [ "$(chroot "$R" dpkg-query -W -f='${Status}' "$pkg")" == "install ok installed" ]
  done
  [ -x "$R/usr/local/bin/containerd" ] && [ -x "$R/usr/local/sbin/runc" ] && [ -x "$R/usr/local/bin/k3s" ]
  grep -q '^\[host."https://mirror.example.com"\]' "$R/etc/containerd/certs.d/docker.io/hosts.toml"
  [ "$(chroot "$R" systemctl is-enabled containerd)" == enabled ]
  [ "$(chroot "$R" systemctl is-enabled k3s)" == enabled ]
  grep -q -- '--flannel-backend=none' "$R/etc/systemd/system/k3s.service"
  [ -f "$R/var/lib/rancher/k3s/agent/images/k3s-airgap-images-$ARCH_NAME.tar.zst" ]
  grep -qx 'modprobe br_netfilter' "$R/opt/olares/calls.log"
  grep -qx 'sysctl --system' "$R/opt/olares/calls.log"
}

@test "chroot: a second run changes nothing" {
  log_lines=$(wc -l <"$R/var/log/olares-bootstrap.log")
  run install_in_chroot
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already installed"* ]]
  run bash -c "tail -n +$((log_lines + 1)) '$R/var/log/olares-bootstrap.log' | grep -E '^[^ ]+ (RUN|WRITE|MKDIR|DOWNLOAD):'"
  [ "$status" -eq 1 ]
}

@test "chroot: uninstall --all removes the packages, binaries, units and files it added" {
  run in_chroot bash /opt/olares/bootstrap/uninstall.sh --all
  echo "$output"
  [ "$status" -eq 0 ]
  [ ! -e "$R/usr/local/bin/containerd" ] && [ ! -e "$R/usr/local/sbin/runc" ] && [ ! -e "$R/usr/local/bin/k3s" ]
  [ ! -e "$R/etc/containerd" ] && [ ! -e "$R/etc/systemd/system/containerd.service" ]
  [ ! -e "$R/etc/systemd/system/k3s.service" ] && [ ! -e "$R/etc/modules-load.d/olares.conf" ]
  [ ! -e "$R/etc/systemd/system/multi-user.target.wants/containerd.service" ]
  run chroot "$R" dpkg-query -W -f='${Status}' conntrack
  [[ $output != "install ok installed" ]]
}
