// The storage walk as data (pure): which storage host tasks each node gets, and — when the spec's
// storage type differs from what serves <rootPath>/rootfs now — the whole migration per node, the same
// thing `plan` prints and the controller's StorageMigration hook hands out.
import type {
  ClusterFacts,
  JuiceFSBackend,
  JuiceFSRootfsTask,
  JuiceFSStorage,
  StorageKind,
  StorageMigrationPlan,
  StorageMigrationTask,
  StorageNodeMigrationPlan,
} from "../../contract/index.js";
import { STORAGE_CREDENTIALS_SECRET, STORAGE_MIGRATION_STEPS, SYSTEM_NAMESPACE, WORKER_MERGE_STEPS, contentHash } from "../../contract/index.js";
import type { DefaultedSpec } from "../../api/index.js";
import type { ReleaseComponentTask } from "../../contract/index.js";
import { componentTask } from "../releases/host-tasks.js";

export const MANAGED_REDIS_PORT = 6379;
export const MANAGED_MINIO_PORT = 9000;
/** olares-cli: `--console-address <ip>:9090` (the shared facts, cli/pkg/storage). */
export const MANAGED_MINIO_CONSOLE_PORT = 9090;
export const MANAGED_MINIO_ROOT_USER = "minioadmin";
export const MANAGED_MINIO_BUCKET = "olares";
const CONTROL_PLANE_LABELS = ["node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master"];
/** Namespaces whose workloads are never quiesced (the cluster's own, and the operator's and agents'). */
export const QUIESCE_EXCLUDED_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", SYSTEM_NAMESPACE];

const STORAGE_OF: Record<string, JuiceFSStorage> = { ManagedMinIO: "minio", MinIO: "minio", S3: "s3", OSS: "oss", COS: "cos" };

/** spec.storage.rootPath without a trailing slash: the root every storage path is built from. */
export function rootOf(spec: DefaultedSpec): string {
  return spec.storage.rootPath.replace(/\/+$/, "") || "/";
}

/** The node that runs the managed Redis/MinIO and moves the data: the first control-plane node by name, else the first node. */
export function primaryNode(facts: ClusterFacts): string | undefined {
  const cp = facts.nodes.filter((n) => CONTROL_PLANE_LABELS.some((l) => l in n.labels));
  return (cp[0] ?? facts.nodes[0])?.name;
}

/**
 * Where the managed Redis and MinIO listen and every node reaches them: the primary's InternalIP, as
 * olares-cli binds them (`bind <localIP>`, `--address <ip>:9000`); loopback when the address is unknown
 * (then only the primary can mount). Redis also listens on loopback; MinIO takes one address.
 */
export function managedServicesAddress(facts: ClusterFacts): string | undefined {
  const primary = primaryNode(facts);
  return facts.nodes.find((n) => n.name === primary)?.internalIP;
}

/** The JuiceFS volume and services the spec describes (undefined without spec.storage.juicefs). */
/** The managed services' ports: olares-cli's, unless the operator runs with others (facts.storage.managedPorts). */
export function managedPorts(facts?: Pick<ClusterFacts, "storage">): { redis: number; minio: number; console: number } {
  return facts?.storage?.managedPorts ?? { redis: MANAGED_REDIS_PORT, minio: MANAGED_MINIO_PORT, console: MANAGED_MINIO_CONSOLE_PORT };
}

export function juicefsBackend(spec: DefaultedSpec, role: "primary" | "worker", address = "127.0.0.1", ports = managedPorts()): JuiceFSBackend | undefined {
  const jfs = spec.storage?.juicefs;
  if (!jfs) return undefined;
  const root = rootOf(spec);
  const store = jfs.objectStore;
  const managedMinio = store.type === "ManagedMinIO";
  const managedRedis = (jfs.metadata?.type ?? "ManagedRedis") === "ManagedRedis";
  const host = address.includes(":") ? `[${address}]` : address;
  const bucketUrl = managedMinio ? `http://${host}:${ports.minio}/${MANAGED_MINIO_BUCKET}` : externalBucketUrl(store);
  return {
    name: jfs.name ?? "rootfs",
    storage: STORAGE_OF[store.type] ?? "s3",
    bucketUrl,
    ...(store.region ? { region: store.region } : {}),
    ...(managedRedis ? { metaUrl: `redis://${host}:${ports.redis}/1` } : {}),
    cacheDir: jfs.cache?.dir ?? `${root}/jfscache`,
    cacheSizeMiB: jfs.cache?.sizeMiB ?? 102400,
    ...(managedRedis && role === "primary" ? { managedRedis: { bind: address, port: ports.redis } } : {}),
    ...(managedMinio && role === "primary"
      ? { managedMinio: { address, port: ports.minio, consolePort: ports.console, rootUser: MANAGED_MINIO_ROOT_USER, bucket: MANAGED_MINIO_BUCKET } }
      : {}),
  };
}

/** Workers can mount the shared volume: every service is external, or the primary's address is known. */
export function workersCanMount(spec: DefaultedSpec, facts: ClusterFacts): boolean {
  const b = juicefsBackend(spec, "primary");
  return !(b?.managedRedis || b?.managedMinio) || managedServicesAddress(facts) !== undefined;
}

/**
 * The bucket URL JuiceFS takes: <endpoint>/<bucket> when the spec names an endpoint, else the provider's
 * virtual-hosted address for the region (S3 <bucket>.s3.<region>.amazonaws.com, COS
 * <bucket>.cos.<region>.myqcloud.com, OSS <bucket>.<region>.aliyuncs.com).
 */
function externalBucketUrl(store: { type: string; endpoint?: string; bucket?: string; region?: string }): string {
  const bucket = store.bucket ?? "";
  if (store.endpoint) return `${store.endpoint.replace(/\/+$/, "")}/${bucket}`;
  const region = store.region ?? "us-east-1";
  if (store.type === "COS") return `https://${bucket}.cos.${region}.myqcloud.com`;
  if (store.type === "OSS") return `https://${bucket}.${region}.aliyuncs.com`;
  return `https://${bucket}.s3.${region}.amazonaws.com`;
}

/** The credentials reference; the hash is filled in by the controller from the live Secret ("" offline). */
const credentialsRef = (hash = "") => ({ namespace: SYSTEM_NAMESPACE, name: STORAGE_CREDENTIALS_SECRET, hash });

/** What serves the rootfs now: the recorded active type, else (first install) the spec's. */
export function activeStorageType(spec: DefaultedSpec, facts: ClusterFacts): StorageKind {
  return facts.storage?.activeType ?? (spec.storage.type as StorageKind);
}

/**
 * The migration for this spec against what runs now, per node, or undefined when the types agree.
 * `plan --from` calls this with facts.storage.activeType set to the current file's type.
 */
export function renderStorageMigrationPlan(spec: DefaultedSpec, facts: ClusterFacts): StorageMigrationPlan | undefined {
  const from = activeStorageType(spec, facts);
  const to = spec.storage.type as StorageKind;
  if (from === to) return undefined;
  const root = rootOf(spec);
  const primary = primaryNode(facts);
  const address = managedServicesAddress(facts);
  const backend = juicefsBackend(spec, "primary", address, managedPorts(facts));
  if (!primary || !backend) return { from, to, root, nodes: [], quiesce: quiesceRule(root) };
  const id = migrationId(from, to, root, backend);
  // Every node walks: the primary moves its tree and runs the managed services; a worker merges its own
  // tree into the shared volume (LocalFS → JuiceFS) or copies the whole volume onto its disk (back).
  const withWorkers = workersCanMount(spec, facts);
  const names = [primary, ...(withWorkers ? facts.nodes.map((n) => n.name).filter((n) => n !== primary) : [])];
  const nodes = names.map((name): StorageNodeMigrationPlan => {
    const role = name === primary ? "primary" : "worker";
    return {
      migrationId: id,
      node: name,
      role,
      root,
      from,
      to,
      backend: role === "primary" ? backend : juicefsBackend(spec, "worker", address, managedPorts(facts))!,
      steps: role === "primary" || to === "LocalFS" ? STORAGE_MIGRATION_STEPS : WORKER_MERGE_STEPS,
      keepPreviousAt: `${root}/rootfs.${from === "LocalFS" ? "local" : "juicefs"}.bak`,
      retainPreviousData: spec.storage.retainPreviousData,
    };
  });
  return { from, to, root, nodes, quiesce: quiesceRule(root) };
}

function quiesceRule(root: string): StorageMigrationPlan["quiesce"] {
  return { namespacesExcluded: QUIESCE_EXCLUDED_NAMESPACES, volumesUnder: `${root}/rootfs` };
}

/** Same migration, same id (the agent resumes it); a different backend or direction is another migration. */
function migrationId(from: StorageKind, to: StorageKind, root: string, b: JuiceFSBackend): string {
  return `${from === "LocalFS" ? "l2j" : "j2l"}-${contentHash({ from, to, root, name: b.name, bucket: b.bucketUrl, meta: b.metaUrl ?? "external" })}`;
}

export type StorageHostTask = JuiceFSRootfsTask | StorageMigrationTask | ReleaseComponentTask;

/** Where the storage binaries go on a host (olares-cli's cli/pkg/storage constants; the agent's DEFAULT_BINARIES). */
export const STORAGE_BINARY_PATHS = {
  juicefs: "/usr/local/bin/juicefs",
  mountJuicefs: "/sbin/mount.juicefs",
  redisServer: "/usr/local/bin/redis-server",
  redisCli: "/usr/local/bin/redis-cli",
  minio: "/usr/local/bin/minio",
} as const;

/** installation.manifest file ids olares-cli installs the storage binaries from (Manifest.Get in cli/pkg/storage). */
export const STORAGE_COMPONENTS = { juicefs: "juicefs", redis: "redis", redisOldGlibc: "redis-231", minio: "minio" } as const;
/** olares-cli's InstallRedis takes redis-231 on a host whose glibc is older than this. */
export const REDIS_GLIBC_FALLBACK_BELOW = "2.32";

/**
 * The binaries a JuiceFS node needs, from the release manifest's components (MD5 checked, skipped when in
 * place), applied before the storage task: juicefs (also /sbin/mount.juicefs) on every JuiceFS node;
 * redis-server/redis-cli and minio where the managed services run. None without a manifest the nodes
 * can fetch from (offline plan, or an airgap directory the operator does not serve): then the binaries
 * are expected at STORAGE_BINARY_PATHS already.
 */
export function storageBinaryTasks(facts: ClusterFacts, backend: JuiceFSBackend): ReleaseComponentTask[] {
  const rf = facts.release;
  if (!rf?.manifest || !rf.filesBase) return [];
  const m = rf.manifest;
  const base = rf.filesBase;
  const P = STORAGE_BINARY_PATHS;
  const out: ReleaseComponentTask[] = [];
  const jfs = componentTask(m, base, {
    id: "storage/bin/juicefs",
    component: STORAGE_COMPONENTS.juicefs,
    install: [
      { member: "juicefs", path: P.juicefs, mode: 0o755 },
      { member: "juicefs", path: P.mountJuicefs, mode: 0o755 },
    ],
  });
  if (jfs) out.push(jfs);
  if (backend.managedRedis) {
    const install = [
      { member: "redis-server", path: P.redisServer, mode: 0o755 },
      { member: "redis-cli", path: P.redisCli, mode: 0o755 },
    ];
    const redis = componentTask(m, base, { id: "storage/bin/redis", component: STORAGE_COMPONENTS.redis, install });
    const old = componentTask(m, base, { id: "storage/bin/redis", component: STORAGE_COMPONENTS.redisOldGlibc, install });
    if (redis) out.push(old ? { ...redis, glibcFallback: { glibcBelow: REDIS_GLIBC_FALLBACK_BELOW, component: old.component, file: old.file } } : redis);
  }
  if (backend.managedMinio) {
    const minio = componentTask(m, base, { id: "storage/bin/minio", component: STORAGE_COMPONENTS.minio, install: [{ member: "minio", path: P.minio, mode: 0o755 }] });
    if (minio) out.push(minio);
  }
  return out;
}

/** The storage host tasks per node name: a migration on the primary, or the JuiceFS rootfs on every node; none on LocalFS. */
export function renderStorageNodeTasks(spec: DefaultedSpec, facts: ClusterFacts): Map<string, StorageHostTask[]> {
  const out = new Map<string, StorageHostTask[]>();
  const migration = renderStorageMigrationPlan(spec, facts);
  if (migration) {
    for (const n of migration.nodes) {
      out.set(n.node, [
        ...storageBinaryTasks(facts, n.backend),
        {
          kind: "storageMigration",
          id: "storage/migration",
          description: n.role === "worker" && n.to === "JuiceFS" ? `merge ${n.root}/rootfs of ${n.node} into the shared JuiceFS volume` : `move ${n.root}/rootfs from ${n.from} to ${n.to}`,
          disruption: "none",
          migrationId: n.migrationId,
          root: n.root,
          from: n.from,
          to: n.to,
          ...(n.role === "worker" ? { role: "worker" as const } : {}),
          backend: n.backend,
          credentials: credentialsRef(),
          retainPreviousData: n.retainPreviousData,
        },
      ]);
    }
    return out;
  }
  if (spec.storage.type !== "JuiceFS") return out;
  const primary = primaryNode(facts);
  const address = managedServicesAddress(facts);
  // Managed Redis/MinIO with no known address for the primary listen on its loopback only: workers get
  // no JuiceFS config then (plan says why).
  const withWorkers = workersCanMount(spec, facts);
  for (const n of facts.nodes) {
    const role = n.name === primary ? "primary" : "worker";
    if (role === "worker" && !withWorkers) continue;
    const backend = juicefsBackend(spec, role, address, managedPorts(facts));
    if (!backend) continue;
    out.set(n.name, [...storageBinaryTasks(facts, backend), { kind: "juicefsRootfs", id: "storage/juicefs", description: `${rootOf(spec)}/rootfs on JuiceFS volume ${backend.name}`, disruption: "none", root: rootOf(spec), role, backend, credentials: credentialsRef() }]);
  }
  return out;
}
