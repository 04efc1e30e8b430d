# shellcheck shell=bash
# One build of a tool cache at a time across processes: setup's background builds and a test that needs
# the tool now take the same lock, so the second waits for the first and then finds the tool cached.
# build_lock <lock-file> <who>: takes the lock on fd 9 and holds it until the calling script exits.
build_lock() {
  local file=$1 who=$2
  mkdir -p "$(dirname "$file")"
  exec 9>"$file"
  if ! flock -n 9; then
    printf '%s: another build holds %s; waiting for it\n' "$who" "$file" >&2
    flock 9
  fi
}
