# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 70-host.sh: phases 2-3: base packages, kernel modules and sysctl.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- steps ----------------------------------------------------------------------------------------
install_packages() {
  local missing=() pkg
  if have apt-get; then
    local installed
    installed=" $(dpkg-query -W -f='${Package} ${Status}\n' "${APT_PACKAGES[@]}" 2>/dev/null \
      | awk '$2 == "install" && $4 == "installed" {printf "%s ", $1}' || true)"
    for pkg in "${APT_PACKAGES[@]}"; do [[ $installed == *" $pkg "* ]] || missing+=("$pkg"); done
    if (( ${#missing[@]} == 0 )); then say "      already installed"; return 0; fi
    say "      installing ${missing[*]}"
    # Refresh the package lists only when the install needs it (stale lists, or none yet).
    if ! DEBIAN_FRONTEND=noninteractive attempt apt-get install -y -q --no-install-recommends "${missing[@]}"; then
      DEBIAN_FRONTEND=noninteractive run apt-get update -q
      DEBIAN_FRONTEND=noninteractive run apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
  elif have dnf; then
    for pkg in "${DNF_PACKAGES[@]}"; do rpm -q "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
    if (( ${#missing[@]} == 0 )); then say "      already installed"; return 0; fi
    say "      installing ${missing[*]}"
    run dnf install -y "${missing[@]}"
  else
    die "no supported package manager (apt-get or dnf)"
  fi
  if (( ! DRY_RUN )); then for pkg in "${missing[@]}"; do record package "$pkg"; done; fi
}

configure_kernel() {
  local changed=0
  put_file /etc/modules-load.d/olares.conf 644 <<'EOF'
# Written by olares bootstrap: kernel modules K3s and the CNI need.
overlay
br_netfilter
EOF
  (( FILE_CHANGED )) && changed=1
  # Not 90-olares.conf: that file belongs to the node agent (spec.os.sysctl), which would overwrite
  # this one and report our next re-run as drift. Later files win, so the spec's values prevail.
  put_file /etc/sysctl.d/80-olares-bootstrap.conf 644 <<'EOF'
# Written by olares bootstrap: forwarding and bridge filtering for Kubernetes networking.
net.ipv4.ip_forward = 1
net.ipv6.conf.all.forwarding = 1
net.bridge.bridge-nf-call-iptables = 1
net.bridge.bridge-nf-call-ip6tables = 1
fs.inotify.max_user_instances = 8192
fs.inotify.max_user_watches = 524288
EOF
  (( FILE_CHANGED )) && changed=1
  if (( changed == 0 )); then say "      already configured"; return 0; fi
  run modprobe overlay
  run modprobe br_netfilter
  run sysctl --system
}

