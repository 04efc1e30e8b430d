// The passing and failing case of every CEL rule in the CRD, keyed by "<schema path> :: <rule message>".
// Shared by test/api/cel-rules.test.ts (validate) and test/cluster/crd.test.ts (the real kube-apiserver).
import type { Doc } from "./helpers.js";

export interface RuleCase {
  /** Edits the spec so the rule holds (the whole object must then be valid). */
  pass: (spec: Doc) => void;
  /** Edits the spec so the rule fails (and only this rule's error names `field`). */
  fail: (spec: Doc) => void;
  /** For transition rules: the stored object's spec edit; `pass`/`fail` edit the new one. */
  old?: (spec: Doc) => void;
  /** Expected error field; defaults to the rule's path plus its fieldPath. */
  field?: string;
}

const s3 = { type: "S3", bucket: "olares-data", region: "us-east-1", credentialsSecretRef: { name: "s3" } };

/** Keyed by "<schema path> :: <rule message>". */
export const CEL_CASES: Record<string, RuleCase> = {
  "spec.owner.username :: owner.username is immutable": {
    old: () => {},
    pass: () => {},
    fail: (s) => { s.owner.username = "bob"; },
  },
  "spec.owner.domain :: owner.domain is immutable (it is part of the Olares ID)": {
    old: (s) => { s.owner.domain = "example.com"; },
    pass: (s) => { s.owner.domain = "example.com"; },
    fail: () => {},
  },
  "spec.storage :: storage.juicefs with an objectStore is required when storage.type is JuiceFS": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS" }; },
  },
  "spec.storage :: storage.juicefs.cache.dir must be outside <rootPath>/rootfs, the JuiceFS mount point": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/olares/rootfs-cache" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/olares/rootfs/cache" } } }; },
  },
  "spec.storage.rootPath :: storage.rootPath is immutable": {
    old: (s) => { s.storage = { rootPath: "/data/olares" }; },
    pass: (s) => { s.storage = { rootPath: "/data/olares" }; },
    fail: () => {}, // defaulting turns the dropped field into /olares: still a change
  },
  "spec.storage.juicefs.metadata :: storage.juicefs.metadata.urlSecretRef is required when metadata.type is External": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { metadata: { type: "External", urlSecretRef: { name: "meta" } }, objectStore: { type: "ManagedMinIO" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { metadata: { type: "External" }, objectStore: { type: "ManagedMinIO" } } }; },
  },
  "spec.storage.juicefs.metadata :: storage.juicefs.metadata.urlSecretRef is only allowed when metadata.type is External": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { metadata: { type: "ManagedRedis" }, objectStore: { type: "ManagedMinIO" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { metadata: { type: "ManagedRedis", urlSecretRef: { name: "meta" } }, objectStore: { type: "ManagedMinIO" } } }; },
  },
  "spec.storage.juicefs.objectStore :: storage.juicefs.objectStore.bucket is required unless objectStore.type is ManagedMinIO": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3 } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, bucket: undefined } } }; },
  },
  "spec.storage.juicefs.objectStore :: storage.juicefs.objectStore.credentialsSecretRef is required unless objectStore.type is ManagedMinIO": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "OSS", region: "oss-cn-hangzhou" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "COS", credentialsSecretRef: undefined } } }; },
  },
  "spec.storage.juicefs.objectStore :: storage.juicefs.objectStore.endpoint and credentialsSecretRef are managed by the operator when objectStore.type is ManagedMinIO": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO", bucket: "olares" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO", endpoint: "http://10.0.0.2:9000" } } }; },
  },
  "spec.storage.juicefs.objectStore :: storage.juicefs.objectStore.endpoint is required when objectStore.type is MinIO": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "MinIO", region: undefined, endpoint: "https://minio.lan:9000" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "MinIO", region: undefined } } }; },
  },
  "spec.storage.juicefs.objectStore :: storage.juicefs.objectStore needs region or endpoint when objectStore.type is S3, OSS or COS": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, region: undefined, endpoint: "https://s3.example.com" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, region: undefined } } }; },
  },
  "spec.kubernetes.clusterDNS :: kubernetes.clusterDNS.clusterIP and upstreamNameservers apply only when mode is Auto or Managed": {
    pass: (s) => { s.kubernetes = { clusterDNS: { mode: "Managed", clusterIP: "10.96.0.10", upstreamNameservers: ["1.1.1.1", "2606:4700:4700::1111"] } }; },
    fail: (s) => { s.kubernetes = { clusterDNS: { mode: "External", upstreamNameservers: ["1.1.1.1"] } }; },
  },
  "spec.gpu :: gpu.sharing.mode must be None when gpu.enabled is \"false\"": {
    pass: (s) => { s.gpu = { enabled: "auto", sharing: { mode: "HAMi" } }; },
    fail: (s) => { s.gpu = { enabled: "false", sharing: { mode: "HAMi" } }; },
  },
  "spec.gpu.sharing :: gpu.sharing.replicas is required when sharing.mode is TimeSlicing": {
    pass: (s) => { s.gpu = { sharing: { mode: "TimeSlicing", replicas: 4 } }; },
    fail: (s) => { s.gpu = { sharing: { mode: "TimeSlicing" } }; },
  },
  "spec.gpu.sharing :: gpu.sharing.replicas is only allowed when sharing.mode is TimeSlicing": {
    pass: (s) => { s.gpu = { sharing: { mode: "HAMi" } }; },
    fail: (s) => { s.gpu = { sharing: { mode: "None", replicas: 2 } }; },
  },
  "spec.os.ssh :: os.ssh.port must not be a port Olares uses (80, 443, 444, 2444, 9100, 18088, 30180)": {
    pass: (s) => { s.os = { ssh: { port: 2222 } }; },
    fail: (s) => { s.os = { ssh: { port: 443 } }; },
  },
  "spec.os.sysctl :: os.sysctl keys must be sysctl names like net.ipv4.ip_forward (a-z, 0-9, _ . - /)": {
    pass: (s) => { s.os = { sysctl: { "net.ipv4.ip_forward": "1", "net/core/somaxconn": "4096" } }; },
    fail: (s) => { s.os = { sysctl: { "net..ipv4": "1" } }; },
  },
  "spec.os.swap :: os.swap.zram.enabled requires os.swap.enabled": {
    pass: (s) => { s.os = { swap: { enabled: true, zram: { enabled: true } } }; },
    fail: (s) => { s.os = { swap: { enabled: false, zram: { enabled: true } } }; },
  },
  "spec.os.swap :: os.swap.sizeMiB is required when swap is enabled without zram": {
    pass: (s) => { s.os = { swap: { enabled: true, sizeMiB: 4096 } }; },
    fail: (s) => { s.os = { swap: { enabled: true } }; },
  },
  "spec.olaresd :: olaresd.sha256 is required with olaresd.url (the download is verified before install)": {
    pass: (s) => { s.olaresd = { url: "https://dl.example.com/olaresd.tar.gz", sha256: "a".repeat(64) }; },
    fail: (s) => { s.olaresd = { url: "https://dl.example.com/olaresd.tar.gz" }; },
  },
  "spec.coreServices :: coreServices keys must be component names (DNS labels, at most 63 characters)": {
    pass: (s) => { s.coreServices = { "auth-provider": { replicas: 2 } }; },
    fail: (s) => { s.coreServices = { Auth_Provider: { replicas: 2 } }; },
  },
  "spec.nodes.selector :: nodes.selector keys must be label keys such as kubernetes.io/hostname": {
    pass: (s) => { s.nodes = { selector: { "kubernetes.io/hostname": "node-1", "olares.com/role": "worker" } }; },
    fail: (s) => { s.nodes = { selector: { "bad key!": "x" } }; },
  },
  "spec.nodes.rollout.maxUnavailable :: nodes.rollout.maxUnavailable must be at least 1": {
    pass: (s) => { s.nodes = { rollout: { maxUnavailable: 2 } }; },
    fail: (s) => { s.nodes = { rollout: { maxUnavailable: 0 } }; },
  },
  " :: spec.version must not go back to an older release than the one rolled out (downgrades are not supported)": {
    field: "spec.version",
    old: (s) => { s.version = "1.12.1"; },
    pass: (s) => { s.version = "1.13.0-rc.1"; },
    fail: (s) => { s.version = "1.12.1-rc.2"; },
  },
  "spec.registry.mirrors :: registry.mirrors must list each registry once (docker.io, index.docker.io, registry-1.docker.io, registry.hub.docker.com are one registry)": {
    pass: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com"] }, { registry: "ghcr.io", endpoints: ["https://b.example.com"] }] }; },
    fail: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com"] }, { registry: "registry-1.docker.io", endpoints: ["https://b.example.com"] }] }; },
  },
  "spec.registry.mirrors[].endpoints[] :: registry mirror endpoints must not contain . or .. path segments": {
    pass: (s) => { s.registry = { mirrors: [{ endpoints: ["https://m.example.com/v2/.well-known"] }] }; },
    fail: (s) => { s.registry = { mirrors: [{ endpoints: ["https://m.example.com/v2/%2e%2e/x"] }] }; },
    field: "spec.registry.mirrors[0].endpoints[0]",
  },
  "spec.storage :: storage.juicefs.cache.dir must not be storage.rootPath or one of its parents": {
    pass: (s) => { s.storage = { type: "JuiceFS", rootPath: "/data/olares", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/data/cache" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", rootPath: "/data/olares", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/data" } } }; },
  },
  // Transition rules (juicefs-backend-fixed): the stored object is on JuiceFS with an S3 bucket.
  "spec.storage :: storage.juicefs.objectStore (type, endpoint, bucket, region) cannot change while storage.type is JuiceFS: the volume's data lives there; switch storage.type to LocalFS, wait for Ready, then change it and switch back (docs/storage.md)": {
    old: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3 } } }; },
    // Rotating the credentials (another Secret) and resizing the cache are fine.
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, credentialsSecretRef: { name: "s3-rotated" } }, cache: { sizeMiB: 2048 } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, bucket: "olares-other" } } }; },
  },
  "spec.storage :: storage.juicefs.metadata (type, urlSecretRef) cannot change while storage.type is JuiceFS: the volume's metadata lives there; switch storage.type to LocalFS, wait for Ready, then change it and switch back (docs/storage.md)": {
    old: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3 } } }; },
    // The way back to LocalFS keeps the backend it reads from.
    pass: (s) => { s.storage = { type: "LocalFS", juicefs: { objectStore: { ...s3 } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { metadata: { type: "External", urlSecretRef: { name: "meta" } }, objectStore: { ...s3 } } }; },
  },
  "spec.storage :: storage.juicefs.name cannot change while storage.type is JuiceFS (it names the formatted volume); switch storage.type to LocalFS first": {
    old: (s) => { s.storage = { type: "JuiceFS", juicefs: { name: "rootfs", objectStore: { type: "ManagedMinIO" } } }; },
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { name: "rootfs", objectStore: { type: "ManagedMinIO" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { name: "rootfs2", objectStore: { type: "ManagedMinIO" } } }; },
  },
  "spec.storage.rootPath :: storage.rootPath must not be inside a system directory (/bin /boot /dev /etc /lib /lib32 /lib64 /proc /run /sbin /sys /tmp /usr /var/run)": {
    pass: (s) => { s.storage = { rootPath: "/var/lib/olares" }; },
    fail: (s) => { s.storage = { rootPath: "/usr/olares" }; },
  },
  "spec.storage.juicefs.cache.dir :: storage.juicefs.cache.dir must not be inside a system directory (/bin /boot /dev /etc /lib /lib32 /lib64 /proc /run /sbin /sys /tmp /usr /var/run)": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/mnt/jfscache" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/tmp/jfscache" } } }; },
  },
  "spec.storage.juicefs.objectStore.endpoint :: storage.juicefs.objectStore.endpoint must not contain . or .. path segments": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "MinIO", region: undefined, endpoint: "https://minio.lan:9000/a.b" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { ...s3, type: "MinIO", region: undefined, endpoint: "https://minio.lan:9000/../x" } } }; },
  },
  "spec.os.ntp.servers[] :: os.ntp.servers entries must be host names or IP addresses": {
    pass: (s) => { s.os = { ntp: { servers: ["192.168.1.1", "pool.ntp.org"] } }; },
    fail: (s) => { s.os = { ntp: { servers: ["pool.ntp.org", "10.0.0"] } }; },
    field: "spec.os.ntp.servers[1]",
  },
  "spec.os.ssh :: os.ssh.port must not be a port Kubernetes uses (2379, 2380, 6443, 10250, 10257, 10259)": {
    pass: (s) => { s.os = { ssh: { port: 2222 } }; },
    fail: (s) => { s.os = { ssh: { port: 6443 } }; },
  },
  "spec.os.packages :: os.packages must not install a second container runtime (containerd, containerd.io, docker.io, docker-ce, docker-ce-cli, podman, runc, moby-engine, k3s)": {
    pass: (s) => { s.os = { packages: ["nfs-common"] }; },
    fail: (s) => { s.os = { packages: ["nfs-common", "docker.io"] }; },
  },
  "spec.os.sysctl :: os.sysctl keys must start with one of abi, crypto, debug, dev, fs, kernel, net, sunrpc, user, vm (kernel parameters under /proc/sys)": {
    pass: (s) => { s.os = { sysctl: { "net.core.somaxconn": "4096", "fs/inotify/max_user_watches": "524288" } }; },
    fail: (s) => { s.os = { sysctl: { "foo.bar": "1" } }; },
  },
  "spec.os.sysctl :: os.sysctl must not set kernel.core_pattern, kernel.modprobe, kernel.hotplug, kernel.poweroff_cmd, fs.binfmt_misc.register (they make the kernel run a program)": {
    pass: (s) => { s.os = { sysctl: { "kernel.pid_max": "4194304" } }; },
    fail: (s) => { s.os = { sysctl: { "kernel/modprobe": "/tmp/x" } }; },
  },
  "spec.os.sysctl :: os.sysctl values must be numbers or words separated by spaces (letters, digits, - _ . : , / + =)": {
    pass: (s) => { s.os = { sysctl: { "net.ipv4.tcp_rmem": "4096 87380 6291456" } }; },
    fail: (s) => { s.os = { sysctl: { "vm.swappiness": "(10)" } }; },
  },
  "spec.olaresd.url :: olaresd.url must not contain . or .. path segments": {
    pass: (s) => { s.olaresd = { url: "https://dl.example.com/v1.2/olaresd.tar.gz", sha256: "a".repeat(64) }; },
    fail: (s) => { s.olaresd = { url: "https://dl.example.com/a/%2E./olaresd.tar.gz", sha256: "a".repeat(64) }; },
  },
};
