#!/usr/bin/env bats
# Preflight: every failing check is collected into one report before anything is changed.

load helpers

setup() {
  setup_fake_host
  export_owner
}

@test "a healthy host passes every check" {
  run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 0 ]
  [[ $output == *"[1/10] Preflight checks…"* ]]
  [[ $output == *"all checks passed"* ]]
}

@test "all failures are reported together, and nothing is changed" {
  printf 'ID=ubuntu\nVERSION_ID="20.04"\n' >"$FAKE_ROOT/etc/os-release"
  echo init >"$FAKE_ROOT/proc/1/comm"
  printf 'MemTotal:        4000000 kB\n' >"$FAKE_ROOT/proc/meminfo"
  printf 'search corp.example\nnameserver 10.0.0.2\n' >"$FAKE_ROOT/etc/resolv.conf"
  mkdir -p "$FAKE_ROOT/var/run" && : >"$FAKE_ROOT/var/run/docker.sock"
  printf 'nouveau 2244608 0 - Live 0x0000000000000000\n' >"$FAKE_ROOT/proc/modules"
  before=$(snapshot_root)
  FAKE_ARCH=riscv64 FAKE_UID=1000 FAKE_NPROC=2 FAKE_DISK_KIB=$((50 * 1024 * 1024)) FAKE_LISTEN="22 80 6443" FAKE_NTP=no \
    run "$INSTALL" --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 1 ]
  [[ $output == *"Preflight found 12 problem(s); nothing was changed:"* ]]
  [[ $output == *"FAIL os: ubuntu 20.04 is not supported"* ]]
  [[ $output == *"FAIL arch: riscv64 is not supported"* ]]
  [[ $output == *"FAIL systemd: PID 1 is 'init'"* ]]
  [[ $output == *"FAIL root: must run as root"* ]]
  [[ $output == *"FAIL cpu: 2 CPUs, at least 4 needed"* ]]
  [[ $output == *"FAIL memory: 3906 MiB RAM, at least 8 GiB needed"* ]]
  [[ $output == *"FAIL disk: 50 GiB free under /olares, at least 150 GiB needed"* ]]
  [[ $output == *"FAIL ports: in use: 80 6443"* ]]
  [[ $output == *"FAIL container-runtime: existing container runtime found (/var/run/docker.sock)"* ]]
  [[ $output == *"FAIL resolv-conf: /etc/resolv.conf has a 'search' line"* ]]
  [[ $output == *"FAIL time-sync: system clock is not NTP-synchronized"* ]]
  [[ $output == *"FAIL nouveau: the nouveau driver is loaded"* ]]
  [[ $output != *"[2/10]"* ]]
  [ -z "$(mutating_calls)" ]
  # Only the log file is new.
  rm "$LOG"
  [ "$(snapshot_root)" == "$before" ]
}

@test "--force accepts an unsupported OS with a warning" {
  printf 'ID=rocky\nVERSION_ID="9.4"\n' >"$FAKE_ROOT/etc/os-release"
  run "$INSTALL" --dry-run --force --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 0 ]
  [[ $output == *"WARNING: os: rocky 9.4 is not supported; continuing because of --force"* ]]
}

@test "Ubuntu 22.04/24.04 and Debian 12/13 are supported" {
  for release in "ubuntu 22.04" "ubuntu 24.04" "debian 12" "debian 13"; do
    set -- $release
    printf 'ID=%s\nVERSION_ID="%s"\n' "$1" "$2" >"$FAKE_ROOT/etc/os-release"
    run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
    [ "$status" -eq 0 ]
  done
}

@test "--skip-check and --min-disk-gib relax checks; unknown check names are rejected" {
  FAKE_NPROC=2 FAKE_DISK_KIB=$((20 * 1024 * 1024)) run "$INSTALL" --dry-run --skip-check cpu --min-disk-gib 10 --chart-url oci://x.example.com/c
  [ "$status" -eq 0 ]
  run "$INSTALL" --dry-run --skip-check cpus
  [ "$status" -eq 2 ]
  [[ $output == *"--skip-check: unknown check 'cpus'"* ]]
}

@test "8 GiB machines pass the memory check despite kernel-reserved memory" {
  printf 'MemTotal:        7990000 kB\n' >"$FAKE_ROOT/proc/meminfo"
  run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 0 ]
}

@test "--reuse-containerd needs the containerd socket and skips the runtime conflict" {
  run "$INSTALL" --dry-run --reuse-containerd --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL container-runtime: --reuse-containerd: no socket at /run/containerd/containerd.sock"* ]]
  mkdir -p "$FAKE_ROOT/run/containerd"
  node -e 'const s = require("net").createServer(); s.listen(process.argv[1], () => process.exit(0))' "$FAKE_ROOT/run/containerd/containerd.sock"
  run "$INSTALL" --dry-run --reuse-containerd --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 0 ]
  [[ $output == *"reusing the containerd at /run/containerd/containerd.sock"* ]]
}

@test "an existing containerd socket without --reuse-containerd fails" {
  mkdir -p "$FAKE_ROOT/run/containerd" && : >"$FAKE_ROOT/run/containerd/containerd.sock"
  run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL container-runtime: existing container runtime found (/run/containerd/containerd.sock); remove it, or pass --reuse-containerd"* ]]
}

@test "a worker (--join) does not need port 6443 free" {
  FAKE_LISTEN="6443" run "$INSTALL" --dry-run --join --server https://10.0.0.1:6443 --token abc
  [ "$status" -eq 0 ]
}

@test "KUBE_TYPE=k8s and a missing airgap file are preflight failures" {
  mkdir "$BATS_TEST_TMPDIR/airgap"
  KUBE_TYPE=k8s run "$INSTALL" --dry-run --airgap "$BATS_TEST_TMPDIR/airgap" --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL kube-type: KUBE_TYPE=k8s: this script installs K3s"* ]]
  [[ $output == *"FAIL airgap: $BATS_TEST_TMPDIR/airgap/k3s missing"* ]]
  [[ $output == *"FAIL airgap: $BATS_TEST_TMPDIR/airgap/k3s-airgap-images-amd64.tar[.gz|.zst] missing"* ]]
}

@test "nouveau does not matter when GPUs are disabled" {
  printf 'nouveau 2244608 0 - Live 0x0000000000000000\n' >"$FAKE_ROOT/proc/modules"
  LOCAL_GPU_ENABLE=0 run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 0 ]
}

@test "piped into bash (curl | bash) it runs, and asks for --chart-url" {
  run bash -c "cat '$INSTALL' | bash -s -- --dry-run"
  [ "$status" -eq 1 ]
  [[ $output == *"FAIL chart: the script was piped, so no chart ships with it; pass --chart-url"* ]]
  run bash -c "cat '$INSTALL' | bash -s -- --dry-run --chart-url oci://registry.example.com/olares-operator"
  [ "$status" -eq 0 ]
}

@test "--dry-run with failing checks reports them, then shows every later step, and exits 1" {
  printf 'ID=ubuntu\nVERSION_ID="20.04"\n' >"$FAKE_ROOT/etc/os-release"
  before=$(snapshot_root)
  FAKE_NPROC=2 run "$INSTALL" --dry-run --chart-url oci://registry.example.com/olares-operator
  [ "$status" -eq 1 ]
  [[ $output == *"Preflight found 2 problem(s); nothing was changed:"* ]]
  [[ $output == *"FAIL os: ubuntu 20.04 is not supported"* ]]
  [[ $output == *"Dry run: showing the later steps as if these were fixed."* ]]
  [[ $output == *"[10/10] Waiting for Olares to be Ready…"* ]]
  [[ $output == *"would run: "* ]]
  [[ $output != *"run install.sh again after boot"* ]]
  [[ $output == *"Dry run done: preflight failed"* ]]
  [ -z "$(mutating_calls)" ]
  [ "$(snapshot_root)" == "$before" ]
}
