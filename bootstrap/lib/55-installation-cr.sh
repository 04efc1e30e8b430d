# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 55-installation-cr.sh: the OlaresInstallation built from flags.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- the OlaresInstallation ----------------------------------------------------------------------
# Values are validated above; yq() still quotes them as YAML double-quoted scalars.
yq() { local v=${1//\\/\\\\}; printf '"%s"' "${v//\"/\\\"}"; }

render_cr() {
  printf 'apiVersion: %s\nkind: OlaresInstallation\nmetadata:\n  name: %s\n' "$CR_API_VERSION" "$(yq "$opt_name")"
  printf '  labels:\n    app.kubernetes.io/managed-by: olares-bootstrap\n'
  if [[ -n $opt_cluster_id ]]; then printf '  annotations:\n    olares.com/cluster-id: %s\n' "$(yq "$opt_cluster_id")"; fi
  printf 'spec:\n  version: %s\n' "$(yq "$opt_version")"
  printf '  owner:\n    username: %s\n' "$(yq "$opt_username")"
  if [[ -n $opt_domain ]]; then printf '    domain: %s\n' "$(yq "$opt_domain")"; fi
  if [[ -n $opt_email ]]; then printf '    email: %s\n' "$(yq "$opt_email")"; fi
  if [[ -n $owner_password ]]; then printf '    passwordSecretRef:\n      name: %s\n      key: password\n' "$OWNER_PASSWORD_SECRET"; fi
  printf '  kubernetes:\n    distribution: %s\n' "$opt_kube_type"
  if (( ${#MIRROR_REGISTRIES[@]} > 0 )); then
    printf '  registry:\n    mirrors:\n'
    local i endpoint
    for i in "${!MIRROR_REGISTRIES[@]}"; do
      printf '      - registry: %s\n        endpoints:\n' "$(yq "${MIRROR_REGISTRIES[$i]}")"
      for endpoint in ${MIRROR_ENDPOINTS[$i]//,/ }; do printf '          - %s\n' "$(yq "$endpoint")"; done
    done
  fi
  printf '  storage:\n    type: %s\n' "$STORAGE_KIND"
  if [[ -n $opt_base_dir ]]; then printf '    rootPath: %s\n' "$(yq "$opt_base_dir")"; fi
  if [[ $STORAGE_KIND == JuiceFS ]]; then
    printf '    juicefs:\n      objectStore:\n        type: %s\n' "$OBJECT_STORE_TYPE"
    if [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; then
      if [[ -n $BUCKET_ENDPOINT ]]; then printf '        endpoint: %s\n' "$(yq "$BUCKET_ENDPOINT")"; fi
      printf '        bucket: %s\n' "$(yq "$BUCKET_NAME")"
      if [[ -n $BUCKET_REGION ]]; then printf '        region: %s\n' "$(yq "$BUCKET_REGION")"; fi
      printf '        credentialsSecretRef:\n          name: %s\n' "$OBJECT_STORE_SECRET"
      if [[ -n ${AWS_SESSION_TOKEN_SETUP:-} ]]; then printf '          sessionTokenKey: AWS_SESSION_TOKEN\n'; fi
    fi
  fi
  if [[ -n $opt_gpu ]] || truthy "$opt_gpu_share"; then
    printf '  gpu:\n'
    if [[ -n $opt_gpu ]]; then printf '    enabled: "%s"\n' "$opt_gpu"; fi
    if truthy "$opt_gpu_share"; then printf '    sharing:\n      mode: HAMi\n'; fi
  fi
}

# What the storage choice means on this host, for --dry-run (the operator's node agent does the work).
describe_storage() {
  local root=${opt_base_dir:-/olares}
  if [[ $STORAGE_KIND != JuiceFS ]]; then
    printf '      storage: LocalFS: %s/rootfs on this disk\n' "$root"
    return 0
  fi
  local store
  case "$OBJECT_STORE_TYPE" in
    ManagedMinIO) store="MinIO managed on this node (minio.service, data in $root/data/minio/vol1)" ;;
    *) store="$OBJECT_STORE_TYPE bucket $BUCKET_NAME${BUCKET_ENDPOINT:+ at $BUCKET_ENDPOINT}${BUCKET_REGION:+ in $BUCKET_REGION}" ;;
  esac
  printf '      storage: JuiceFS volume on %s, metadata in Redis managed on this node (redis-server.service, db 1)\n' "$store"
  local files="$root/data/redis/etc/redis.conf"
  if [[ $OBJECT_STORE_TYPE == ManagedMinIO ]]; then files+=", /etc/default/minio"; fi
  printf '      the node agent then writes %s and /etc/olares/juicefs.env (0600), formats the volume,\n' "$files"
  printf '      starts juicefs.service (mount at %s/rootfs, cache %s/jfscache) and a K3s drop-in After=juicefs.service;\n' "$root" "$root"
  printf '      olares-operator plan -f <(install.sh --print-cr) lists every file and unit\n'
  if [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; then
    local keys="AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"
    if [[ -n ${AWS_SESSION_TOKEN_SETUP:-} ]]; then keys+=", AWS_SESSION_TOKEN"; fi
    printf '      would create Secret %s/%s (keys %s; values never shown)\n' "$OPERATOR_NAMESPACE" "$OBJECT_STORE_SECRET" "$keys"
  fi
}

# Secret manifest for stdin of kubectl; values base64-encoded so no quoting issue can arise.
render_secret() {
  local name=$1
  shift
  printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' "$name" "$OPERATOR_NAMESPACE"
  printf '  labels:\n    app.kubernetes.io/managed-by: olares-bootstrap\ntype: Opaque\ndata:\n'
  while [[ $# -ge 2 ]]; do
    printf '  %s: %s\n' "$1" "$(printf '%s' "$2" | base64 | tr -d '\n')"
    shift 2
  done
}

