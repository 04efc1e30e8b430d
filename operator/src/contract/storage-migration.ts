// The storage switch as the layers share it: the step names, the per-node storage config the controller
// hands a node (no secret in it: the agent reads them from one named Secret), what the agent reports
// back, and the Quiesce/Resume gate handshake on the Node's annotations. Everything here survives an
// operator or agent restart: the config and the acknowledgements live on the Node, the agent's
// progress in its root-owned state file and the report annotation.
import { createHash } from "node:crypto";
import { canonicalJson, contentHash } from "./canonical.js";

export const STORAGE_MIGRATION_STEPS = ["Precheck", "Prepare", "Sync", "Quiesce", "FinalSync", "Verify", "Swap", "Resume"] as const;
export type StorageMigrationStep = (typeof STORAGE_MIGRATION_STEPS)[number];
/** Running: walking the steps; RollingBack: undoing; then one of the three ends. */
export type StorageMigrationPhase = "Running" | "RollingBack" | "Succeeded" | "RolledBack" | "Failed";
export type StorageKind = "LocalFS" | "JuiceFS";
/**
 * A worker's walk LocalFS → JuiceFS: its own tree is merged into the shared volume (after the primary's
 * Swap, while the workloads are quiesced), then its rootfs becomes the volume's mount.
 */
export const WORKER_MERGE_STEPS: readonly StorageMigrationStep[] = ["Precheck", "Prepare", "Sync", "Verify", "Swap"];
/** Claims of a node's tree (for the merge's collision check): entries at this depth, and non-directories above it. */
export const MERGE_CLAIM_DEPTH = 2;

/** Controller → agent: the node's storage config (JSON of StorageNodeConfig). */
export const ANNOTATION_STORAGE_CONFIG = "olares.com/storage-config";
/** Agent → controller: what the node runs and how far a migration is (JSON of StorageNodeReport). */
export const ANNOTATION_STORAGE_REPORT = "olares.com/storage-report";
/** Controller → agent: the gate's acknowledgement, "<configId>/<StorageGateAck>" (see gateAckPasses). */
export const ANNOTATION_STORAGE_GATE = "olares.com/storage-gate";
/** Controller → agent: why the cluster-wide Precheck refused the migration (no secret in it). */
export const ANNOTATION_STORAGE_REFUSAL = "olares.com/storage-refusal";
/** On a workload the controller scaled to zero for a migration: its replicas before, and which config did it. */
export const ANNOTATION_QUIESCED_REPLICAS = "olares.com/storage-quiesced-replicas";
export const ANNOTATION_QUIESCED_BY = "olares.com/storage-quiesced-by";

/** The one Secret (in the agents' namespace) a node agent may read: RBAC names it, nothing else. */
export const STORAGE_CREDENTIALS_SECRET = "olares-storage-credentials";
/** The Secret the operator generates once (strict create) for the managed Redis and MinIO passwords. */
export const STORAGE_GENERATED_SECRET = "olares-storage-generated";
export const STORAGE_GENERATED_KEYS = ["redis-password", "minio-root-password"] as const;
/** Keys of the credentials Secret the agent reads. */
export const STORAGE_CREDENTIAL_KEYS = {
  /** Managed Redis password, or the external URL's password when the URL carries none. */
  metaPassword: "meta-password",
  /** Full external metadata URL (may hold a password); absent with managed Redis. */
  metaUrl: "meta-url",
  accessKey: "access-key",
  secretKey: "secret-key",
  sessionToken: "session-token",
  /** MinIO's root password (managed MinIO: the same as secret-key, its root user being the access key). */
  minioRootPassword: "minio-root-password",
} as const;

export type JuiceFSStorage = "minio" | "s3" | "oss" | "cos";

/** The JuiceFS volume and the services behind it, without a secret. */
export interface JuiceFSBackend {
  /** Volume name (`juicefs format`'s NAME). */
  name: string;
  storage: JuiceFSStorage;
  /** Bucket URL as JuiceFS takes it, e.g. http://127.0.0.1:9000/olares. */
  bucketUrl: string;
  region?: string;
  /** Metadata URL without a password; undefined when the whole URL comes from the credentials Secret (external). */
  metaUrl?: string;
  cacheDir: string;
  cacheSizeMiB: number;
  /** Redis on this node as a host unit (the control-plane node only). */
  managedRedis?: { bind: string; port: number };
  /** MinIO on this node as a host unit (the control-plane node only). */
  managedMinio?: { address: string; port: number; consolePort: number; rootUser: string; bucket: string };
}

/** Where the agent reads the secrets, and a hash of their values so a change rolls out (the hash reveals nothing). */
export interface StorageCredentialsRef {
  namespace: string;
  name: string;
  hash: string;
}

/** One node's part of a migration, as `plan` shows it and the storageMigration host task carries it. */
export interface StorageNodeMigrationPlan {
  /** Identifies the migration; the agent's state file resumes only a record with this id. */
  migrationId: string;
  node: string;
  /** primary: runs the managed services and moves the data; worker: mounts the shared volume. */
  role: "primary" | "worker";
  root: string;
  from: StorageKind;
  to: StorageKind;
  backend: JuiceFSBackend;
  /** Every step the node walks, in order (STORAGE_MIGRATION_STEPS). */
  steps: readonly StorageMigrationStep[];
  /** Where the old tree is kept after Swap. */
  keepPreviousAt: string;
  retainPreviousData: boolean;
}

/** The whole walk for a spec change, per node (render/stages/storage.ts renderStorageMigrationPlan). */
export interface StorageMigrationPlan {
  from: StorageKind;
  to: StorageKind;
  root: string;
  nodes: StorageNodeMigrationPlan[];
  /** What the controller scales to zero at Quiesce and back at Resume (the rule; the workloads are found live). */
  quiesce: { namespacesExcluded: string[]; volumesUnder: string };
}

/** Controller → agent, on the Node: the storage host tasks for this node (kinds juicefsRootfs, storageMigration). */
export interface StorageNodeConfig<T = unknown> {
  /** Content hash of tasks. */
  id: string;
  tasks: T[];
}

export function storageNodeConfigId(tasks: readonly unknown[]): string {
  return `s-${contentHash(tasks)}`;
}

export function encodeStorageNodeConfig<T>(tasks: T[]): string {
  return canonicalJson({ id: storageNodeConfigId(tasks), tasks });
}

/** Parses and checks the annotation: the id must be the content hash (a hand-edited config is refused). */
export function decodeStorageNodeConfig(raw: string): StorageNodeConfig {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch (e) {
    throw new Error(`annotation ${ANNOTATION_STORAGE_CONFIG}: not JSON (${(e as Error).message})`);
  }
  const c = v as Partial<StorageNodeConfig>;
  if (!c || typeof c.id !== "string" || !Array.isArray(c.tasks)) throw new Error(`annotation ${ANNOTATION_STORAGE_CONFIG}: must be {"id": string, "tasks": [...]}`);
  const id = storageNodeConfigId(c.tasks);
  if (id !== c.id) throw new Error(`annotation ${ANNOTATION_STORAGE_CONFIG}: id ${c.id} is not the content hash ${id}`);
  return c as StorageNodeConfig;
}

export interface StorageProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

/**
 * What the agent asks of the controller while a migration waits at a gate: Precheck (cluster-wide checks
 * before anything changes), Quiesce and Resume (the workloads), Merge and Swap (a worker's turn to merge
 * its tree into the shared volume, and to switch once every worker has merged).
 */
export type StorageGateRequest = "Precheck" | "Quiesce" | "Merge" | "Swap" | "Resume";
/** The controller's answers, in the order a walk passes them; Abort and Refused stop it. */
export const STORAGE_GATE_ACKS = ["Prechecked", "Quiesced", "Merge", "Swap", "Resumed"] as const;
export type StorageGateAck = (typeof STORAGE_GATE_ACKS)[number] | "Abort" | `Refused@${string}`;
export const GATE_ACK_FOR: Record<StorageGateRequest, (typeof STORAGE_GATE_ACKS)[number]> = { Precheck: "Prechecked", Quiesce: "Quiesced", Merge: "Merge", Swap: "Swap", Resume: "Resumed" };

/** What the Node's gate annotation says for this config: passed (a later ack passes an earlier gate), aborted, refused or waiting. */
export function gateAckState(annotation: string | undefined, configId: string, want: StorageGateRequest, round?: string): "passed" | "abort" | "refused" | "waiting" {
  if (!annotation || !annotation.startsWith(`${configId}/`)) return "waiting";
  const ack = annotation.slice(configId.length + 1);
  if (ack === "Abort") return "abort";
  if (ack.startsWith("Refused@")) return round !== undefined && ack === `Refused@${round}` ? "refused" : "waiting";
  const at = (STORAGE_GATE_ACKS as readonly string[]).indexOf(ack);
  return at >= 0 && at >= STORAGE_GATE_ACKS.indexOf(GATE_ACK_FOR[want]) ? "passed" : "waiting";
}

/** What a node reports at the Precheck gate: its tree's claims (gzip, base64 JSON array of paths), totals and free space. */
export interface StoragePrecheckReport {
  /** A new round at each attempt: a refusal answers one round, a retry asks again. */
  round: string;
  claims: string;
  claimCount: number;
  totalFiles: number;
  totalBytes: number;
  /** Free bytes on the file system holding <root> (the primary's counts for managed MinIO). */
  freeBytes: number;
}

export interface ClaimCollision {
  path: string;
  nodes: [string, string];
}

/** Paths two nodes both hold (or one holds a file where the other has a directory): merging would overwrite one. */
export function findClaimCollisions(byNode: ReadonlyArray<{ node: string; claims: readonly string[] }>): ClaimCollision[] {
  const owner = new Map<string, string>();
  const out: ClaimCollision[] = [];
  for (const { node, claims } of byNode) {
    for (const c of claims) {
      const other = owner.get(c);
      if (other !== undefined && other !== node) out.push({ path: c, nodes: [other, node] });
    }
    for (const c of claims) if (!owner.has(c)) owner.set(c, node);
  }
  // A claim under another node's non-directory claim (or the other way round): one ancestor level at most.
  for (const { node, claims } of byNode) {
    for (const c of claims) {
      const parts = c.split("/");
      for (let i = 1; i < parts.length; i++) {
        const up = parts.slice(0, i).join("/");
        const other = owner.get(up);
        if (other !== undefined && other !== node) out.push({ path: up, nodes: [other, node] });
      }
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}


/** Agent → controller (annotation JSON). Never holds a secret. */
export interface StorageNodeReport {
  /** The storage config this report is about. */
  configId: string;
  /** Working on it, Done (applied and verified) or Degraded (message says why). */
  state: "Working" | "Done" | "Degraded";
  /** What serves <root>/rootfs on this node now. */
  activeType: StorageKind;
  migration?: {
    migrationId: string;
    from: StorageKind;
    to: StorageKind;
    phase: StorageMigrationPhase;
    step: StorageMigrationStep | "Rollback";
    percent: number;
    progress: StorageProgress;
    startedAt: string;
    finishedAt?: string;
    /** Set while the agent waits for the controller at a gate. */
    gate?: StorageGateRequest;
    previous?: { type: StorageKind; path: string; bytes: number; files: number };
  };
  /** While waiting at the Precheck gate. */
  precheck?: StoragePrecheckReport;
  message?: string;
  updatedAt: string;
}

export function parseStorageNodeReport(raw: string | undefined): StorageNodeReport | undefined {
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as StorageNodeReport;
    return typeof r.configId === "string" && typeof r.state === "string" ? r : undefined;
  } catch {
    return undefined;
  }
}

export function gateAck(configId: string, done: StorageGateAck): string {
  return `${configId}/${done}`;
}

/** The reasons of the Events the controller records about the CR, one per migration step. */
export function migrationEventReason(step: StorageMigrationStep | "Rollback" | "Succeeded" | "RolledBack" | "Failed"): string {
  return `StorageMigration${step}`;
}

/** Hash of the credentials Secret's values (sha256, 16 hex): in the task so a change rolls out; reveals nothing. */
export function storageCredentialsHash(data: Readonly<Record<string, string>>): string {
  return createHash("sha256").update(canonicalJson(data)).digest("hex").slice(0, 16);
}

/** A user Secret key the controller copies into the credentials Secret. */
export interface StorageSecretKeyRef {
  /** The spec field, for messages. */
  field: string;
  namespace?: string;
  name: string;
  key: string;
}

/** How the controller builds the credentials Secret: generated values and the user's referenced keys. */
export interface StorageCredentialsSource {
  /** The generated Secret (redis-password, minio-root-password) in the agents' namespace. */
  generated: { namespace: string; name: string };
  managedRedis: boolean;
  /** Managed MinIO: access key = its root user, secret key = the generated root password. */
  managedMinioRootUser?: string;
  metaUrl?: StorageSecretKeyRef;
  accessKey?: StorageSecretKeyRef;
  secretKey?: StorageSecretKeyRef;
  sessionToken?: StorageSecretKeyRef;
}

/** Data of the StorageMigration stage hook (render → controller). */
export interface StorageHookData {
  root: string;
  /** What serves the rootfs now and what the spec wants. */
  activeType: StorageKind;
  specType: StorageKind;
  /** The storage host tasks per node; their credentials.hash is filled in by the controller. */
  nodes: Array<{ node: string; tasks: unknown[] }>;
  migration?: StorageMigrationPlan;
  credentials?: StorageCredentialsSource;
  /** Labels and owner of the credentials Secret. */
  labels: Record<string, string>;
  ownerReferences: Array<{ apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }>;
}

/** The tasks with the live credentials hash in place (what the Node gets). */
export function withCredentialsHash(tasks: readonly unknown[], hash: string): unknown[] {
  return tasks.map((t) => {
    const task = t as { credentials?: StorageCredentialsRef };
    return task.credentials ? { ...task, credentials: { ...task.credentials, hash } } : task;
  });
}

/** status.storage.migration as the controller writes it (the CRD's schema). */
export interface StorageMigrationStatus {
  from: StorageKind;
  to: StorageKind;
  phase: StorageMigrationPhase | "Pending";
  step?: StorageMigrationStep | "Rollback";
  progressPercent: number;
  /** "42%", for the printer column (absent once the migration has ended and another spec change came). */
  progress?: string;
  filesCopied: number;
  filesTotal: number;
  bytesCopied: number;
  bytesTotal: number;
  startedAt?: string;
  finishedAt?: string;
  message?: string;
  nodes: Array<{ name: string; phase: string; step?: string; progressPercent: number; message?: string }>;
}

/** status.storage.previousData: where the tree from before the last migration is kept, and its size. */
export interface StoragePreviousData {
  type: StorageKind;
  path: string;
  node: string;
  bytes: number;
  files: number;
}

export interface StorageStatusReport {
  activeType?: StorageKind;
  migration?: StorageMigrationStatus;
  previousData?: StoragePreviousData;
}
