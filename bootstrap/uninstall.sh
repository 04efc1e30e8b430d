#!/usr/bin/env bash
# Removes what bootstrap/install.sh created, phase by phase. It reads install.sh's state directory
# (/var/lib/olares-bootstrap) and undoes only what is recorded there: files it wrote are deleted,
# files it replaced are restored, packages it installed are removed.
set -euo pipefail

ROOT=${OLARES_ROOT_PREFIX:-}
ROOT=${ROOT%/}
STATE_DIR="$ROOT/var/lib/olares-bootstrap"
LOG_FILE=${OLARES_BOOTSTRAP_LOG:-$ROOT/var/log/olares-bootstrap.log}
POLL_SECONDS=${OLARES_POLL_SECONDS:-5}
readonly OPERATOR_NAMESPACE=olares-operator
readonly OPERATOR_RELEASE=olares-operator
readonly CRD_NAME=olaresinstallations.olares.com
export KUBECONFIG=${OLARES_KUBECONFIG:-$ROOT/etc/rancher/k3s/k3s.yaml}

hp() { printf '%s%s' "$ROOT" "$1"; }

usage() {
  cat <<'EOF'
Usage: uninstall.sh PHASE... [--dry-run] [--yes]

Phases (any combination; they run in this order):
  --operator   delete the OlaresInstallation (the operator cleans the nodes first), its Secrets,
               the olares-operator Helm release, its namespace and the OlaresInstallation CRD
  --k3s        uninstall K3s (k3s-uninstall.sh / k3s-agent-uninstall.sh) and with it Calico
  --host       stop containerd and undo the host changes install.sh recorded (files, Calico's host
               directories, packages)
  --data       delete the Olares root path (default /olares) with all user data; needs --yes
  --all        --operator --k3s --host (never --data)

Options:
  --dry-run    print what would be removed; change nothing
  --yes        confirm --data
  --timeout S  how long to wait for the OlaresInstallation to be deleted (default 900)
  -h, --help   this help
EOF
}

timestamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
LOG_READY=0
log_line() { if (( LOG_READY )); then printf '%s %s\n' "$(timestamp)" "$*" >>"$LOG_FILE"; fi; }
say() { printf '%s\n' "$*"; log_line "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; log_line "WARNING: $*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; log_line "ERROR: $*"; exit 1; }
quote_cmd() { local out; out=$(printf '%q ' "$@"); printf '%s' "${out% }"; }
have() { command -v "$1" >/dev/null 2>&1; }
systemd_booted() { [[ -d $(hp /run/systemd/system) ]]; }

run() {
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  local rc=0
  "$@" </dev/null >>"$LOG_FILE" 2>&1 || rc=$?
  if (( rc != 0 )); then die "command failed (exit $rc): $(quote_cmd "$@") - see $LOG_FILE"; fi
}
# Removal commands whose target may already be gone: failures are logged, not fatal.
run_tolerant() {
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  "$@" </dev/null >>"$LOG_FILE" 2>&1 || log_line "  (exit $?, ignored)"
}
remove_path() {
  if (( DRY_RUN )); then printf '      would remove %s\n' "$1"; return 0; fi
  rm -rf -- "$(hp "$1")"
  log_line "REMOVE: $1"
}
mark_get() { cat "$STATE_DIR/$1" 2>/dev/null || true; }
mark_clear() { if (( ! DRY_RUN )); then rm -f "$STATE_DIR/$1"; fi; }

DRY_RUN=0
YES=0
TIMEOUT=900
phases=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --operator | --k3s | --host | --data) phases+=("${1#--}") ;;
    --all) phases+=(operator k3s host) ;;
    --dry-run) DRY_RUN=1 ;;
    --yes) YES=1 ;;
    --timeout) [[ $# -ge 2 && $2 =~ ^[1-9][0-9]*$ ]] || die "--timeout needs a number of seconds"; TIMEOUT=$2; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option: $1 (see --help)" ;;
  esac
  shift
done
(( ${#phases[@]} > 0 )) || { usage >&2; exit 2; }
wants() { [[ " ${phases[*]} " == *" $1 "* ]]; }
if wants data && (( ! YES && ! DRY_RUN )); then die "--data deletes all Olares data under the root path; add --yes to confirm"; fi

uninstall_operator() {
  say "Removing the OlaresInstallation and the operator…"
  if ! have kubectl || ! kubectl get --raw /readyz >/dev/null 2>&1; then
    warn "the Kubernetes API is not reachable; skipping the operator phase"
    return 0
  fi
  local name
  name=$(mark_get installation.name)
  if [[ -n $name ]] && kubectl get olaresinstallation "$name" >/dev/null 2>&1; then
    # The operator is still running, so its finalizer can clean the nodes before the CR goes away.
    run kubectl delete olaresinstallation "$name" --wait=false
    if (( ! DRY_RUN )); then
      local deadline=$((SECONDS + TIMEOUT))
      while kubectl get olaresinstallation "$name" >/dev/null 2>&1; do
        (( SECONDS < deadline )) || die "OlaresInstallation/$name still exists after ${TIMEOUT}s; see: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE"
        sleep "$POLL_SECONDS"
      done
    fi
  fi
  run_tolerant kubectl -n "$OPERATOR_NAMESPACE" delete secret -l app.kubernetes.io/managed-by=olares-bootstrap --ignore-not-found
  if have helm && helm status "$OPERATOR_RELEASE" -n "$OPERATOR_NAMESPACE" >/dev/null 2>&1; then
    run helm uninstall "$OPERATOR_RELEASE" -n "$OPERATOR_NAMESPACE" --wait
  fi
  # Helm never deletes CRDs from a chart's crds/ folder, nor the namespace --create-namespace made.
  run_tolerant kubectl delete crd "$CRD_NAME" --ignore-not-found
  run_tolerant kubectl delete namespace "$OPERATOR_NAMESPACE" --ignore-not-found
  mark_clear operator.chart
  mark_clear installation.sha256
  mark_clear installation.name
}

uninstall_k3s() {
  say "Removing K3s…"
  local script found=0
  for script in /usr/local/bin/k3s-uninstall.sh /usr/local/bin/k3s-agent-uninstall.sh; do
    if [[ -x $(hp "$script") ]]; then run "$(hp "$script")"; found=1; fi
  done
  (( found )) || say "      K3s is not installed"
  remove_path /var/lib/rancher/k3s/agent/images
  mark_clear k3s.done
  mark_clear cni.done
}

# Undo created.list bottom-up: restore replaced files, delete created files, then empty directories.
uninstall_host() {
  say "Removing containerd and the host changes…"
  local list="$STATE_DIR/created.list"
  if [[ -n $(mark_get containerd.version) ]]; then
    if systemd_booted; then run_tolerant systemctl disable --now containerd; else run_tolerant systemctl disable containerd; fi
  fi
  if [[ ! -f $list ]]; then say "      nothing recorded"; return 0; fi
  local kind path packages=()
  while read -r kind path; do
    case "$kind" in
      replaced)
        if (( DRY_RUN )); then printf '      would restore %s\n' "$path"
        else cp -a "$STATE_DIR/backup$path" "$(hp "$path")"; log_line "RESTORE: $path"; fi ;;
      file | tree) remove_path "$path" ;;
      dir)
        if (( DRY_RUN )); then printf '      would remove directory %s if empty\n' "$path"
        elif rmdir "$(hp "$path")" 2>/dev/null; then log_line "RMDIR: $path"
        else log_line "  kept $path (not empty or gone)"; fi ;;
      package) packages+=("$path") ;;
    esac
  done < <(tac "$list")
  if (( ${#packages[@]} > 0 )); then
    if have apt-get; then DEBIAN_FRONTEND=noninteractive run apt-get remove -y -q "${packages[@]}"
    elif have dnf; then run dnf remove -y "${packages[@]}"; fi
  fi
  if systemd_booted; then run_tolerant systemctl daemon-reload; fi
  run_tolerant sysctl --system
  if (( DRY_RUN )); then printf '      would remove %s\n' "${STATE_DIR#"$ROOT"}"
  else
    # Keep root.path for a later --data run.
    local root_path
    root_path=$(mark_get root.path)
    rm -rf "$STATE_DIR"
    if [[ -n $root_path ]] && ! wants data; then mkdir -p "$STATE_DIR"; printf '%s\n' "$root_path" >"$STATE_DIR/root.path"; fi
    log_line "REMOVE: ${STATE_DIR#"$ROOT"}"
  fi
}

uninstall_data() {
  local root_path
  root_path=$(mark_get root.path)
  root_path=${root_path:-${OLARES_BASE_DIR:-/olares}}
  [[ $root_path =~ ^(/[A-Za-z0-9_][-A-Za-z0-9._]*)+$ && $root_path != / ]] || die "refusing to delete root path '$root_path'"
  # A root path set to a system directory (OLARES_BASE_DIR=/usr, a typo) must never be wiped.
  case $root_path in
    /bin | /boot | /dev | /etc | /home | /lib | /lib32 | /lib64 | /libx32 | /media | /mnt | /opt | /proc | /root | /run | \
      /sbin | /srv | /sys | /tmp | /usr | /var | /var/lib | /bin/* | /boot/* | /dev/* | /etc/* | /lib/* | /lib64/* | \
      /proc/* | /sbin/* | /sys/* | /usr/*)
      die "refusing to delete root path '$root_path': a system directory" ;;
  esac
  say "Deleting Olares data under $root_path…"
  remove_path "$root_path"
  if (( ! DRY_RUN )); then rm -rf "$STATE_DIR"; fi
}

main() {
  if (( ! DRY_RUN )); then
    mkdir -p "$(dirname "$LOG_FILE")"
    touch "$LOG_FILE"
    chmod 600 "$LOG_FILE"
    LOG_READY=1
    log_line "==== olares uninstall ${phases[*]} (root prefix '${ROOT:-/}')"
  else
    say "Dry run: nothing will be changed."
  fi
  if wants operator; then uninstall_operator; fi
  if wants k3s; then uninstall_k3s; fi
  if wants host; then uninstall_host; fi
  if wants data; then uninstall_data; fi
  if (( DRY_RUN )); then say "Dry run done: nothing was changed and no log was written."
  else say "Done. Log: ${LOG_FILE}"; fi
}

main
