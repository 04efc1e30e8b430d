# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 60-preflight.sh: phase 1: preflight checks.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
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
  if check_enabled fuse && [[ $STORAGE_KIND == JuiceFS ]]; then
    [[ -e $(hp /dev/fuse) ]] || fail_check fuse "/dev/fuse is missing: JuiceFS mounts <rootPath>/rootfs through FUSE (modprobe fuse)"
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

