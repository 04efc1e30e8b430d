# shellcheck shell=bash disable=SC2034,SC2154  # a part: its variables are set and read across parts
# bootstrap/install.sh, 50-validation.sh: validation of user input.
# Edit here, then run hack/bundle-bootstrap.sh (install.sh is one file, so curl | sudo bash works).
# ----- validation of user input: clear errors naming the flag/variable and the rule ------------------
ERRORS=()
bad() { ERRORS+=("$*"); }
dns_name_re='^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'
https_url_re='^https://[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(/[-A-Za-z0-9._~%/]*)?$'
http_url_re='^https?://[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*(:[0-9]{1,5})?(/[-A-Za-z0-9._~%/]*)?$'
semver_re='^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$'
path_re='^(/[A-Za-z0-9_][-A-Za-z0-9._]*)+$'

validate_common_options() {
  [[ $opt_cni =~ ^(calico|flannel)$ ]] || bad "--cni/OLARES_CNI: '$opt_cni' must be calico or flannel"
  [[ $opt_kube_type =~ ^(k3s|k8s)$ ]] || bad "--kube-type/KUBE_TYPE: '$opt_kube_type' must be k3s or k8s"
  [[ $opt_base_dir == "" || $opt_base_dir =~ $path_re ]] || bad "--base-dir/OLARES_BASE_DIR: '$opt_base_dir' must be an absolute path of letters, digits, . _ -"
  [[ $opt_timeout =~ ^[1-9][0-9]*$ ]] || bad "--timeout: '$opt_timeout' must be a positive number of seconds"
  [[ $opt_min_disk_gib =~ ^[0-9]+$ ]] || bad "--min-disk-gib: '$opt_min_disk_gib' must be a whole number"
  local check
  for check in ${opt_skip_checks//,/ }; do
    [[ " $CHECK_NAMES " == *" $check "* ]] || bad "--skip-check: unknown check '$check' (one of: $CHECK_NAMES)"
  done
  if [[ -n $opt_airgap && ! -d $opt_airgap ]]; then bad "--airgap: '$opt_airgap' is not a directory"; fi
  if truthy "$opt_join"; then
    [[ -n $opt_server ]] || bad "--join needs --server URL (or K3S_URL)"
    [[ -z $opt_server || $opt_server =~ $https_url_re ]] || bad "--server/K3S_URL: '$opt_server' must be an https:// URL, e.g. https://10.0.0.1:6443"
    [[ -n $join_token ]] || bad "--join needs --token (or K3S_TOKEN)"
  fi
  if [[ -n $opt_config && ! -r $opt_config ]]; then bad "--config: cannot read '$opt_config'"; fi
}

# Parsed registry mirrors: parallel arrays of registry and comma-joined endpoints, in first-seen order.
MIRROR_REGISTRIES=()
MIRROR_ENDPOINTS=()
parse_mirrors() {
  local item registry url i found
  for item in ${opt_mirrors//,/ }; do
    if [[ $item == *=* ]]; then registry=${item%%=*}; url=${item#*=}; else registry=docker.io; url=$item; fi
    [[ $registry =~ ^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*(:[0-9]{1,5})?$ ]] \
      || { bad "--registry-mirror/REGISTRY_MIRRORS: registry '$registry' must be a host name like docker.io"; continue; }
    [[ $url =~ $https_url_re ]] || { bad "--registry-mirror/REGISTRY_MIRRORS: '$url' must be an https:// URL"; continue; }
    found=""
    for i in "${!MIRROR_REGISTRIES[@]}"; do
      if [[ ${MIRROR_REGISTRIES[$i]} == "$registry" ]]; then MIRROR_ENDPOINTS[i]+=",$url"; found=1; fi
    done
    if [[ -z $found ]]; then MIRROR_REGISTRIES+=("$registry"); MIRROR_ENDPOINTS+=("$url"); fi
  done
}

# Storage derived from JUICEFS / STORAGE_TYPE / S3_BUCKET.
STORAGE_KIND=LocalFS
OBJECT_STORE_TYPE=""
BUCKET_NAME=""
BUCKET_ENDPOINT=""
BUCKET_REGION=""
resolve_storage() {
  local st=${opt_storage_type,,}
  case "$st" in
    "" | managed-minio) OBJECT_STORE_TYPE=ManagedMinIO ;;
    s3) OBJECT_STORE_TYPE=S3 ;;
    oss) OBJECT_STORE_TYPE=OSS ;;
    cos) OBJECT_STORE_TYPE=COS ;;
    minio) OBJECT_STORE_TYPE=MinIO ;;
    *) bad "--storage-type/STORAGE_TYPE: '$opt_storage_type' must be one of managed-minio, s3, oss, cos, minio"; return 0 ;;
  esac
  case "${opt_rootfs_type,,}" in
    "" | fs) ;;
    jfs)
      if [[ -n ${OLARES_JUICEFS:-${JUICEFS:-}} ]] && ! truthy "$opt_juicefs"; then
        bad "OLARES_SYSTEM_ROOTFS_TYPE=jfs conflicts with JUICEFS=${OLARES_JUICEFS:-${JUICEFS:-}}"
      fi
      opt_juicefs=1 ;;
    *) bad "OLARES_SYSTEM_ROOTFS_TYPE: '$opt_rootfs_type' must be jfs (JuiceFS) or fs (local disk)" ;;
  esac
  if [[ ${opt_rootfs_type,,} == fs ]] && { truthy "$opt_juicefs" || [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; }; then
    if truthy "$opt_juicefs"; then bad "OLARES_SYSTEM_ROOTFS_TYPE=fs conflicts with --juicefs/JUICEFS=1"
    else bad "OLARES_SYSTEM_ROOTFS_TYPE=fs conflicts with STORAGE_TYPE=$opt_storage_type (an external object store means JuiceFS)"; fi
  fi
  if truthy "$opt_juicefs" || [[ $OBJECT_STORE_TYPE != ManagedMinIO ]]; then STORAGE_KIND=JuiceFS; fi
  [[ $STORAGE_KIND == JuiceFS && $OBJECT_STORE_TYPE != ManagedMinIO ]] || return 0

  BUCKET_REGION=$opt_s3_region
  BUCKET_ENDPOINT=$opt_s3_endpoint
  local bucket=$opt_s3_bucket
  if [[ $bucket =~ ^(https?)://([^/]+)(/([^/]+))?/?$ ]]; then
    local scheme=${BASH_REMATCH[1]} host=${BASH_REMATCH[2]} path_bucket=${BASH_REMATCH[4]}
    if [[ -n $path_bucket ]]; then
      # Path style (MinIO): http://minio.example.com:9000/bucket
      BUCKET_NAME=$path_bucket
      BUCKET_ENDPOINT=${BUCKET_ENDPOINT:-$scheme://$host}
    else
      # Virtual-hosted style (S3/OSS/COS): https://bucket.s3.us-east-1.amazonaws.com
      BUCKET_NAME=${host%%.*}
      BUCKET_ENDPOINT=${BUCKET_ENDPOINT:-$scheme://${host#*.}}
    fi
  else
    BUCKET_NAME=$bucket
  fi
  [[ -n $BUCKET_NAME ]] || bad "--s3-bucket/S3_BUCKET is required with STORAGE_TYPE=$opt_storage_type"
  [[ -z $BUCKET_NAME || $BUCKET_NAME =~ ^[a-z0-9][-a-z0-9.]{1,61}[a-z0-9]$ ]] \
    || bad "--s3-bucket/S3_BUCKET: bucket name '$BUCKET_NAME' must be 3-63 lower-case letters, digits, dots or hyphens"
  # The operator's bucket rules (api/semantic-rules.ts, juicefs-bucket-name), so the CR is not refused later.
  if [[ $BUCKET_NAME == *..* || $BUCKET_NAME == *.-* || $BUCKET_NAME == *-.* ]]; then
    bad "--s3-bucket/S3_BUCKET: bucket name '$BUCKET_NAME' must not have two dots in a row or a dot next to a hyphen"
  fi
  if [[ ($OBJECT_STORE_TYPE == OSS || $OBJECT_STORE_TYPE == COS) && $BUCKET_NAME == *.* ]]; then
    bad "--s3-bucket/S3_BUCKET: $OBJECT_STORE_TYPE bucket names have no dots ('$BUCKET_NAME')"
  fi
  [[ -z $BUCKET_ENDPOINT || $BUCKET_ENDPOINT =~ $http_url_re ]] || bad "--s3-endpoint: '$BUCKET_ENDPOINT' must be an http(s) URL"
  [[ -z $BUCKET_REGION || $BUCKET_REGION =~ ^[a-z0-9][-a-z0-9]*[a-z0-9]$ ]] || bad "--s3-region: '$BUCKET_REGION' is not a region name"
  if [[ $OBJECT_STORE_TYPE == MinIO && -z $BUCKET_ENDPOINT ]]; then bad "STORAGE_TYPE=minio needs an endpoint: S3_BUCKET=http://host:9000/bucket or --s3-endpoint"; fi
  if [[ -z $BUCKET_ENDPOINT && -z $BUCKET_REGION ]]; then bad "STORAGE_TYPE=$opt_storage_type needs --s3-region or --s3-endpoint (or S3_BUCKET as a bucket URL)"; fi
  [[ -n ${AWS_ACCESS_KEY_ID_SETUP:-} && -n ${AWS_SECRET_ACCESS_KEY_SETUP:-} ]] \
    || bad "STORAGE_TYPE=$opt_storage_type needs AWS_ACCESS_KEY_ID_SETUP and AWS_SECRET_ACCESS_KEY_SETUP"
}

validate_cr_options() {
  opt_version=${opt_version:-$OLARES_DEFAULT_VERSION}
  [[ $opt_version =~ $semver_re ]] || bad "--version/OLARES_VERSION: '$opt_version' must be a semantic version like 1.12.1"
  [[ $opt_name =~ $dns_name_re && ${#opt_name} -le 253 ]] || bad "--name: '$opt_name' must be a lower-case DNS name"
  if [[ -z $opt_username ]]; then
    bad "owner username is required: --username or TERMINUS_OS_USERNAME"
  elif ! [[ $opt_username =~ ^[a-z][a-z0-9]{1,31}$ ]]; then
    bad "--username/TERMINUS_OS_USERNAME: '$opt_username' must start with a-z, then 1-31 of a-z 0-9"
  fi
  [[ -z $opt_domain || ($opt_domain =~ $dns_name_re && ${#opt_domain} -le 253) ]] || bad "--domain/TERMINUS_OS_DOMAINNAME: '$opt_domain' must be a lower-case DNS name"
  [[ -z $opt_email || $opt_email =~ ^[^@[:space:]\"]+@[^@[:space:]\"]+\.[^@[:space:]\"]+$ ]] || bad "--email/TERMINUS_OS_EMAIL: '$opt_email' is not an email address"
  # Length only: the password's characters are never echoed, not even in an error.
  [[ -z $owner_password || (${#owner_password} -ge 6 && ${#owner_password} -le 32) ]] || bad "TERMINUS_OS_PASSWORD must be 6 to 32 characters"
  case "${opt_gpu,,}" in "" | auto | true | false) opt_gpu=${opt_gpu,,} ;; *) bad "--gpu/LOCAL_GPU_ENABLE: '$opt_gpu' must be auto, true or false" ;; esac
  if truthy "$opt_gpu_share" && [[ $opt_gpu == false ]]; then bad "LOCAL_GPU_SHARE=1 conflicts with GPUs disabled (LOCAL_GPU_ENABLE=0 / --gpu false)"; fi
  [[ -z $opt_cluster_id || $opt_cluster_id =~ ^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$ ]] || bad "--cluster-id/CLUSTER_ID: '$opt_cluster_id' must be letters, digits, - _ . (max 63)"
  resolve_storage
}

report_errors_or_continue() {
  (( ${#ERRORS[@]} == 0 )) && return 0
  printf 'ERROR: invalid settings:\n' >&2
  printf '  - %s\n' "${ERRORS[@]}" >&2
  exit 2
}

