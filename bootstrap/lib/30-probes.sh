# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 30-probes.sh: probes of the host.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- probes: small readers so tests can stub them (files under ROOT, commands on PATH) -------------
# No /etc/os-release yields "" (reported as an unknown OS), not a silent exit under pipefail.
os_release_field() { { sed -n "s/^$1=//p" "$(hp /etc/os-release)" 2>/dev/null || true; } | head -n1 | tr -d '"'"'"; }
machine_arch() {
  case "$(uname -m)" in
    x86_64 | amd64) echo amd64 ;;
    aarch64 | arm64) echo arm64 ;;
    *) uname -m ;;
  esac
}
pid1_name() { cat "$(hp /proc/1/comm)" 2>/dev/null || echo unknown; }
cpu_count() { nproc; }
mem_total_kib() { awk '/^MemTotal:/ {print $2}' "$(hp /proc/meminfo)" 2>/dev/null || echo 0; }
# Free KiB on the filesystem holding PATH (or its nearest existing ancestor).
disk_free_kib() {
  local dir
  dir=$(hp "$1")
  while [[ ! -e $dir && $dir != / && -n $dir ]]; do dir=$(dirname "$dir"); done
  df -Pk "${dir:-/}" | awk 'NR == 2 {print $4}'
}
listening_ports() { ss -Htln | awk '{n = split($4, a, ":"); print a[n]}' | sort -un; }
systemd_booted() { [[ -d $(hp /run/systemd/system) ]]; }
time_synchronized() { [[ $(timedatectl show -p NTPSynchronized --value 2>/dev/null) == yes ]]; }
have() { command -v "$1" >/dev/null 2>&1; }

