# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 85-operator.sh: phases 7-8: helm and the olares-operator chart.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
install_helm() {
  if have helm; then say "      helm $(helm version --short 2>/dev/null || echo present) found"; return 0; fi
  say "      installing helm $HELM_VERSION"
  if (( DRY_RUN )); then printf '      would download, verify and install helm to /usr/local/bin/helm\n'; return 0; fi
  local tarball
  if [[ -n $opt_airgap && -f $opt_airgap/helm ]]; then
    install_binary "$opt_airgap/helm" /usr/local/bin/helm
  else
    tarball=$(artifact helm)
    mkdir -p "$WORK_DIR/helm"
    tar -xzf "$tarball" -C "$WORK_DIR/helm"
    install_binary "$WORK_DIR/helm/linux-$ARCH/helm" /usr/local/bin/helm
  fi
  PATH="$(hp /usr/local/bin):$PATH"
}

chart_fingerprint() {
  if [[ -n $opt_chart_url ]]; then printf '%s' "$opt_chart_url"; return 0; fi
  (cd "$(local_chart_dir)" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | awk '{print $1}')
}

install_operator() {
  local chart fingerprint
  if [[ -n $opt_chart_url ]]; then chart=$opt_chart_url; else chart=$(cd "$(local_chart_dir)" && pwd); fi
  fingerprint=$(chart_fingerprint)
  if [[ $(mark_get operator.chart) == "$fingerprint" ]] && helm status "$OPERATOR_RELEASE" -n "$OPERATOR_NAMESPACE" >/dev/null 2>&1; then
    say "      chart already installed"
  else
    run helm upgrade --install "$OPERATOR_RELEASE" "$chart" -n "$OPERATOR_NAMESPACE" --create-namespace --wait --timeout 10m
    mark_set operator.chart "$fingerprint"
  fi
  if (( DRY_RUN )); then printf '      would wait for deployment/%s\n' "$OPERATOR_RELEASE"; return 0; fi
  kubectl -n "$OPERATOR_NAMESPACE" rollout status "deployment/$OPERATOR_RELEASE" --timeout=600s >>"$LOG_FILE" 2>&1 \
    || die "the operator did not become ready; logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE"
  detail "operator deployment is ready"
}

# apply_secret NAME KEY VALUE...: applies the Secret only when its data differs from the live one.
