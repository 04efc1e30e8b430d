#!/bin/sh
# Stands in for the K3s install script: with INSTALL_K3S_SKIP_DOWNLOAD it only writes the systemd unit
# and the uninstall script, then enables (and unless INSTALL_K3S_SKIP_START, starts) the service.
# Records the exec line and whether a token was given (never the token itself).
set -eu
bin_dir=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
systemd_dir=${INSTALL_K3S_SYSTEMD_DIR:-/etc/systemd/system}
case "${INSTALL_K3S_EXEC:-server}" in
  agent*) unit=k3s-agent; uninstall=k3s-agent-uninstall.sh ;;
  *) unit=k3s; uninstall=k3s-uninstall.sh ;;
esac
if [ -n "${STUB_CALLS:-}" ]; then
  token=no
  [ -n "${K3S_TOKEN:-}" ] && token=yes
  printf 'k3s-install exec=%s url=%s token=%s skip_start=%s\n' "${INSTALL_K3S_EXEC:-}" "${K3S_URL:-}" "$token" "${INSTALL_K3S_SKIP_START:-false}" >>"$STUB_CALLS"
fi
[ -x "$bin_dir/k3s" ] || { echo "k3s binary missing in $bin_dir" >&2; exit 1; }
mkdir -p "$systemd_dir"
cat >"$systemd_dir/$unit.service" <<EOF
[Unit]
Description=Lightweight Kubernetes (test stub)
[Service]
ExecStart=/usr/local/bin/k3s ${INSTALL_K3S_EXEC:-server}
[Install]
WantedBy=multi-user.target
EOF
[ -e "$bin_dir/kubectl" ] || ln -s k3s "$bin_dir/kubectl"
cat >"$bin_dir/$uninstall" <<EOF
#!/bin/sh
systemctl stop $unit >/dev/null 2>&1 || true
systemctl disable $unit >/dev/null 2>&1 || true
rm -f "$systemd_dir/$unit.service" "$bin_dir/k3s" "$bin_dir/kubectl" "$bin_dir/$uninstall"
EOF
chmod 755 "$bin_dir/$uninstall"
systemctl enable "$unit"
[ "${INSTALL_K3S_SKIP_START:-false}" = true ] || systemctl start "$unit"
