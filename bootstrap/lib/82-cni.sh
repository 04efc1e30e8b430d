# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 82-cni.sh: phase 6: the pod network.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
install_cni() {
  if [[ $opt_cni == flannel ]]; then say "      using K3s's flannel"; return 0; fi
  if ! systemd_booted && (( ! DRY_RUN )); then say "      K3s is not running here: run install.sh again after boot to apply Calico"; return 0; fi
  local fingerprint="$CALICO_VERSION $POD_CIDR"
  if [[ $(mark_get cni.done) == "$fingerprint" ]] && kubectl -n kube-system get daemonset calico-node >/dev/null 2>&1; then
    say "      Calico $CALICO_VERSION already installed"
  else
    say "      installing Calico $CALICO_VERSION (pod network $POD_CIDR)"
    if (( DRY_RUN )); then
      printf '      would download calico.yaml and set its CALICO_IPV4POOL_CIDR\n'
      run kubectl apply --server-side --force-conflicts --field-manager=olares-bootstrap -f -
      return 0
    fi
    local file manifest
    file=$(artifact calico)
    manifest=$(sed -e 's|^\( *\)# - name: CALICO_IPV4POOL_CIDR|\1- name: CALICO_IPV4POOL_CIDR|' \
      -e 's|^\( *\)#   value: "192.168.0.0/16"|\1  value: "'"$POD_CIDR"'"|' "$file")
    grep -q "value: \"$POD_CIDR\"" <<<"$manifest" || die "calico.yaml: could not set CALICO_IPV4POOL_CIDR to $POD_CIDR (unexpected manifest layout)"
    # Calico writes these on the host; record the ones that are new so uninstall.sh removes them.
    local path
    for path in /etc/cni /opt/cni /var/lib/calico /var/run/calico /var/log/calico; do
      [[ -e $(hp "$path") ]] || record tree "$path"
    done
    run_input "$manifest" kubectl apply --server-side --force-conflicts --field-manager=olares-bootstrap -f -
    mark_set cni.done "$fingerprint"
  fi
  kubectl wait --for=condition=Ready nodes --all --timeout=600s >>"$LOG_FILE" 2>&1 \
    || die "the node did not become Ready with Calico; see: kubectl -n kube-system get pods -l k8s-app=calico-node"
  detail "node is Ready"
}

