#!/usr/bin/env bats
# olares-cli environment variables and flags -> the OlaresInstallation install.sh applies (--print-cr).

load helpers

setup() {
  setup_fake_host
  export_owner
}

# validate_cr: the API's own offline validator (schema + CEL rules) must accept the printed CR.
validate_cr() {
  run bash -c "cd '$REPO_ROOT' && '$REPO_ROOT/node_modules/.bin/tsx' operator/src/cli/main.ts validate -f -" <<<"$1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *": valid"* ]]
}

@test "defaults: version, owner and LocalFS; nothing else is set" {
  run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  expected='apiVersion: olares.com/v1alpha1
kind: OlaresInstallation
metadata:
  name: "olares"
  labels:
    app.kubernetes.io/managed-by: olares-bootstrap
spec:
  version: "1.12.1"
  owner:
    username: "alice"
  kubernetes:
    distribution: k3s
  storage:
    type: LocalFS'
  [ "$output" == "$expected" ]
  validate_cr "$output"
}

@test "OLARES_VERSION -> spec.version" {
  OLARES_VERSION=1.13.0-rc.1 run "$INSTALL" --print-cr
  [[ $output == *'  version: "1.13.0-rc.1"'* ]]
}

@test "TERMINUS_OS_USERNAME, TERMINUS_OS_DOMAINNAME, TERMINUS_OS_EMAIL -> spec.owner" {
  TERMINUS_OS_USERNAME=bob TERMINUS_OS_DOMAINNAME=home.example.org TERMINUS_OS_EMAIL=bob@example.org run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  [[ $output == *'  owner:
    username: "bob"
    domain: "home.example.org"
    email: "bob@example.org"'* ]]
}

@test "TERMINUS_OS_PASSWORD -> passwordSecretRef; the password itself is not printed" {
  TERMINUS_OS_PASSWORD='p@ss"word!' run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  [[ $output == *'    passwordSecretRef:
      name: olares-owner-password
      key: password'* ]]
  [[ $output != *'p@ss'* ]]
  validate_cr "$output"
}

@test "TERMINUS_OS_PASSWORD must be 6 to 32 characters, and the error does not echo it" {
  TERMINUS_OS_PASSWORD=abc run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"TERMINUS_OS_PASSWORD must be 6 to 32 characters"* ]]
  [[ $output != *"abc"* ]]
}

@test "OLARES_BASE_DIR -> spec.storage.rootPath" {
  OLARES_BASE_DIR=/data/olares run "$INSTALL" --print-cr
  [[ $output == *'    rootPath: "/data/olares"'* ]]
}

@test "KUBE_TYPE -> spec.kubernetes.distribution" {
  KUBE_TYPE=k8s run "$INSTALL" --print-cr
  [[ $output == *'    distribution: k8s'* ]]
  KUBE_TYPE=k0s run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"--kube-type/KUBE_TYPE: 'k0s' must be k3s or k8s"* ]]
}

# plan_cr: the operator's offline plan of the printed CR must show the real JuiceFS host steps.
plan_cr() {
  run bash -c "cd '$REPO_ROOT' && '$REPO_ROOT/node_modules/.bin/tsx' operator/src/cli/main.ts plan -f -" <<<"$1"
  echo "$output"
  [ "$status" -eq 0 ]
  [[ $output == *"Storage on node-1 (JuiceFS;"* ]]
  [[ $output == *"unit juicefs.service enabled, started: mount at "* ]]
  [[ $output == *"k3s.service.d/10-olares-juicefs.conf (After=juicefs.service"* ]]
}

@test "--juicefs -> a CR that validates and plans Redis, MinIO, the JuiceFS mount and the K3s drop-in" {
  run "$INSTALL" --juicefs --print-cr
  [ "$status" -eq 0 ]
  cr=$output
  validate_cr "$cr"
  plan_cr "$cr"
  [[ $output == *"unit redis-server.service enabled, started"* ]]
  [[ $output == *"unit minio.service enabled, started"* ]]
}

@test "OLARES_SYSTEM_ROOTFS_TYPE=jfs (olares-cli's rootfs type) -> JuiceFS; fs keeps LocalFS; anything else is refused" {
  OLARES_SYSTEM_ROOTFS_TYPE=jfs run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  [[ $output == *'    type: JuiceFS
    juicefs:
      objectStore:
        type: ManagedMinIO'* ]]
  validate_cr "$output"
  OLARES_SYSTEM_ROOTFS_TYPE=fs run "$INSTALL" --print-cr
  [[ $output == *'    type: LocalFS'* ]]
  OLARES_SYSTEM_ROOTFS_TYPE=xfs run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"OLARES_SYSTEM_ROOTFS_TYPE: 'xfs' must be jfs (JuiceFS) or fs (local disk)"* ]]
  OLARES_SYSTEM_ROOTFS_TYPE=fs run "$INSTALL" --juicefs --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"OLARES_SYSTEM_ROOTFS_TYPE=fs conflicts with --juicefs/JUICEFS=1"* ]]
  OLARES_SYSTEM_ROOTFS_TYPE=jfs JUICEFS=0 run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"OLARES_SYSTEM_ROOTFS_TYPE=jfs conflicts with JUICEFS=0"* ]]
}

@test "STORAGE (olares-cli's name for the store) -> objectStore.type; STORAGE_TYPE wins over it" {
  STORAGE=oss S3_BUCKET=https://olares1.oss-cn-hangzhou.aliyuncs.com AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  [[ $output == *'        type: OSS'* ]]
  cr=$output
  validate_cr "$cr"
  plan_cr "$cr"
  STORAGE=oss STORAGE_TYPE=s3 S3_BUCKET=https://olares1.s3.us-east-1.amazonaws.com AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr
  [[ $output == *'        type: S3'* ]]
}

@test "bucket names the operator would refuse are refused here, naming the variable" {
  STORAGE_TYPE=s3 S3_BUCKET=olares..data AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr --s3-region us-east-1
  [ "$status" -eq 2 ]
  [[ $output == *"--s3-bucket/S3_BUCKET: bucket name 'olares..data' must not have two dots in a row or a dot next to a hyphen"* ]]
  STORAGE_TYPE=oss S3_BUCKET=olares.data AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr --s3-region oss-cn-hangzhou
  [ "$status" -eq 2 ]
  [[ $output == *"--s3-bucket/S3_BUCKET: OSS bucket names have no dots ('olares.data')"* ]]
}

@test "JUICEFS=1 -> JuiceFS on managed MinIO" {
  JUICEFS=1 run "$INSTALL" --print-cr
  [[ $output == *'  storage:
    type: JuiceFS
    juicefs:
      objectStore:
        type: ManagedMinIO'* ]]
  validate_cr "$output"
}

@test "STORAGE_TYPE=s3 + S3_BUCKET + AWS_*_SETUP -> S3 object store with a credentials Secret" {
  STORAGE_TYPE=s3 S3_BUCKET=https://olares-data.s3.us-east-1.amazonaws.com AWS_ACCESS_KEY_ID_SETUP=AKIAEXAMPLE \
    AWS_SECRET_ACCESS_KEY_SETUP=wJalrSECRET AWS_SESSION_TOKEN_SETUP=FwoGSESSION run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  [[ $output == *'    type: JuiceFS
    juicefs:
      objectStore:
        type: S3
        endpoint: "https://s3.us-east-1.amazonaws.com"
        bucket: "olares-data"
        credentialsSecretRef:
          name: olares-object-store-credentials
          sessionTokenKey: AWS_SESSION_TOKEN'* ]]
  [[ $output != *AKIAEXAMPLE* && $output != *wJalrSECRET* && $output != *FwoGSESSION* ]]
  validate_cr "$output"
}

@test "STORAGE_TYPE=oss and cos map to OSS and COS; a plain bucket name takes --s3-region" {
  STORAGE_TYPE=oss S3_BUCKET=https://olares1.oss-cn-hangzhou.aliyuncs.com AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr
  [[ $output == *'        type: OSS
        endpoint: "https://oss-cn-hangzhou.aliyuncs.com"
        bucket: "olares1"'* ]]
  STORAGE_TYPE=cos S3_BUCKET=olares-1250000000 AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr --s3-region ap-guangzhou
  [[ $output == *'        type: COS
        bucket: "olares-1250000000"
        region: "ap-guangzhou"'* ]]
  [[ $output != *sessionTokenKey* ]]
  validate_cr "$output"
}

@test "STORAGE_TYPE=minio takes a path-style bucket URL as endpoint + bucket" {
  STORAGE_TYPE=minio S3_BUCKET=http://minio.lan:9000/olares AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b run "$INSTALL" --print-cr
  [[ $output == *'        type: MinIO
        endpoint: "http://minio.lan:9000"
        bucket: "olares"'* ]]
  validate_cr "$output"
}

@test "STORAGE_TYPE=managed-minio without JUICEFS keeps LocalFS" {
  STORAGE_TYPE=managed-minio run "$INSTALL" --print-cr
  [[ $output == *'    type: LocalFS'* ]]
}

@test "an external object store without bucket or keys is rejected, naming the variables" {
  STORAGE_TYPE=s3 run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"--s3-bucket/S3_BUCKET is required with STORAGE_TYPE=s3"* ]]
  [[ $output == *"STORAGE_TYPE=s3 needs AWS_ACCESS_KEY_ID_SETUP and AWS_SECRET_ACCESS_KEY_SETUP"* ]]
  STORAGE_TYPE=glusterfs run "$INSTALL" --print-cr
  [[ $output == *"--storage-type/STORAGE_TYPE: 'glusterfs' must be one of managed-minio, s3, oss, cos, minio"* ]]
}

@test "CLUSTER_ID -> annotation olares.com/cluster-id" {
  CLUSTER_ID=c-7f3a run "$INSTALL" --print-cr
  [[ $output == *'  annotations:
    olares.com/cluster-id: "c-7f3a"'* ]]
}

@test "REGISTRY_MIRRORS and --registry-mirror -> spec.registry.mirrors grouped by registry" {
  REGISTRY_MIRRORS=https://mirror.example.com,ghcr.io=https://ghcr.mirror.example.com run "$INSTALL" --print-cr --registry-mirror https://second.example.com
  [ "$status" -eq 0 ]
  [[ $output == *'  registry:
    mirrors:
      - registry: "docker.io"
        endpoints:
          - "https://mirror.example.com"
          - "https://second.example.com"
      - registry: "ghcr.io"
        endpoints:
          - "https://ghcr.mirror.example.com"'* ]]
  validate_cr "$output"
  REGISTRY_MIRRORS=http://insecure.example.com run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"--registry-mirror/REGISTRY_MIRRORS: 'http://insecure.example.com' must be an https:// URL"* ]]
}

@test "LOCAL_GPU_ENABLE and LOCAL_GPU_SHARE -> spec.gpu" {
  LOCAL_GPU_ENABLE=1 LOCAL_GPU_SHARE=1 run "$INSTALL" --print-cr
  [[ $output == *'  gpu:
    enabled: "true"
    sharing:
      mode: HAMi'* ]]
  validate_cr "$output"
  LOCAL_GPU_ENABLE=0 run "$INSTALL" --print-cr
  [[ $output == *'  gpu:
    enabled: "false"'* ]]
  LOCAL_GPU_ENABLE=0 LOCAL_GPU_SHARE=1 run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"LOCAL_GPU_SHARE=1 conflicts with GPUs disabled"* ]]
}

@test "OLARES_<FLAG> variables set every flag, and the flag wins over the variable" {
  OLARES_NAME=home OLARES_USERNAME=carol OLARES_DOMAIN=carol.example.com OLARES_EMAIL=c@example.com OLARES_GPU=auto \
    OLARES_REGISTRY_MIRRORS=https://m.example.com OLARES_JUICEFS=1 run "$INSTALL" --print-cr
  [[ $output == *'  name: "home"'* ]]
  [[ $output == *'    username: "carol"'* ]]
  [[ $output == *'    domain: "carol.example.com"'* ]]
  [[ $output == *'    enabled: "auto"'* ]]
  [[ $output == *'          - "https://m.example.com"'* ]]
  [[ $output == *'    type: JuiceFS'* ]]
  OLARES_USERNAME=carol TERMINUS_OS_USERNAME=dave run "$INSTALL" --print-cr --username erin --version 1.12.2
  [[ $output == *'    username: "erin"'* ]]
  [[ $output == *'  version: "1.12.2"'* ]]
}

@test "invalid values are rejected with the flag, the variable and the rule" {
  TERMINUS_OS_USERNAME=Alice TERMINUS_OS_DOMAINNAME='bad domain' TERMINUS_OS_EMAIL=nope OLARES_BASE_DIR=relative/dir run "$INSTALL" --print-cr
  [ "$status" -eq 2 ]
  [[ $output == *"--username/TERMINUS_OS_USERNAME: 'Alice' must start with a-z, then 1-31 of a-z 0-9"* ]]
  [[ $output == *"--domain/TERMINUS_OS_DOMAINNAME: 'bad domain' must be a lower-case DNS name"* ]]
  [[ $output == *"--email/TERMINUS_OS_EMAIL: 'nope' is not an email address"* ]]
  [[ $output == *"--base-dir/OLARES_BASE_DIR: 'relative/dir' must be an absolute path"* ]]
  unset TERMINUS_OS_USERNAME
  run "$INSTALL" --print-cr
  [[ $output == *"owner username is required: --username or TERMINUS_OS_USERNAME"* ]]
}

@test "a CR with every variable set validates against the API" {
  TERMINUS_OS_DOMAINNAME=alice.example.com TERMINUS_OS_EMAIL=alice@example.com TERMINUS_OS_PASSWORD=hunter2hunter2 \
    OLARES_BASE_DIR=/srv/olares OLARES_VERSION=1.12.1 KUBE_TYPE=k3s JUICEFS=1 STORAGE_TYPE=s3 \
    S3_BUCKET=https://olares-data.s3.eu-west-1.amazonaws.com AWS_ACCESS_KEY_ID_SETUP=a AWS_SECRET_ACCESS_KEY_SETUP=b \
    AWS_SESSION_TOKEN_SETUP=c CLUSTER_ID=c1 REGISTRY_MIRRORS=https://mirror.example.com LOCAL_GPU_ENABLE=1 LOCAL_GPU_SHARE=1 \
    run "$INSTALL" --print-cr
  [ "$status" -eq 0 ]
  validate_cr "$output"
}

@test "PREINSTALL=1 prepares the host and K3s but installs no operator and applies no CR" {
  make_downloads
  PREINSTALL=1 run "$INSTALL"
  [ "$status" -eq 0 ]
  [[ $output == *"[5/6] Installing K3s…"* ]]
  [[ $output == *"[6/6] Installing the pod network…"* ]]
  [[ $output == *"no operator or OlaresInstallation was created"* ]]
  [ -e "$STUB_STATE/kube/daemonset-calico-node.yaml" ]
  [ -z "$(ls "$STUB_STATE"/kube/olaresinstallation-* "$STUB_STATE"/kube/secret-* 2>/dev/null)" ]
  ! grep -q '^helm ' "$STUB_CALLS"
}
