#!/usr/bin/env bats
# install.sh end to end on a fake host: steps, idempotency, dry-run, secrets, verification, modes.

load helpers

CHART=oci://registry.example.com/charts/olares-operator

setup() {
  setup_fake_host
  make_downloads
  export_owner
}

@test "a full install runs the 10 steps in order and ends Ready" {
  run "$INSTALL" --chart-url "$CHART" --k3s-arg --node-label=olares.com/role=main
  echo "$output"
  [ "$status" -eq 0 ]
  local i=1 title
  for title in "Preflight checks…" "Installing base packages…" "Configuring kernel modules and sysctl…" "Installing containerd…" \
    "Installing K3s…" "Installing the pod network…" "Installing helm…" "Installing the olares-operator chart…" "Creating the OlaresInstallation…" "Waiting for Olares to be Ready…"; do
    [[ $output == *"[$i/10] $title"* ]]
    grep -qF "[$i/10] $title" "$LOG"
    i=$((i + 1))
  done
  [[ $output == *"Olares is Ready. Owner: alice@olares.com"* ]]
  # Host: binaries, containerd config and unit, kernel settings.
  [ -x "$FAKE_ROOT/usr/local/bin/containerd" ] && [ -x "$FAKE_ROOT/usr/local/sbin/runc" ] && [ -x "$FAKE_ROOT/usr/local/bin/k3s" ]
  grep -q "config_path = '/etc/containerd/certs.d'" "$FAKE_ROOT/etc/containerd/config.toml"
  grep -q 'SystemdCgroup = true' "$FAKE_ROOT/etc/containerd/config.toml"
  grep -qxF 'imports = ["/etc/containerd/conf.d/*.toml"]' "$FAKE_ROOT/etc/containerd/config.toml"
  grep -q '^ExecStart=/usr/local/bin/containerd$' "$FAKE_ROOT/etc/systemd/system/containerd.service"
  grep -qx br_netfilter "$FAKE_ROOT/etc/modules-load.d/olares.conf"
  grep -qx 'net.ipv4.ip_forward = 1' "$FAKE_ROOT/etc/sysctl.d/80-olares-bootstrap.conf"
  # K3s: the brief's flags, the kubelet reserves, and the extra --k3s-arg.
  exec_line=$(grep '^k3s-install ' "$STUB_CALLS")
  for flag in "server --container-runtime-endpoint unix:///run/containerd/containerd.sock" \
    "--disable=coredns,servicelb,traefik,metrics-server,local-storage" "--flannel-backend=none" "--disable-network-policy" \
    "--disable-cloud-controller" "--kubelet-arg=system-reserved=cpu=200m,memory=250Mi" "--kubelet-arg=max-pods=200" \
    "--node-label=olares.com/role=main"; do
    [[ $exec_line == *"$flag"* ]]
  done
  # Calico with its IP pool on K3s's pod CIDR, and the node waited for.
  grep -q '^              value: "10.42.0.0/16"' "$STUB_STATE/kube/daemonset-calico-node.yaml"
  grep -q '^            - name: CALICO_IPV4POOL_CIDR' "$STUB_STATE/kube/daemonset-calico-node.yaml"
  grep -qx 'kubectl wait --for=condition=Ready nodes --all --timeout=600s' "$STUB_CALLS"
  # Operator and CR.
  grep -qxF "helm upgrade --install olares-operator $CHART -n olares-operator --create-namespace --wait --timeout 10m" "$STUB_CALLS"
  grep -q '^  name: "olares"' "$STUB_STATE/kube/olaresinstallation-olares.yaml"
  # Recorded for uninstall.
  grep -qx 'file /etc/containerd/config.toml' "$FAKE_ROOT/var/lib/olares-bootstrap/created.list"
  grep -qx 'package curl' "$FAKE_ROOT/var/lib/olares-bootstrap/created.list"
}

@test "--dry-run prints every step and command and leaves the host byte-identical" {
  before=$(snapshot_root)
  run "$INSTALL" --dry-run --chart-url "$CHART" --registry-mirror https://mirror.example.com
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Dry run: nothing will be changed."* ]]
  [[ $output == *"[10/10] Waiting for Olares to be Ready…"* ]]
  [[ $output == *"would run: kubectl apply --server-side --force-conflicts --field-manager=olares-bootstrap -f -"* ]]
  [[ $output == *"would run: apt-get install -y -q --no-install-recommends ca-certificates"* ]]
  [[ $output == *"would write /etc/containerd/certs.d/docker.io/hosts.toml (mode 644)"* ]]
  [[ $output == *"would run: systemctl enable containerd"* ]]
  [[ $output == *"INSTALL_K3S_EXEC=server"* ]]
  [[ $output == *"would run: helm upgrade --install olares-operator $CHART -n olares-operator --create-namespace --wait --timeout 10m"* ]]
  [[ $output == *"would run: kubectl apply --server-side --field-manager=olares-bootstrap -f -"* ]]
  [ "$(snapshot_root)" == "$before" ]
  [ -z "$(mutating_calls)" ]
}

@test "--juicefs --dry-run shows the CR, what the node agent will set up, the Secret without its values, and checks /dev/fuse" {
  before=$(snapshot_root)
  STORAGE_TYPE=s3 S3_BUCKET=https://bucket1.s3.us-east-1.amazonaws.com AWS_ACCESS_KEY_ID_SETUP=AKIADRYRUN \
    AWS_SECRET_ACCESS_KEY_SETUP=drysecret1 run "$INSTALL" --dry-run --chart-url "$CHART"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"the OlaresInstallation it applies (--print-cr):"* ]]
  [[ $output == *'            type: JuiceFS'* ]]
  [[ $output == *'                bucket: "bucket1"'* ]]
  [[ $output == *"storage: JuiceFS volume on S3 bucket bucket1 at https://s3.us-east-1.amazonaws.com, metadata in Redis managed on this node"* ]]
  [[ $output == *"starts juicefs.service (mount at /olares/rootfs, cache /olares/jfscache) and a K3s drop-in After=juicefs.service"* ]]
  [[ $output == *"would create Secret olares-operator/olares-object-store-credentials (keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; values never shown)"* ]]
  [[ $output != *AKIADRYRUN* && $output != *drysecret1* ]]
  ! grep -q -e AKIADRYRUN -e drysecret1 "$LOG"
  [ "$(snapshot_root | grep -v olares-bootstrap.log)" == "$(echo "$before" | grep -v olares-bootstrap.log)" ]
  [ -z "$(mutating_calls)" ]
  # Without /dev/fuse, JuiceFS cannot mount: preflight says so (and LocalFS does not care).
  rm "$FAKE_ROOT/dev/fuse"
  run "$INSTALL" --juicefs --chart-url "$CHART"
  [ "$status" -ne 0 ]
  [[ $output == *"FAIL fuse: /dev/fuse is missing: JuiceFS mounts <rootPath>/rootfs through FUSE (modprobe fuse)"* ]]
  run "$INSTALL" --dry-run --chart-url "$CHART"
  [[ $output != *"FAIL fuse"* ]]
}

@test "a second run performs no mutating command" {
  export TERMINUS_OS_PASSWORD=correct-horse STORAGE_TYPE=s3 S3_BUCKET=https://bucket1.s3.us-east-1.amazonaws.com \
    AWS_ACCESS_KEY_ID_SETUP=AKIAFIRST AWS_SECRET_ACCESS_KEY_SETUP=secretkey1 REGISTRY_MIRRORS=https://mirror.example.com
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  first_log_lines=$(wc -l <"$LOG")
  : >"$STUB_CALLS"
  before=$(snapshot_root)
  run "$INSTALL" --chart-url "$CHART"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"already installed and running"* ]]
  [[ $output == *"K3s v1.33.5+k3s1 already installed (k3s)"* ]]
  [[ $output == *"chart already installed"* ]]
  [[ $output == *"OlaresInstallation/olares is up to date"* ]]
  echo "mutating calls: $(mutating_calls)"
  [ -z "$(mutating_calls)" ]
  ! tail -n +"$((first_log_lines + 1))" "$LOG" | grep -E '^[^ ]+ (RUN|WRITE|MKDIR|DOWNLOAD):'
  # Only the log grew.
  [ "$(snapshot_root | grep -v olares-bootstrap.log)" == "$(echo "$before" | grep -v olares-bootstrap.log)" ]
}

@test "a changed setting is applied on re-run, and only that" {
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  : >"$STUB_CALLS"
  run "$INSTALL" --chart-url "$CHART" --registry-mirror https://mirror.example.com
  [ "$status" -eq 0 ]
  grep -q '^\[host."https://mirror.example.com"\]' "$FAKE_ROOT/etc/containerd/certs.d/docker.io/hosts.toml"
  grep -q '^server = "https://registry-1.docker.io"' "$FAKE_ROOT/etc/containerd/certs.d/docker.io/hosts.toml"
  # the node agent writes the same bytes for this mirror (containerd-mirrors.ts hostsTomlContent)
  grep -qx '# Managed by olares-operator (spec.registry.mirrors)' "$FAKE_ROOT/etc/containerd/certs.d/docker.io/hosts.toml"
  [ "$(mutating_calls)" == "kubectl apply --server-side --field-manager=olares-bootstrap -f -" ]
}

@test "secrets never reach the log, the output or a command line" {
  export TERMINUS_OS_PASSWORD='Pa55-word!x' STORAGE_TYPE=s3 S3_BUCKET=https://bucket1.s3.us-east-1.amazonaws.com \
    AWS_ACCESS_KEY_ID_SETUP=AKIASECRETID AWS_SECRET_ACCESS_KEY_SETUP=SECRETACCESSKEY AWS_SESSION_TOKEN_SETUP=SESSIONTOKENVALUE
  run "$INSTALL" --chart-url "$CHART" --verbose
  echo "$output"
  [ "$status" -eq 0 ]
  for secret in 'Pa55-word!x' AKIASECRETID SECRETACCESSKEY SESSIONTOKENVALUE; do
    [[ $output != *"$secret"* ]]
    ! grep -qF -- "$secret" "$LOG"
    ! grep -qF -- "$secret" "$STUB_CALLS"
  done
  # The cluster received them, base64-encoded in Secrets.
  grep -q "^  password: $(printf '%s' 'Pa55-word!x' | base64)$" "$STUB_STATE/kube/secret-olares-owner-password.yaml"
  grep -q "^  AWS_SESSION_TOKEN: $(printf SESSIONTOKENVALUE | base64)$" "$STUB_STATE/kube/secret-olares-object-store-credentials.yaml"
  [ "$(stat -c %a "$LOG")" == 600 ]
}

@test "the --join token is passed in the environment, never logged" {
  run "$INSTALL" --join --server https://10.0.0.1:6443 --token K10-join-token-value
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"[5/5] Joining the cluster as a K3s agent…"* ]]
  grep -q '^k3s-install exec=agent --container-runtime-endpoint unix:///run/containerd/containerd.sock .*url=https://10.0.0.1:6443 token=yes' "$STUB_CALLS"
  [ -f "$FAKE_ROOT/etc/systemd/system/k3s-agent.service" ]
  ! grep -q -- '--disable=coredns' "$STUB_CALLS"
  ! grep -qF K10-join-token-value "$LOG"
  grep -q -- '--token REDACTED' "$LOG"
  ! grep -qE '^(helm|kubectl) ' "$STUB_CALLS"
}

@test "K3S_URL and K3S_TOKEN from the environment join a worker; without --join they are ignored" {
  K3S_URL=https://10.0.0.9:6443 K3S_TOKEN=env-token-value run "$INSTALL" --join
  [ "$status" -eq 0 ]
  grep -q '^k3s-install exec=agent .*url=https://10.0.0.9:6443 token=yes' "$STUB_CALLS"
  ! grep -qF env-token-value "$LOG"
}

@test "a stray K3S_URL does not turn a server into an agent" {
  K3S_URL=https://10.0.0.9:6443 K3S_TOKEN=x run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  grep -q '^k3s-install exec=server .*url= token=no' "$STUB_CALLS"
}

@test "--cni flannel keeps K3s's flannel and applies no Calico" {
  run "$INSTALL" --chart-url "$CHART" --cni flannel
  [ "$status" -eq 0 ]
  [[ $output == *"using K3s's flannel"* ]]
  ! grep -q -- '--flannel-backend=none' "$STUB_CALLS"
  [ ! -e "$STUB_STATE/kube/daemonset-calico-node.yaml" ]
}

@test "a checksum mismatch stops before anything is installed" {
  export OLARES_CONTAINERD_SHA256=0000000000000000000000000000000000000000000000000000000000000000
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 1 ]
  [[ $output == *"ERROR: checksum mismatch for https://github.com/containerd/containerd/releases/download/v2.2.3/containerd-2.2.3-linux-amd64.tar.gz: expected 0000"* ]]
  [ ! -e "$FAKE_ROOT/usr/local/bin/containerd" ]
  # runc is verified against its release checksum file.
  unset OLARES_CONTAINERD_SHA256
  make_downloads
  echo "0000000000000000000000000000000000000000000000000000000000000000  runc.amd64" >"$FAKE_DOWNLOADS/runc.sha256sum"
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 1 ]
  [[ $output == *"checksum mismatch for https://github.com/opencontainers/runc/releases/download/v1.3.3/runc.amd64"* ]]
}

@test "a mirror URL without a pinned checksum is refused" {
  OLARES_K3S_URL=https://mirror.example.com/k3s run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 1 ]
  [[ $output == *"OLARES_K3S_URL is set: OLARES_K3S_SHA256 must be set too"* ]]
}

@test "--airgap downloads nothing and installs the bundle's K3s images" {
  # The fake containerd tarball is pinned through OLARES_CONTAINERD_SHA256 (make_downloads).
  make_airgap_bundle "$BATS_TEST_TMPDIR/bundle"
  run "$INSTALL" --airgap "$BATS_TEST_TMPDIR/bundle" --chart-url "$CHART"
  echo "$output"
  [ "$status" -eq 0 ]
  ! grep -q '^curl ' "$STUB_CALLS"
  [ -f "$FAKE_ROOT/var/lib/rancher/k3s/agent/images/k3s-airgap-images-amd64.tar.zst" ]
  cmp "$BATS_TEST_TMPDIR/bundle/k3s" "$FAKE_ROOT/usr/local/bin/k3s"
}

@test "--config applies the given OlaresInstallation and follows it by its name" {
  cat >"$BATS_TEST_TMPDIR/olares.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: zoe-password
  namespace: olares-operator
stringData:
  password: config-file-secret
---
apiVersion: olares.com/v1alpha1
kind: OlaresInstallation
metadata:
  name: "home"
spec:
  version: "1.12.1"
  owner:
    username: zoe
YAML
  unset TERMINUS_OS_USERNAME
  run "$INSTALL" --chart-url "$CHART" --config "$BATS_TEST_TMPDIR/olares.yaml"
  [ "$status" -eq 0 ]
  grep -q 'username: zoe' "$STUB_STATE/kube/olaresinstallation-home.yaml"
  grep -q '^kubectl get olaresinstallation home -o jsonpath' "$STUB_CALLS"
  ! grep -qF config-file-secret "$LOG"
}

@test "status is followed with progress until Ready" {
  printf 'Installing\tNodeConfig: 0/1 nodes updated\t\t\nInstalling\tNodeConfig: 0/1 nodes updated\t\t\nInstalling\tCoreServices: 3/9 ready\t\t\n' >"$STUB_STATE/status-seq"
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 0 ]
  [ "$(grep -c 'Installing: NodeConfig: 0/1 nodes updated' <<<"$output")" -eq 1 ]
  [[ $output == *"Installing: CoreServices: 3/9 ready"*"Ready: Olares is running"* ]]
}

@test "a Degraded installation fails with the condition's message and where the logs are" {
  printf 'Degraded\tStorage failed\tStorageReady: mount failed; \tjuicefs format: bucket b1 not found\n' >"$STUB_STATE/status-seq"
  for _ in 1 2 3 4 5; do head -n1 "$STUB_STATE/status-seq" >>"$STUB_STATE/status-seq"; done
  OLARES_DEGRADED_GRACE_SECONDS=0 run "$INSTALL" --chart-url "$CHART"
  echo "$output"
  [ "$status" -eq 1 ]
  [[ $output == *"FAILED: OlaresInstallation/olares is Degraded: juicefs format: bucket b1 not found"* ]]
  [[ $output == *"Not ready: StorageReady: mount failed;"* ]]
  [[ $output == *"Operator logs: kubectl -n olares-operator logs deploy/olares-operator"* ]]
}

@test "waiting for Ready times out with the last phase" {
  for _ in $(seq 1 400); do printf 'Installing\tGPU: waiting for driver\t\t\n'; done >"$STUB_STATE/status-seq"
  OLARES_POLL_SECONDS=0.01 run "$INSTALL" --chart-url "$CHART" --timeout 1
  [ "$status" -eq 1 ]
  [[ $output == *"FAILED: OlaresInstallation/olares not Ready after 1s (phase Installing: GPU: waiting for driver)"* ]]
}

@test "the chart shipped next to the script is the default" {
  run "$INSTALL"
  [ "$status" -eq 0 ]
  grep -qxF "helm upgrade --install olares-operator $REPO_ROOT/charts/olares-operator -n olares-operator --create-namespace --wait --timeout 10m" "$STUB_CALLS"
}

@test "no download happens without network: a clear error names the URL" {
  rm "$FAKE_DOWNLOADS/k3s"
  run "$INSTALL" --chart-url "$CHART"
  [ "$status" -eq 1 ]
  [[ $output == *"ERROR: download failed: https://github.com/k3s-io/k3s/releases/download/v1.33.5+k3s1/k3s"* ]]
}

@test "--help documents every mode" {
  run "$INSTALL" --help
  [ "$status" -eq 0 ]
  for word in --dry-run --print-cr --join --airgap --config --preinstall --chart-url --registry-mirror --reuse-containerd --force --skip-check; do
    [[ $output == *"$word"* ]]
  done
  run "$INSTALL" --bogus
  [ "$status" -eq 1 ]
  [[ $output == *"unknown option: --bogus"* ]]
}
