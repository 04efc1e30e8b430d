// The agent's half of the storage handshake. The controller puts this node's storage config (host tasks
// of kinds juicefsRootfs / storageMigration, no secrets) on the Node; the agent runs it in the background
// (a migration takes minutes, the node-config loop goes on), reading the secrets from the one Secret the
// task names, and reports progress on the Node. At Quiesce and Resume the engine waits here until the
// controller has scaled the workloads and acknowledged on the Node. All of it is level-triggered: after
// a restart the agent sees a config it has not reported Done and runs it again; the engine resumes from
// its state file, and a gate already acknowledged passes at once.
import type { ClusterClient } from "../../kube/types.js";
import {
  ANNOTATION_STORAGE_CONFIG,
  ANNOTATION_STORAGE_GATE,
  ANNOTATION_STORAGE_REPORT,
  STORAGE_CREDENTIAL_KEYS,
  ANNOTATION_STORAGE_REFUSAL,
  decodeStorageNodeConfig,
  gateAckState,
  migrationEventReason,
  parseStorageNodeReport,
  storageCredentialsHash,
  validateHostTasks,
  type HostTask,
  type KubeObject,
  type Logger,
  type StorageCredentialsRef,
  type StorageGateRequest,
  type StorageKind,
  type StorageNodeConfig,
  type StorageNodeReport,
  type StoragePrecheckReport,
  type StorageMigrationTask,
} from "../../contract/index.js";
import { promises as fs } from "node:fs";
import { gzipSync } from "node:zlib";
import type { Host } from "../host/types.js";
import { moduleFor } from "../tasks/registry.js";
import type { TaskContext } from "../tasks/types.js";
import type { StorageCredentials, StorageTaskEnvironment } from "./environment.js";
import { systemdServices, type ServiceControl } from "./migration.js";
import { mountedFsType } from "./mounts.js";
import { storageLayout } from "./layout.js";
import { migrationPercent, readMigrationState, type MigrationState } from "./state.js";
import { treeTotals } from "./tree.js";
import { mergeStateFile, treeClaims } from "./worker-merge.js";
import { DEFAULT_BINARIES, DEFAULT_SERVICE_PATHS, type Binaries, type ServicePaths } from "./units.js";

/** Where the tools are and what starts units; defaults are a real host's (systemd, /usr/local/bin). */
export interface NodeStorageEnvironment {
  /** The host the storage engine works on (default: the agent's host; a simulated node with real storage in tests). */
  host?: Host;
  services?: ServiceControl;
  binaries?: Binaries;
  servicePaths?: ServicePaths;
  /** Gate and report polling (default 1 s). */
  pollMs?: number;
}

export interface NodeStorageOptions {
  client: Pick<ClusterClient, "get" | "patch">;
  host: Host;
  nodeName: string;
  log: Logger;
  signal: AbortSignal;
  environment?: NodeStorageEnvironment;
  /** Records an Event about the Node (never throws). */
  event(type: "Normal" | "Warning", reason: string, message: string): void;
}

const STORAGE_TASK_KINDS = new Set(["juicefsRootfs", "storageMigration"]);
/** What a storage config may hold: the storage tasks and the release components that install their binaries. */
const STORAGE_KINDS = new Set([...STORAGE_TASK_KINDS, "releaseComponent"]);
const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));

export class NodeStorage {
  private running: Promise<void> | undefined;
  private failedConfig: { id: string; retryAt: number; count: number } | undefined;
  private lastReportAt = 0;

  constructor(private readonly opts: NodeStorageOptions) {}

  private get host(): Host {
    return this.opts.environment?.host ?? this.opts.host;
  }

  private get pollMs(): number {
    return this.opts.environment?.pollMs ?? 1000;
  }

  /** Starts the node's storage config when it is not done yet; returns at once. */
  sync(node: KubeObject): void {
    if (this.running || this.opts.signal.aborted) return;
    const raw = node.metadata.annotations?.[ANNOTATION_STORAGE_CONFIG];
    if (!raw) return;
    let config: StorageNodeConfig;
    try {
      config = decodeStorageNodeConfig(raw);
    } catch (e) {
      this.running = this.report({ configId: "invalid", state: "Degraded", activeType: "LocalFS", message: errMessage(e), updatedAt: now() }).finally(() => (this.running = undefined));
      return;
    }
    const report = parseStorageNodeReport(node.metadata.annotations?.[ANNOTATION_STORAGE_REPORT]);
    if (report?.configId === config.id && report.state === "Done") return;
    if (this.failedConfig?.id === config.id && Date.now() < this.failedConfig.retryAt) return;
    this.running = this.run(config).finally(() => (this.running = undefined));
  }

  /** Settles when the config in progress (if any) has finished. */
  async idle(): Promise<void> {
    await this.running;
  }

  private async run(config: StorageNodeConfig): Promise<void> {
    const tasks = config.tasks as HostTask[];
    // the storage task's root (the release components that install the binaries come before it)
    const root = (tasks.find((t) => STORAGE_TASK_KINDS.has(t.kind)) as { root?: string } | undefined)?.root;
    let migration: StorageNodeReport["migration"];
    let gate: StorageGateRequest | undefined;
    let aborted = false;
    let precheck: StoragePrecheckReport | undefined;
    const base = async (): Promise<Pick<StorageNodeReport, "configId" | "activeType">> => ({ configId: config.id, activeType: await this.activeType(root) });
    const publish = async (state: StorageNodeReport["state"], message?: string, force = true) => {
      if (!force && Date.now() - this.lastReportAt < 2000) return;
      this.lastReportAt = Date.now();
      await this.report({ ...(await base()), state, ...(migration ? { migration: { ...migration, ...(gate ? { gate } : {}) } } : {}), ...(precheck && gate === "Precheck" ? { precheck } : {}), ...(message ? { message } : {}), updatedAt: now() });
    };
    try {
      const errors = validateHostTasks(tasks);
      const foreign = tasks.filter((t) => !STORAGE_KINDS.has(t.kind)).map((t) => `${t.id}: kind ${t.kind} is not a storage task`);
      if (errors.length || foreign.length) throw new Error(`storage config ${config.id} is invalid: ${[...errors, ...foreign].join("; ")}`);
      await publish("Working", `applying storage config ${config.id}`);
      const track = (s: Readonly<MigrationState>) => {
        migration = {
          migrationId: s.id,
          from: s.from,
          to: s.to,
          phase: s.phase,
          step: s.phase === "RollingBack" ? "Rollback" : s.step,
          percent: migrationPercent(s),
          progress: { ...s.progress },
          startedAt: s.startedAt,
          ...(s.finishedAt ? { finishedAt: s.finishedAt } : {}),
          ...(s.previous ? { previous: { ...s.previous } } : {}),
        };
      };
      const environment: StorageTaskEnvironment = {
        services: this.opts.environment?.services ?? systemdServices(this.host),
        binaries: this.opts.environment?.binaries ?? DEFAULT_BINARIES,
        servicePaths: this.opts.environment?.servicePaths ?? DEFAULT_SERVICE_PATHS,
        credentials: (ref) => this.credentials(ref),
        gate: {
          quiesce: async () => {
            gate = "Quiesce";
            await publish("Working", "waiting for the controller to quiesce the workloads using the rootfs");
            const r = await this.awaitGate(config.id, "Quiesce");
            gate = undefined;
            if (r === "abort") throw new Error("the migration was called off (another node failed)");
          },
          resume: async () => {
            gate = "Resume";
            await publish("Working", "waiting for the controller to resume the workloads");
            // An Abort here (another node failed after this one swapped) fails Resume once: the engine rolls back, then asks again.
            const r = await this.awaitGate(config.id, "Resume", aborted ? { ignoreAbort: true } : {});
            gate = undefined;
            if (r === "abort") {
              aborted = true;
              throw new Error("the migration was called off: another node failed; rolling back to the kept tree");
            }
          },
        },
        mergeGate: {
          merge: async () => {
            gate = "Merge";
            await publish("Working", "waiting for this node's turn to merge its tree into the shared volume");
            const r = await this.awaitGate(config.id, "Merge");
            gate = undefined;
            return r === "abort" ? "abort" : "passed";
          },
          swap: async () => {
            gate = "Swap";
            await publish("Working", "merged; waiting for every node to merge before switching");
            const r = await this.awaitGate(config.id, "Swap");
            gate = undefined;
            return r === "abort" ? "abort" : "passed";
          },
        },
        hooks: {
          onStep: async (step, s) => {
            track(s);
            this.opts.log.info("storage: migration step", { step, migration: s.id });
            this.opts.event("Normal", migrationEventReason(step), `storage migration ${s.from} → ${s.to}: ${step}`);
            await publish("Working", `${step === "Rollback" ? "rolling back" : step}`);
          },
          onProgress: (s) => {
            track(s);
            void publish("Working", `${s.step} ${migrationPercent(s)}%`, false).catch(() => undefined);
          },
          onSwapStep: (name, s) => {
            track(s);
            this.opts.log.info("storage: swap step done", { name });
          },
          log: (m) => this.opts.log.info(`storage: ${m}`),
        },
      };
      const ctx: TaskContext = { host: this.host, configId: config.id, log: this.opts.log, changed: new Set(), storage: environment };
      // Cluster-wide Precheck before anything changes (no other node's paths collide, nothing the
      // controller cannot quiesce): skipped once passed (a restarted agent finds the ack on the Node).
      const move = tasks.find((t): t is StorageMigrationTask => t.kind === "storageMigration");
      if (move && (await this.needsPrecheckGate(config.id, move))) {
        precheck = await this.precheckReport(move);
        migration = {
          migrationId: move.migrationId, from: move.from, to: move.to, phase: "Running", step: "Precheck", percent: 0,
          progress: { files: 0, bytes: 0, totalFiles: precheck.totalFiles, totalBytes: precheck.totalBytes }, startedAt: now(),
        };
        gate = "Precheck";
        await publish("Working", "waiting for the controller's cluster-wide precheck");
        const r = await this.awaitGate(config.id, "Precheck", { round: precheck.round });
        gate = undefined;
        if (r !== "passed") {
          migration = { ...migration, phase: "Failed", finishedAt: now() };
          const why = (await this.nodeAnnotation(ANNOTATION_STORAGE_REFUSAL)) ?? "refused by the controller";
          throw new Error(`Precheck failed: ${why}; nothing was changed`);
        }
        precheck = undefined;
      }
      // Binaries (releaseComponent) go onto the agent's host, as its node config's files do; the storage
      // engine works on its environment's host (the same host, except in tests that split the two).
      const binCtx: TaskContext = { ...ctx, host: this.opts.host };
      for (const task of tasks) {
        const mod = moduleFor(task);
        const tctx = task.kind === "releaseComponent" ? binCtx : ctx;
        const check = await mod.check(tctx, task);
        if (check.upToDate) continue;
        this.opts.log.info("storage: applying", { task: task.id, diff: check.diff });
        try {
          await mod.apply(tctx, task);
        } finally {
          // the last recorded state (Succeeded, RolledBack, Failed) goes into the report either way
          if (task.kind === "storageMigration" && root) {
            const file = task.role === "worker" && task.to === "JuiceFS" ? mergeStateFile(root) : storageLayout(root).stateFile;
            const s = await readMigrationState(this.host, file).catch(() => undefined);
            if (s && s.id === task.migrationId) track(s);
          }
        }
        await mod.verify(tctx, task);
      }
      this.failedConfig = undefined;
      await publish("Done", migration ? `storage migration ${migration.from} → ${migration.to} done` : undefined);
      this.opts.event("Normal", migration ? migrationEventReason("Succeeded") : "StorageConfigApplied", migration ? `storage migration ${migration.from} → ${migration.to} succeeded` : `storage config ${config.id} applied`);
    } catch (e) {
      if (this.opts.signal.aborted) return;
      const message = errMessage(e);
      const count = this.failedConfig?.id === config.id ? this.failedConfig.count + 1 : 1;
      this.failedConfig = { id: config.id, count, retryAt: Date.now() + Math.min(10_000 * 2 ** (count - 1), 5 * 60_000) };
      this.opts.log.warn("storage: config failed", { config: config.id, error: message });
      const end = migration?.phase === "RolledBack" ? "RolledBack" : "Failed";
      this.opts.event("Warning", migrationEventReason(migration ? end : "Failed"), message);
      await publish("Degraded", message).catch(() => undefined);
    }
  }

  private async activeType(root: string | undefined): Promise<StorageKind> {
    if (!root) return "LocalFS";
    return (await mountedFsType(this.host, `${root}/rootfs`).catch(() => undefined)) === "fuse.juicefs" ? "JuiceFS" : "LocalFS";
  }

  private async report(r: StorageNodeReport): Promise<void> {
    await this.opts.client.patch({ apiVersion: "v1", kind: "Node", name: this.opts.nodeName }, { metadata: { annotations: { [ANNOTATION_STORAGE_REPORT]: JSON.stringify(r) } } }, "merge");
  }

  /** Waits until the controller answers on the Node (a later gate's ack passes an earlier one). On shutdown it never settles (the state file resumes here). */
  private async awaitGate(configId: string, want: StorageGateRequest, o: { round?: string; ignoreAbort?: boolean } = {}): Promise<"passed" | "abort" | "refused"> {
    for (;;) {
      if (this.opts.signal.aborted) return new Promise<never>(() => undefined);
      const state = gateAckState(await this.nodeAnnotation(ANNOTATION_STORAGE_GATE), configId, want, o.round);
      if (state === "passed" || state === "refused" || (state === "abort" && !o.ignoreAbort)) return state;
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }

  private async nodeAnnotation(key: string): Promise<string | undefined> {
    const node = await this.opts.client.get({ apiVersion: "v1", kind: "Node", name: this.opts.nodeName }).catch(() => undefined);
    return node?.metadata.annotations?.[key];
  }

  /** Not when the controller passed this config's Precheck already, nor when the engine's record is past it. */
  private async needsPrecheckGate(configId: string, task: StorageMigrationTask): Promise<boolean> {
    if (gateAckState(await this.nodeAnnotation(ANNOTATION_STORAGE_GATE), configId, "Precheck") === "passed") return false;
    const file = task.role === "worker" && task.to === "JuiceFS" ? mergeStateFile(task.root) : storageLayout(task.root).stateFile;
    const s = await readMigrationState(this.host, file).catch(() => undefined);
    return !(s && s.id === task.migrationId && s.step !== "Precheck");
  }

  /** The node's tree for the controller's checks: claims (only on the way to the shared volume), totals, free space. */
  private async precheckReport(task: StorageMigrationTask): Promise<StoragePrecheckReport> {
    const rootfs = this.host.hostPath(`${task.root}/rootfs`);
    const exists = await fs.stat(rootfs).then((s) => s.isDirectory(), () => false);
    const claims = exists && task.to === "JuiceFS" ? await treeClaims(rootfs) : [];
    const totals = exists ? await treeTotals(rootfs) : { files: 0, bytes: 0 };
    const sf = await fs.statfs(this.host.hostPath(task.root)).catch(() => undefined);
    const encoded = gzipSync(Buffer.from(JSON.stringify(claims))).toString("base64");
    if (encoded.length > 96 * 1024) throw new Error(`Precheck failed: ${task.root}/rootfs has ${claims.length} entries at its top levels, too many to check against the other nodes' (the report would exceed 96 KiB); nothing was changed`);
    return {
      round: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
      claims: encoded,
      claimCount: claims.length,
      totalFiles: totals.files,
      totalBytes: totals.bytes,
      freeBytes: sf ? Number(sf.bavail) * Number(sf.bsize) : 0,
    };
  }

  /** The Secret the task names, checked against the task's hash (a changed Secret waits for its new config). */
  private async credentials(ref: StorageCredentialsRef): Promise<StorageCredentials> {
    const secret = await this.opts.client.get({ apiVersion: "v1", kind: "Secret", namespace: ref.namespace, name: ref.name });
    if (!secret) throw new Error(`Secret ${ref.namespace}/${ref.name} not found (the controller creates it from the generated and referenced Secrets)`);
    const encoded = (secret["data"] ?? {}) as Record<string, string>;
    const data = Object.fromEntries(Object.entries(encoded).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
    const hash = storageCredentialsHash(data);
    if (hash !== ref.hash) throw new Error(`Secret ${ref.namespace}/${ref.name} changed since this storage config was made (hash ${hash}, config has ${ref.hash}); waiting for the new config`);
    const k = STORAGE_CREDENTIAL_KEYS;
    if (!data[k.accessKey] || !data[k.secretKey]) throw new Error(`Secret ${ref.namespace}/${ref.name}: keys ${k.accessKey} and ${k.secretKey} are required`);
    return {
      accessKey: data[k.accessKey]!,
      secretKey: data[k.secretKey]!,
      ...(data[k.metaPassword] ? { metaPassword: data[k.metaPassword] } : {}),
      ...(data[k.metaUrl] ? { metaUrl: data[k.metaUrl] } : {}),
      ...(data[k.sessionToken] ? { sessionToken: data[k.sessionToken] } : {}),
      ...(data[k.minioRootPassword] ? { minioRootPassword: data[k.minioRootPassword] } : {}),
    };
  }
}

const now = () => new Date().toISOString();
