# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 80-k3s.sh: phase 5: K3s and its API.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
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
