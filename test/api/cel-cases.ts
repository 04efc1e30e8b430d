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
};
