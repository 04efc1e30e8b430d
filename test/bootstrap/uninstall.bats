#!/usr/bin/env bats
# uninstall.sh removes, phase by phase, exactly what install.sh created.

load helpers

CHART=oci://registry.example.com/charts/olares-operator

setup() {
  setup_fake_host
  make_downloads
  export_owner
  # A file install.sh will replace: uninstall must restore it, not delete it.
  mkdir -p "$FAKE_ROOT/etc/sysctl.d"
  printf 'vm.swappiness = 10\n' >"$FAKE_ROOT/etc/sysctl.d/80-olares-bootstrap.conf"
}

# The fake root without the bootstrap log (kept on purpose) and the stub K3s's kubectl symlink.
snapshot_without_log() { snapshot_root | grep -v 'olares-bootstrap.log'; }

@test "--all after an install leaves the host as it was (data and log kept)" {
  before=$(snapshot_without_log)
  TERMINUS_OS_PASSWORD=secret-pass run "$INSTALL" --chart-url "$CHART" --registry-mirror https://mirror.example.com
  [ "$status" -eq 0 ]
  mkdir -p "$FAKE_ROOT/olares/rootfs" && echo data >"$FAKE_ROOT/olares/rootfs/file"
  : >"$STUB_CALLS"
  run "$UNINSTALL" --all
  echo "$output"
  [ "$status" -eq 0 ]
  grep -qx 'kubectl delete olaresinstallation olares --wait=false' "$STUB_CALLS"
  grep -qx 'helm uninstall olares-operator -n olares-operator --wait' "$STUB_CALLS"
  grep -qx 'kubectl delete crd olaresinstallations.olares.com --ignore-not-found' "$STUB_CALLS"
  grep -qx 'kubectl delete namespace olares-operator --ignore-not-found' "$STUB_CALLS"
  grep -qx 'systemctl disable --now containerd' "$STUB_CALLS"
  grep -q '^apt-get remove -y -q .*conntrack' "$STUB_CALLS"
  [ ! -e "$STUB_STATE/kube/secret-olares-owner-password.yaml" ]
  [ "$(cat "$FAKE_ROOT/etc/sysctl.d/80-olares-bootstrap.conf")" == "vm.swappiness = 10" ]
  # Everything else is back; the data and the root.path note for a later --data remain.
  after=$(snapshot_without_log | grep -vE '\./olares|var/lib/olares-bootstrap')
  diff <(echo "$before" | grep -vE "\./olares|var/lib/olares-bootstrap") <(echo "$after")
  [ -f "$FAKE_ROOT/olares/rootfs/file" ]
  # --data needs --yes, then removes the root path.
  run "$UNINSTALL" --data
  [ "$status" -eq 1 ]
  [[ $output == *"add --yes to confirm"* ]]
  run "$UNINSTALL" --data --yes
  [ "$status" -eq 0 ]
  [ ! -e "$FAKE_ROOT/olares" ]
  [ ! -e "$FAKE_ROOT/var/lib/olares-bootstrap" ]
}

@test "phases run alone: --operator keeps K3s and containerd" {
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  run "$UNINSTALL" --operator
  [ "$status" -eq 0 ]
  [ -x "$FAKE_ROOT/usr/local/bin/k3s" ] && [ -x "$FAKE_ROOT/usr/local/bin/containerd" ]
  [ ! -e "$STUB_STATE/helm-release" ]
  # A re-install puts the operator back (its markers were cleared).
  : >"$STUB_CALLS"
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  grep -q '^helm upgrade --install' "$STUB_CALLS"
}

@test "--k3s runs the K3s uninstall script" {
  run "$INSTALL" --chart-url "$CHART"
  run "$UNINSTALL" --k3s
  [ "$status" -eq 0 ]
  [ ! -e "$FAKE_ROOT/etc/systemd/system/k3s.service" ]
  [ ! -e "$FAKE_ROOT/usr/local/bin/k3s" ]
  [ -x "$FAKE_ROOT/usr/local/bin/containerd" ]
}

@test "--dry-run lists the removals and changes nothing" {
  run "$INSTALL" --chart-url "$CHART"
  before=$(snapshot_root)
  : >"$STUB_CALLS"
  run "$UNINSTALL" --all --data --yes --dry-run
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"would run: helm uninstall olares-operator -n olares-operator --wait"* ]]
  [[ $output == *"would remove /usr/local/bin/containerd"* ]]
  [[ $output == *"would restore /etc/sysctl.d/80-olares-bootstrap.conf"* ]]
  [[ $output == *"would remove /olares"* ]]
  [ "$(snapshot_root)" == "$before" ]
  [ -z "$(mutating_calls)" ]
}

@test "no phase given prints usage" {
  run "$UNINSTALL"
  [ "$status" -eq 2 ]
  [[ $output == *"Usage: uninstall.sh PHASE..."* ]]
}

@test "--data refuses a root path that is a system directory" {
  mkdir -p "$FAKE_ROOT/usr/bin" && echo keep >"$FAKE_ROOT/usr/bin/tool"
  OLARES_BASE_DIR=/usr run "$UNINSTALL" --data --yes
  [ "$status" -ne 0 ]
  [[ $output == *"refusing to delete root path '/usr': a system directory"* ]]
  [ -f "$FAKE_ROOT/usr/bin/tool" ]
}

@test "--dry-run --data asks no --yes and claims no log it did not write" {
  run "$INSTALL" --chart-url "$CHART"
  rm -f "$LOG"
  before=$(snapshot_root)
  : >"$STUB_CALLS"
  run "$UNINSTALL" --all --data --dry-run
  [ "$status" -eq 0 ]
  [[ $output == *"would remove /olares"* ]]
  [[ $output == *"Dry run done: nothing was changed and no log was written."* ]]
  [[ $output != *"Log: "* ]]
  [ ! -e "$LOG" ]
  [ "$(snapshot_root)" == "$before" ]
  [ -z "$(mutating_calls)" ]
}
