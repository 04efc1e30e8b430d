# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 75-containerd.sh: phase 4: containerd.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
containerd_config() {
  cat <<'EOF'
# Written by olares bootstrap. Registry mirrors live in /etc/containerd/certs.d/<registry>/hosts.toml;
# drop-ins (the node agent's NVIDIA runtime) in /etc/containerd/conf.d, so nobody else edits this file.
version = 3
imports = ["/etc/containerd/conf.d/*.toml"]

[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '/etc/containerd/certs.d'

[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
  SystemdCgroup = true
EOF
}

containerd_unit() {
  cat <<'EOF'
# Written by olares bootstrap (containerd's upstream unit).
[Unit]
Description=containerd container runtime
Documentation=https://containerd.io
After=network.target local-fs.target dbus.service

[Service]
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/containerd
Type=notify
Delegate=yes
KillMode=process
Restart=always
RestartSec=5
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
OOMScoreAdjust=-999

[Install]
WantedBy=multi-user.target
EOF
}

mirror_hosts_toml() {
  local registry=$1 endpoints=$2 server endpoint
  if [[ $registry == docker.io ]]; then server=https://registry-1.docker.io; else server=https://$registry; fi
  # Byte-identical to what the node agent writes for the same spec.registry.mirrors entry, so neither
  # side sees the other's file as a change (re-runs stay no-ops; the agent reports no drift).
  printf '# Managed by olares-operator (spec.registry.mirrors)\nserver = "%s"\n' "$server"
  for endpoint in ${endpoints//,/ }; do
    printf '\n[host."%s"]\n  capabilities = ["pull", "resolve"]\n' "$endpoint"
  done
}

install_containerd() {
  if truthy "$opt_reuse_containerd"; then
    say "      reusing the containerd at /run/containerd/containerd.sock"
    if (( ${#MIRROR_REGISTRIES[@]} > 0 )); then warn "registry mirrors are not written for a reused containerd; configure them in its config"; fi
    return 0
  fi
  local restart=0 i
  if [[ $(mark_get containerd.version) == "$CONTAINERD_VERSION" && -x $(hp /usr/local/bin/containerd) && -x $(hp /usr/local/sbin/runc) ]]; then
    detail "containerd $CONTAINERD_VERSION already installed"
  else
    say "      installing containerd $CONTAINERD_VERSION and runc $RUNC_VERSION"
    if (( DRY_RUN )); then
      printf '      would download and verify containerd-%s-linux-%s.tar.gz and runc.%s\n' "$CONTAINERD_VERSION" "$ARCH" "$ARCH"
    else
      local tarball runc_bin bin
      tarball=$(artifact containerd)
      runc_bin=$(artifact runc)
      mkdir -p "$WORK_DIR/containerd"
      tar -xzf "$tarball" -C "$WORK_DIR/containerd"
      for bin in "$WORK_DIR"/containerd/bin/*; do install_binary "$bin" "/usr/local/bin/$(basename "$bin")"; done
      install_binary "$runc_bin" /usr/local/sbin/runc
    fi
    mark_set containerd.version "$CONTAINERD_VERSION"
    restart=1
  fi
  containerd_config | put_file /etc/containerd/config.toml 644
  (( FILE_CHANGED )) && restart=1
  containerd_unit | put_file /etc/systemd/system/containerd.service 644
  (( FILE_CHANGED )) && restart=1
  for i in "${!MIRROR_REGISTRIES[@]}"; do
    mirror_hosts_toml "${MIRROR_REGISTRIES[$i]}" "${MIRROR_ENDPOINTS[$i]}" \
      | put_file "/etc/containerd/certs.d/${MIRROR_REGISTRIES[$i]}/hosts.toml" 644
  done
  if (( restart == 0 )) && unit_enabled containerd && { ! systemd_booted || unit_active containerd; }; then
    say "      already installed and running"
    return 0
  fi
  enable_unit containerd "$restart"
}

