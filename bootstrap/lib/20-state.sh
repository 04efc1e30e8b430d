# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 20-state.sh: install state: records, marks, files the bootstrap owns.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- state: what this script created, so uninstall.sh can remove exactly that ---------------------
record() {
  # record KIND PATH: appended once to $STATE_DIR/created.list ("file", "dir", "replaced", "package").
  local line="$1 $2"
  mkdir -p "$STATE_DIR/backup"
  chmod 700 "$STATE_DIR"
  touch "$STATE_DIR/created.list"
  grep -qxF -- "$line" "$STATE_DIR/created.list" || printf '%s\n' "$line" >>"$STATE_DIR/created.list"
}
mark_get() { cat "$STATE_DIR/$1" 2>/dev/null || true; }
mark_set() {
  if (( DRY_RUN )) || [[ $(mark_get "$1") == "$2" ]]; then return 0; fi
  mkdir -p "$STATE_DIR"
  chmod 700 "$STATE_DIR"
  printf '%s\n' "$2" >"$STATE_DIR/$1"
}

ensure_dir() {
  local path=$1 target
  target=$(hp "$path")
  [[ -d $target ]] && return 0
  # Create (and record) missing parents first, outermost first.
  local parent
  parent=$(dirname "$path")
  [[ $parent != "$path" ]] && ensure_dir "$parent"
  if (( DRY_RUN )); then printf '      would create directory %s\n' "$path"; return 0; fi
  mkdir "$target"
  record dir "$path"
  log_line "MKDIR: $path"
}

# put_file PATH MODE < content: writes atomically only when content or mode differ; sets FILE_CHANGED.
FILE_CHANGED=0
put_file() {
  local path=$1 mode=$2 target content
  target=$(hp "$path")
  content=$(cat; printf x)
  content=${content%x}
  if [[ -f $target && $(stat -c %a "$target") == "$mode" ]] && [[ "$(cat "$target"; printf x)" == "${content}x" ]]; then
    FILE_CHANGED=0
    return 0
  fi
  FILE_CHANGED=1
  if (( DRY_RUN )); then printf '      would write %s (mode %s)\n' "$path" "$mode"; return 0; fi
  ensure_dir "$(dirname "$path")"
  if [[ -e $target ]]; then
    if [[ ! -e $STATE_DIR/backup$path ]] && ! grep -qxF "file $path" "$STATE_DIR/created.list" 2>/dev/null; then
      mkdir -p "$(dirname "$STATE_DIR/backup$path")"
      cp -a "$target" "$STATE_DIR/backup$path"
      record replaced "$path"
    fi
  else
    record file "$path"
  fi
  local tmp
  tmp=$(mktemp "$target.olares-tmp.XXXXXX")
  printf '%s' "$content" >"$tmp"
  chmod "$mode" "$tmp"
  mv -f "$tmp" "$target"
  log_line "WRITE: $path (mode $mode)"
}

# install_binary SRC PATH: copies a verified artifact into place (recorded like put_file).
install_binary() {
  local src=$1 path=$2 target
  target=$(hp "$path")
  if [[ -f $target ]] && cmp -s "$src" "$target"; then return 0; fi
  if (( DRY_RUN )); then printf '      would install %s\n' "$path"; return 0; fi
  ensure_dir "$(dirname "$path")"
  [[ -e $target ]] || record file "$path"
  run install -m 0755 "$src" "$target"
}

