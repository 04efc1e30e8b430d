# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 90-installation.sh: phases 9-10: the OlaresInstallation, followed until Ready.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
apply_secret() {
  local name=$1 manifest desired live
  manifest=$(render_secret "$@")
  desired=$(printf '%s\n' "$manifest" | sed -n '/^data:/,$p' | tail -n +2 | sort)
  # shellcheck disable=SC2016 # a go-template, not shell
  live=$(kubectl -n "$OPERATOR_NAMESPACE" get secret "$name" -o go-template='{{range $k, $v := .data}}  {{$k}}: {{$v}}{{"\n"}}{{end}}' 2>/dev/null | sort || true)
  if [[ -n $live && $live == "$desired" ]]; then detail "secret $name is up to date"; return 0; fi
  run_input "$manifest" kubectl apply --server-side --field-manager=olares-bootstrap -f -
}

CR_NAME=""
# metadata.name of the (first) OlaresInstallation document in a multi-document YAML file.
config_installation_name() {
  awk '
    /^---/ { if (oi && name != "") { print name; found = 1; exit } oi = 0; name = ""; m = 0; next }
    /^kind:[[:space:]]*OlaresInstallation[[:space:]]*$/ { oi = 1 }
    /^metadata:/ { m = 1; next }
    m && /^[^ ]/ { m = 0 }
    m && /^  name:/ { name = $2; gsub(/["\047]/, "", name) }
    END { if (!found && oi && name != "") print name }' "$1"
}

apply_installation() {
  local manifest fingerprint
  if [[ -n $opt_config ]]; then
    # The file may also hold Secrets: it is applied as is and never logged.
    manifest=$(cat "$opt_config")
    CR_NAME=$(config_installation_name "$opt_config")
    [[ -n $CR_NAME ]] || die "--config $opt_config: no OlaresInstallation with a metadata.name found"
  else
    manifest=$(render_cr)
    CR_NAME=$opt_name
    if (( DRY_RUN )); then
      printf '      the OlaresInstallation it applies (--print-cr):\n'
      printf '%s\n' "$manifest" | sed 's/^/        /'
      describe_storage
    fi
    if [[ -n $owner_password ]]; then apply_secret "$OWNER_PASSWORD_SECRET" password "$owner_password"; fi
    if [[ $STORAGE_KIND == JuiceFS && $OBJECT_STORE_TYPE != ManagedMinIO ]]; then
      local keys=(AWS_ACCESS_KEY_ID "$AWS_ACCESS_KEY_ID_SETUP" AWS_SECRET_ACCESS_KEY "$AWS_SECRET_ACCESS_KEY_SETUP")
      if [[ -n ${AWS_SESSION_TOKEN_SETUP:-} ]]; then keys+=(AWS_SESSION_TOKEN "$AWS_SESSION_TOKEN_SETUP"); fi
      apply_secret "$OBJECT_STORE_SECRET" "${keys[@]}"
    fi
  fi
  fingerprint=$(printf '%s' "$manifest" | sha256sum | awk '{print $1}')
  if [[ $(mark_get installation.sha256) == "$fingerprint" ]] && kubectl get olaresinstallation "$CR_NAME" >/dev/null 2>&1; then
    say "      OlaresInstallation/$CR_NAME is up to date"
    return 0
  fi
  if [[ -z $opt_config ]]; then detail "OlaresInstallation:"$'\n'"$manifest"; fi
  run_input "$manifest" kubectl apply --server-side --field-manager=olares-bootstrap -f -
  mark_set installation.sha256 "$fingerprint"
  mark_set installation.name "$CR_NAME"
}

follow_status() {
  if (( DRY_RUN )); then printf '      would follow OlaresInstallation/%s until Ready (timeout %ss)\n' "${CR_NAME:-$opt_name}" "$opt_timeout"; return 0; fi
  local deadline=$((SECONDS + opt_timeout)) line last="" phase message degraded_since=-1
  local not_ready degraded_message
  # phase, message, the False conditions ("Type: message; ..."), the Degraded condition's message.
  local jsonpath='{.status.phase}{"\t"}{.status.message}{"\t"}{range .status.conditions[?(@.status=="False")]}{.type}: {.message}; {end}{"\t"}{.status.conditions[?(@.type=="Degraded")].message}'
  while :; do
    line=$(kubectl get olaresinstallation "$CR_NAME" -o jsonpath="$jsonpath" 2>/dev/null || true)
    IFS=$'\t' read -r phase message not_ready degraded_message <<<"$line" || true
    if [[ $line != "$last" ]]; then
      say "      ${phase:-Pending}${message:+: $message}"
      last=$line
    fi
    case "$phase" in
      Ready) say "      Olares is Ready. Owner: ${opt_username:-see the CR}@${opt_domain:-olares.com}"; return 0 ;;
      Degraded)
        (( degraded_since >= 0 )) || degraded_since=$SECONDS
        if (( SECONDS - degraded_since >= ${OLARES_DEGRADED_GRACE_SECONDS:-120} )); then
          say "FAILED: OlaresInstallation/$CR_NAME is Degraded: ${degraded_message:-$message}"
          if [[ -n $not_ready ]]; then say "Not ready: $not_ready"; fi
          say "Operator logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE"
          say "Details: kubectl get olaresinstallation $CR_NAME -o yaml ; bootstrap log: $LOG_FILE"
          exit 1
        fi ;;
      Ignored) say "FAILED: OlaresInstallation/$CR_NAME is Ignored: ${message:-another OlaresInstallation is active}"; exit 1 ;;
      *) degraded_since=-1 ;;
    esac
    if (( SECONDS >= deadline )); then
      say "FAILED: OlaresInstallation/$CR_NAME not Ready after ${opt_timeout}s (phase ${phase:-unknown}${message:+: $message})"
      say "Operator logs: kubectl -n $OPERATOR_NAMESPACE logs deploy/$OPERATOR_RELEASE ; bootstrap log: $LOG_FILE"
      exit 1
    fi
    sleep "$POLL_SECONDS"
  done
}

