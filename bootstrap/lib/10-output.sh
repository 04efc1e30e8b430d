# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 10-output.sh: output, logging and running commands.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- output and logging ---------------------------------------------------------------------------
timestamp() { date -u +%Y-%m-%dT%H:%M:%SZ; }
log_line() { if (( LOG_READY )); then printf '%s %s\n' "$(timestamp)" "$*" >>"$LOG_FILE"; fi; }
say() { printf '%s\n' "$*"; log_line "$*"; }
# Details go to stderr: several functions return values on stdout.
detail() { log_line "  $*"; if (( VERBOSE )); then printf '      %s\n' "$*" >&2; fi; }
warn() { printf 'WARNING: %s\n' "$*" >&2; log_line "WARNING: $*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; log_line "ERROR: $*"; exit 1; }
quote_cmd() { local out; out=$(printf '%q ' "$@"); printf '%s' "${out% }"; }

STEP_NO=0
STEP_TOTAL=0
step() { STEP_NO=$((STEP_NO + 1)); say "[$STEP_NO/$STEP_TOTAL] $*"; }

init_log() {
  if (( DRY_RUN )); then return 0; fi
  mkdir -p "$(dirname "$LOG_FILE")"
  touch "$LOG_FILE"
  chmod 600 "$LOG_FILE"
  LOG_READY=1
  local shown=() arg hide=0
  for arg in "${ORIGINAL_ARGS[@]}"; do
    if (( hide )); then shown+=(REDACTED); hide=0; continue; fi
    [[ $arg == --token ]] && hide=1
    shown+=("$arg")
  done
  log_line "==== olares bootstrap $(quote_cmd "${shown[@]}") (root prefix '${ROOT:-/}')"
}

# Every command that changes the host goes through run: dry-run prints it, otherwise it is logged and
# its output appended to the log. Secrets never appear in arguments (they travel in env or stdin).
# Commands get /dev/null as stdin (under `curl | bash` stdin is the script itself); run_input feeds them
# a document instead (manifests for kubectl, which may hold secrets and so are never logged).
run() { run_input "" "$@"; }
run_input() {
  local input=$1
  shift
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  local rc=0
  if [[ -n $input ]]; then "$@" <<<"$input" >>"$LOG_FILE" 2>&1 || rc=$?
  else "$@" </dev/null >>"$LOG_FILE" 2>&1 || rc=$?; fi
  if (( rc != 0 )); then die "command failed (exit $rc): $(quote_cmd "$@") - see $LOG_FILE"; fi
}

# attempt: like run, but returns the command's status instead of stopping.
attempt() {
  if (( DRY_RUN )); then printf '      would run: %s\n' "$(quote_cmd "$@")"; return 0; fi
  log_line "RUN: $(quote_cmd "$@")"
  local rc=0
  "$@" </dev/null >>"$LOG_FILE" 2>&1 || rc=$?
  if (( rc != 0 )); then log_line "  (exit $rc)"; fi
  return "$rc"
}

