# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 99-main.sh: main: the phases in order.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
cleanup() { if [[ -n $WORK_DIR ]]; then rm -rf "$WORK_DIR"; fi; }

main() {
  validate_common_options
  parse_mirrors
  local build_cr=0
  if server_installs_operator && [[ -z $opt_config ]]; then build_cr=1; fi
  if (( PRINT_CR )); then
    [[ -z $opt_config ]] || die "--print-cr prints the CR built from flags; with --config the file is the CR"
    validate_cr_options
    report_errors_or_continue
    render_cr
    exit 0
  fi
  if (( build_cr )); then validate_cr_options; fi
  report_errors_or_continue

  init_log
  WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/olares-bootstrap.XXXXXX")
  trap cleanup EXIT
  if (( DRY_RUN )); then say "Dry run: nothing will be changed."; fi

  if truthy "$opt_join"; then STEP_TOTAL=5
  elif truthy "$opt_preinstall"; then STEP_TOTAL=6
  else STEP_TOTAL=10; fi

  step "Preflight checks…"
  preflight
  mark_set root.path "$ROOT_PATH"
  step "Installing base packages…"
  install_packages
  step "Configuring kernel modules and sysctl…"
  configure_kernel
  step "Installing containerd…"
  install_containerd
  if truthy "$opt_join"; then
    step "Joining the cluster as a K3s agent…"
    install_k3s
    say "Done: this node joins $opt_server as a worker."
    finish_dry_run
    return 0
  fi
  step "Installing K3s…"
  install_k3s
  wait_for_api
  step "Installing the pod network…"
  install_cni
  if truthy "$opt_preinstall"; then
    say "Done: host and K3s are prepared (PREINSTALL); no operator or OlaresInstallation was created."
    finish_dry_run
    return 0
  fi
  step "Installing helm…"
  install_helm
  step "Installing the olares-operator chart…"
  install_operator
  step "Creating the OlaresInstallation…"
  apply_installation
  step "Waiting for Olares to be Ready…"
  follow_status
  finish_dry_run
}

# A dry run whose preflight failed exits 1 after showing every step (scripts can tell it would fail).
finish_dry_run() {
  if (( DRY_RUN && PREFLIGHT_FAILED )); then say "Dry run done: preflight failed (see above); a real run stops there."; exit 1; fi
  return 0
}

main
