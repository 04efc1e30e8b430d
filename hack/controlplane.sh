#!/usr/bin/env bash
# A real Kubernetes control plane for tests and demos, built from upstream Go modules (never shipped):
# etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok (fake nodes), loopback only.
#
#   hack/controlplane.sh build          build what is missing into ~/.cache/olares-operator/controlplane/
#   hack/controlplane.sh start [DIR]    start everything with data in DIR (default: a new temp dir);
#                                       prints the kubeconfig path on stdout, logs go to DIR/logs/
#   hack/controlplane.sh stop DIR       stop the control plane started in DIR and remove DIR
#   hack/controlplane.sh env [DIR]      print shell exports: binary paths and versions (and KUBECONFIG for DIR)
#   hack/controlplane.sh nodes DIR N [G] add N more kwok nodes (the last G with nvidia.com/gpu capacity)
#   hack/controlplane.sh version        print the kube-apiserver version that `build` produces
#
# Environment: OLARES_CONTROLPLANE_CACHE (cache root), CONTROLPLANE_NODES (kwok nodes, default 1),
# CONTROLPLANE_GPU_NODES (of those, how many carry nvidia.com/gpu capacity, default 0),
# CONTROLPLANE_NICE (nice level for builds, default 10), CONTROLPLANE_OWNER_PID (stop when that process is gone),
# CONTROLPLANE_SERVICE_CIDR (default 10.43.0.0/16, K3s's, which bootstrap/install.sh installs; kubeadm uses 10.96.0.0/12).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
modules=$here/controlplane
cache_root=${OLARES_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/olares-operator/controlplane}

die() { echo "controlplane: $*" >&2; exit 1; }
# shellcheck disable=SC1091 # hack/lib/build-lock.sh, checked on its own
source "$here/lib/build-lock.sh"
log() { echo "controlplane: $*" >&2; }

# Versions come from the wrapper modules' go.mod (one source of truth).
module_version() { # go.mod module-path
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}
KUBE_VERSION=$(module_version "$modules/kubernetes/go.mod" k8s.io/kubernetes)
ETCD_VERSION=$(module_version "$modules/etcd/go.mod" go.etcd.io/etcd/server/v3)
KWOK_VERSION=$(awk '/^kwok /{print $2}' "$modules/kwok/version")
[[ -n $KUBE_VERSION && -n $ETCD_VERSION && -n $KWOK_VERSION ]] || die "cannot read versions from $modules"
kube_dir=$cache_root/kubernetes-$KUBE_VERSION
etcd_dir=$cache_root/etcd-$ETCD_VERSION
kwok_dir=$cache_root/kwok-$KWOK_VERSION

need_go() {
  command -v go >/dev/null || die "go is not on PATH; the real control plane is built from Go modules (Go >= 1.26)"
}

# Builds into a temp dir next to the target and renames it in place, so an interrupted build never looks cached.
build_into() { # target-dir description build-command...
  local target=$1 what=$2; shift 2
  if [[ -f $target/.complete ]]; then return 0; fi
  need_go
  mkdir -p "$cache_root"
  local tmp; tmp=$(mktemp -d "$cache_root/.build.XXXXXX")
  log "building $what (cold builds take a while on a small machine)"
  local start=$SECONDS
  if ! (cd "$tmp" && "$@"); then rm -rf "$tmp"; die "building $what failed"; fi
  date -u +%Y-%m-%dT%H:%M:%SZ >"$tmp/.complete"
  echo "$((SECONDS - start))" >"$tmp/.build-seconds"
  rm -rf "$target"; mv "$tmp" "$target"
  log "built $what in $((SECONDS - start))s -> $target"
}

build_kubernetes() {
  local major=${KUBE_VERSION#v}; major=${major%%.*}
  local minor=${KUBE_VERSION#v*.}; minor=${minor%%.*}
  local date; date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  local ldflags="-s -w" pkg
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$KUBE_VERSION -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$date"
  done
  local out=$PWD
  (cd "$modules/kubernetes" && CGO_ENABLED=0 nice -n "${CONTROLPLANE_NICE:-10}" go build -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler)
}

build_etcd() {
  local out=$PWD
  (cd "$modules/etcd" && CGO_ENABLED=0 nice -n "${CONTROLPLANE_NICE:-10}" go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_kwok() {
  GOBIN=$PWD CGO_ENABLED=0 nice -n "${CONTROLPLANE_NICE:-10}" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# kwok simulates nothing without Stage objects; kwokctl feeds it kwok's own default stages. Same here:
# node-initialize, node-heartbeat-with-lease and the fast pod stages, read from the kwok module source
# in the Go module cache (never copied into this repository).
kwok_stages() {
  [[ -s $kwok_dir/stages.yaml ]] && return 0
  need_go
  local src f
  src=$(cd "$kwok_dir" && go mod download -json "sigs.k8s.io/kwok@$KWOK_VERSION" | awk -F'"' '$2 == "Dir" { print $4 }')
  [[ -d $src/kustomize/stage ]] || die "kwok $KWOK_VERSION source not found in the Go module cache"
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
      pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"; cat "$src/kustomize/stage/$f"
    done
  } >"$kwok_dir/stages.yaml.tmp"
  mv "$kwok_dir/stages.yaml.tmp" "$kwok_dir/stages.yaml"
}

cmd_build() {
  build_lock "$cache_root/.build.lock" controlplane
  build_into "$etcd_dir" "etcd $ETCD_VERSION" build_etcd
  build_into "$kwok_dir" "kwok $KWOK_VERSION" build_kwok
  kwok_stages
  build_into "$kube_dir" "kube-apiserver, kube-controller-manager, kube-scheduler $KUBE_VERSION" build_kubernetes
}

bin_path() { # name
  case $1 in
    etcd) echo "$etcd_dir/etcd" ;;
    kwok) echo "$kwok_dir/kwok" ;;
    *) echo "$kube_dir/$1" ;;
  esac
}

require_built() {
  local b missing=()
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    [[ -x $(bin_path "$b") ]] || missing+=("$b")
  done
  [[ -s $kwok_dir/stages.yaml ]] || missing+=("kwok stages")
  [[ ${#missing[@]} -eq 0 ]] || die "not built: ${missing[*]} (run: $0 build)"
}

free_ports() { # count
  node -e '
    const net = require("node:net");
    const n = Number(process.argv[1]); const servers = []; const ports = [];
    (function next() {
      if (ports.length === n) { servers.forEach((s) => s.close()); console.log(ports.join(" ")); return; }
      const s = net.createServer(); servers.push(s);
      s.listen(0, "127.0.0.1", () => { ports.push(s.address().port); next(); });
    })();' "$1"
}

# Polls a health URL until it answers 2xx, failing early when the process dies.
wait_healthy() { # name pid url timeout-seconds [curl args...]
  local name=$1 pid=$2 url=$3 timeout=$4; shift 4
  local deadline=$((SECONDS + timeout)) body=""
  while ((SECONDS < deadline)); do
    if ! running "$pid"; then
      die "$name exited during startup; last log lines:
$(tail -n 20 "$dir/logs/$name.log" 2>/dev/null)"
    fi
    if body=$(curl -fsS --max-time 2 "$@" "$url" 2>&1); then return 0; fi
    sleep 0.1
  done
  die "$name was not healthy within ${timeout}s at $url (last answer: ${body:-none}); log: $dir/logs/$name.log"
}

# Runs a component in its own session (so stop can signal its whole process group) and records its pid.
launch() { # name args...
  local name=$1; shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo "$!" >"$dir/pids/$name"
  echo "$!"
}

gen_pki() {
  local pki=$dir/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 3650 -subj "/CN=olares-controlplane-ca" 2>/dev/null
    openssl genrsa -out sa.key 2048 2>/dev/null
    openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null
    cert() { # name subject [subjectAltName: a serving cert]
      openssl req -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.csr" -subj "$2" 2>/dev/null
      {
        echo "basicConstraints=CA:FALSE"
        echo "keyUsage=digitalSignature,keyEncipherment"
        if [[ -n ${3:-} ]]; then echo "extendedKeyUsage=serverAuth,clientAuth"; echo "subjectAltName=$3"; else echo "extendedKeyUsage=clientAuth"; fi
      } >"$1.ext"
      openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$1.ext" 2>/dev/null
      rm -f "$1.csr" "$1.ext"
    }
    cert apiserver "/CN=kube-apiserver" "IP:127.0.0.1,IP:10.43.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
    cert admin "/O=system:masters/CN=kubernetes-admin"
    cert controller-manager "/CN=system:kube-controller-manager"
    cert scheduler "/CN=system:kube-scheduler"
    cert kwok "/O=system:masters/CN=kwok"
  )
}

b64() { base64 -w0 <"$1"; }

write_kubeconfig() { # file user cert-name
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: olares-controlplane
  cluster:
    server: https://127.0.0.1:$apiserver_port
    certificate-authority-data: $(b64 "$dir/pki/ca.crt")
users:
- name: $2
  user:
    client-certificate-data: $(b64 "$dir/pki/$3.crt")
    client-key-data: $(b64 "$dir/pki/$3.key")
contexts:
- name: $2@olares-controlplane
  context: {cluster: olares-controlplane, user: $2, namespace: default}
current-context: $2@olares-controlplane
EOF
  chmod 600 "$1"
}

# A fake node managed by kwok: an ordinary Node object; kwok keeps its status and "runs" its pods.
node_manifest() { # name gpu(0|1)
  local gpu_capacity=""
  [[ $2 == 1 ]] && gpu_capacity=', "nvidia.com/gpu": "1"'
  cat <<EOF
{"apiVersion": "v1", "kind": "Node",
 "metadata": {"name": "$1",
   "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
   "labels": {"type": "kwok", "kubernetes.io/hostname": "$1", "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
 "spec": {},
 "status": {
   "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "500Gi"$gpu_capacity},
   "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110", "ephemeral-storage": "500Gi"$gpu_capacity},
   "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "$KUBE_VERSION", "kernelVersion": "6.8.0-57-generic",
     "osImage": "Ubuntu 24.04.2 LTS", "containerRuntimeVersion": "containerd://2.0.5",
     "machineID": "", "systemUUID": "", "bootID": "", "kubeProxyVersion": ""}}}
EOF
}

api() { # method path [json-body]
  local args=(-fsS --max-time 20 --cacert "$dir/pki/ca.crt" --cert "$dir/pki/admin.crt" --key "$dir/pki/admin.key" -X "$1" -H "Content-Type: application/json")
  [[ $# -ge 3 ]] && args+=(--data-binary "$3")
  curl "${args[@]}" "https://127.0.0.1:$(<"$dir/apiserver-port")$2"
}

# Nodes kwok-node-0..N-1; the last G of them carry nvidia.com/gpu capacity.
add_nodes() { # count gpu-count [first-index]
  local i gpu first=${3:-0}
  for ((i = first; i < first + $1; i++)); do
    gpu=0; ((i - first >= $1 - $2)) && gpu=1
    api POST /api/v1/nodes "$(node_manifest "kwok-node-$i" "$gpu")" >/dev/null || die "creating node kwok-node-$i failed"
  done
}

cmd_start() {
  require_built
  command -v openssl >/dev/null || die "openssl is needed to make the control plane's certificates"
  dir=${1:-}
  if [[ -z $dir ]]; then dir=$(mktemp -d "${TMPDIR:-/tmp}/olares-controlplane.XXXXXX"); else mkdir -p "$dir"; fi
  dir=$(cd "$dir" && pwd)
  [[ ! -e $dir/pids ]] || die "$dir already holds a control plane (stop it first: $0 stop $dir)"
  mkdir -p "$dir/logs" "$dir/pids" "$dir/etcd"
  # shellcheck disable=SC2064
  trap "log 'start failed; stopping what was started (logs kept in $dir/logs)'; cmd_stop '$dir' keep >/dev/null 2>&1 || true" EXIT
  local etcd_port etcd_peer_port kcm_port sched_port kwok_port
  read -r etcd_port etcd_peer_port apiserver_port kcm_port sched_port kwok_port <<<"$(free_ports 6)"
  echo "$apiserver_port" >"$dir/apiserver-port"
  gen_pki
  local pki=$dir/pki
  write_kubeconfig "$dir/kubeconfig" kubernetes-admin admin
  write_kubeconfig "$dir/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  write_kubeconfig "$dir/scheduler.kubeconfig" system:kube-scheduler scheduler
  write_kubeconfig "$dir/kwok.kubeconfig" kwok kwok

  # Audit: every request except the control plane's own (kube-system controllers, scheduler, kwok), at
  # Metadata level, so tests can prove a ServiceAccount was never refused (403) anything.
  cat >"$dir/audit-policy.yaml" <<EOF
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-scheduler, system:kube-controller-manager, system:apiserver, kwok]
- level: None
  userGroups: [system:serviceaccounts:kube-system, system:nodes]
- level: None
  nonResourceURLs: [/healthz*, /readyz*, /livez*, /version]
- level: Metadata
EOF

  local pid
  pid=$(launch etcd "$(bin_path etcd)" --name default --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "default=http://127.0.0.1:$etcd_peer_port" --listen-metrics-urls "" \
    --unsafe-no-fsync --quota-backend-bytes 2147483648 \
    --experimental-watch-progress-notify-interval 5s --log-level warn)
  wait_healthy etcd "$pid" "http://127.0.0.1:$etcd_port/health" 30

  pid=$(launch kube-apiserver "$(bin_path kube-apiserver)" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address 127.0.0.1 --advertise-address 127.0.0.1 --secure-port "$apiserver_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" --client-ca-file "$pki/ca.crt" \
    --authorization-mode Node,RBAC \
    --enable-admission-plugins NodeRestriction \
    --allow-privileged=true \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/sa.pub" --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "${CONTROLPLANE_SERVICE_CIDR:-10.43.0.0/16}" --cert-dir "$dir/apiserver-certs" \
    --audit-policy-file "$dir/audit-policy.yaml" --audit-log-path "$dir/logs/audit.log" --audit-log-format json \
    --profiling=false --v=1)
  wait_healthy kube-apiserver "$pid" "https://127.0.0.1:$apiserver_port/readyz" 180 --cacert "$pki/ca.crt"

  local kcm_pid sched_pid kwok_pid
  kcm_pid=$(launch kube-controller-manager "$(bin_path kube-controller-manager)" \
    --kubeconfig "$dir/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$dir/controller-manager.kubeconfig" --authorization-kubeconfig "$dir/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$kcm_port" --leader-elect=false \
    --use-service-account-credentials=true \
    --service-account-private-key-file "$pki/sa.key" --root-ca-file "$pki/ca.crt" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller' \
    --cert-dir "$dir/controller-manager-certs" --profiling=false --v=1)
  sched_pid=$(launch kube-scheduler "$(bin_path kube-scheduler)" \
    --kubeconfig "$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig "$dir/scheduler.kubeconfig" --authorization-kubeconfig "$dir/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false --profiling=false --v=1)
  kwok_pid=$(launch kwok "$(bin_path kwok)" --kubeconfig "$dir/kwok.kubeconfig" --config "$kwok_dir/stages.yaml" \
    --manage-all-nodes=false --manage-nodes-with-annotation-selector kwok.x-k8s.io/node=fake \
    --cidr 10.244.0.0/16 --node-ip 127.0.0.1 --node-lease-duration-seconds 40 --server-address "127.0.0.1:$kwok_port")
  wait_healthy kube-controller-manager "$kcm_pid" "https://127.0.0.1:$kcm_port/healthz" 90 -k
  wait_healthy kube-scheduler "$sched_pid" "https://127.0.0.1:$sched_port/healthz" 90 -k
  wait_healthy kwok "$kwok_pid" "http://127.0.0.1:$kwok_port/healthz" 60

  add_nodes "${CONTROLPLANE_NODES:-1}" "${CONTROLPLANE_GPU_NODES:-0}"
  if [[ -n ${CONTROLPLANE_OWNER_PID:-} ]]; then start_watchdog "$CONTROLPLANE_OWNER_PID"; fi
  trap - EXIT
  log "kube-apiserver $KUBE_VERSION on https://127.0.0.1:$apiserver_port, etcd $ETCD_VERSION, kwok $KWOK_VERSION; data and logs in $dir"
  echo "$dir/kubeconfig"
}

# Stops the control plane when the owning process is gone (a test runner killed with SIGKILL leaks nothing).
start_watchdog() { # owner-pid
  # shellcheck disable=SC2016 # the inner script expands its own arguments
  setsid bash -c 'while kill -0 "$1" 2>/dev/null && [[ -d "$3/pids" ]]; do sleep 1; done; [[ -d "$3/pids" ]] && exec "$2" stop "$3"' \
    watchdog "$1" "$here/controlplane.sh" "$dir" >/dev/null 2>&1 </dev/null &
  echo "$!" >"$dir/watchdog.pid"
}

# Alive and not a zombie (an exited component waits to be reaped by whoever adopted it).
running() { # pid
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
  [[ $state != Z* ]]
}

# Stops every process recorded in DIR/pids (TERM, then KILL after 10s) and removes DIR unless asked to keep it.
cmd_stop() {
  local d=${1:-}; [[ -n $d && -d $d/pids ]] || die "usage: $0 stop DIR (a directory printed by start)"
  local f pid pids=() name
  for name in kwok kube-scheduler kube-controller-manager kube-apiserver etcd; do
    f=$d/pids/$name; [[ -f $f ]] || continue
    pid=$(<"$f")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    pids+=("$pid")
  done
  local deadline=$((SECONDS + 10)) alive
  while ((SECONDS < deadline)); do
    alive=0
    for pid in "${pids[@]}"; do running "$pid" && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  rm -rf "$d/pids"
  if [[ -f $d/watchdog.pid ]]; then
    pid=$(<"$d/watchdog.pid")
    if [[ $pid != "$$" ]]; then kill -TERM "$pid" 2>/dev/null || true; fi
  fi
  [[ ${2:-} == keep ]] || rm -rf "$d"
}

cmd_env() {
  echo "export CONTROLPLANE_KUBE_VERSION=$KUBE_VERSION CONTROLPLANE_ETCD_VERSION=$ETCD_VERSION CONTROLPLANE_KWOK_VERSION=$KWOK_VERSION"
  local b var
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kwok; do
    var=${b//-/_}
    echo "export CONTROLPLANE_${var^^}=$(bin_path "$b")"
  done
  if [[ -n ${1:-} ]]; then echo "export KUBECONFIG=$(cd "$1" && pwd)/kubeconfig"; fi
}

cmd_nodes() { # DIR count gpu-count
  dir=$(cd "${1:?usage: $0 nodes DIR COUNT [GPU_COUNT]}" && pwd)
  local existing
  existing=$(api GET /api/v1/nodes | jq '[.items[] | select(.metadata.name | startswith("kwok-node-"))] | length')
  add_nodes "${2:?count}" "${3:-0}" "$existing"
}

main() {
  local cmd=${1:-}; shift || true
  case $cmd in
    build) cmd_build ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    env) cmd_env "$@" ;;
    nodes) cmd_nodes "$@" ;;
    version) echo "$KUBE_VERSION" ;;
    *) die "usage: $0 build|start [DIR]|stop DIR|env [DIR]|nodes DIR COUNT [GPU_COUNT]|version" ;;
  esac
}
main "$@"
