/**
 * The node agent: the host half of the MCO-style handshake. It watches its own Node and, when
 * `olares.com/desired-config` differs from `olares.com/current-config`, sets state Working, fetches the
 * immutable ConfigMap `olares-node-config-<id>`, re-validates every task, cordons and drains when the
 * change needs it (see drain.ts; never on a single-node cluster), applies the config through the Host
 * and reports current-config/state/reason. A reboot-requiring change is reported Degraded
 * "RebootRequired: …" unless the node carries `olares.com/allow-reboot=true`; then the agent requests
 * the reboot through the Host and finishes the handshake when the boot id has changed (progress in
 * /var/lib/olares-agent/state.json). Between changes it checks drift (Report or Heal, from
 * `olares.com/drift-policy`) and keeps the GPU labels current. desired-config=cleanup undoes the applied
 * config. All API writes are merge patches through the ClusterClient; Events about the Node (applied,
 * degraded, reboot requested, drift, cleanup) are written in the background and never fail a sync.
 */
import type { ClusterClient, ListerWatcher } from "../kube/types.js";
import type { Logger } from "../contract/index.js";
import { createEventRecorder, type EventRecorder, type EventType } from "../kube/events.js";
import type { KubeObject, NodeConfig } from "../contract/index.js";
import { nodeConfigId, validateHostTasks, type HostTask } from "../contract/index.js";
import type { Host } from "./host/types.js";
import type { DriftEntry, TaskLog } from "./tasks/types.js";
import { applyNodeConfig, detectDrift, undoNodeConfig, type TypedNodeConfig } from "./tasks/index.js";
import {
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
  CLEANUP_CONFIG,
  decodeNodeConfigMap,
  needsDrain,
  nodeConfigMapName,
  readHandshake,
  transitionDisruption,
  truncateReason,
  type AgentState,
  type NodeHandshake,
} from "../contract/index.js";
import { cordonNode, cordonRelease, drainNode, releaseCordon, sleep, type DrainOptions } from "./drain.js";
import { detectGpus, gpuLabelPatch, gpuLabels } from "./gpu-detect.js";
import { currentBootId, loadAgentState, saveAgentState, type AgentStateFile } from "./agent-state.js";
import { watchOwnNode } from "./node-watch.js";
import { NodeStorage, type NodeStorageEnvironment } from "./storage/node-storage.js";

/** The agent's log: the operator-wide Logger (contract/logger.ts). */
export type AgentLog = Logger;

export interface AgentOptions {
  client: ClusterClient & ListerWatcher;
  host: Host;
  nodeName: string;
  /** The agent's own namespace ("olares-system"): node configs live here and its pods are never drained. */
  namespace: string;
  log: AgentLog;
  signal: AbortSignal;
  /** Drift and GPU checks (default 5 minutes). */
  driftIntervalMs?: number;
  /** Periodic re-sync, for retries and reboot waits (default 30 s). */
  resyncMs?: number;
  /** First retry delay after a failed apply, doubled up to retryMaxMs (defaults 10 s and 5 min). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** A requested reboot that has not happened after this long is reported Degraded (default 15 min). */
  rebootTimeoutMs?: number;
  drain?: Omit<DrainOptions, "skipNamespaces" | "signal" | "log">;
  /** winston logger for the node informer (defaults to silent). */
  logger?: Logger;
  /** Called after every sync (health endpoint, tests). */
  onSync?: (outcome: SyncOutcome) => void;
  /** Storage tools and service manager (default: a real host's systemd and /usr/local/bin). */
  storage?: NodeStorageEnvironment;
}

export type SyncOutcome =
  | "idle"
  | "applied"
  | "cleaned"
  | "degraded"
  | "rebooting"
  | "waiting"
  | "in-sync"
  | "drift-reported"
  | "healed"
  | "no-node";

export const REBOOT_REQUIRED = "RebootRequired";
export const DRIFT = "Drift";

/** Reasons of the Events the agent records on its Node. */
export const NODE_EVENT = {
  applied: "NodeConfigApplied",
  degraded: "NodeConfigDegraded",
  rebootRequested: "RebootRequested",
  driftDetected: "DriftDetected",
  driftHealed: "DriftHealed",
  cleanupDone: "HostCleanupDone",
} as const;

interface Failure {
  key: string;
  count: number;
  retryAt: number;
}

/** One node's agent. `sync()` is a single reconcile of the handshake; `run()` drives it. */
export class NodeAgent {
  private failure: Failure | undefined;
  private lastDriftCheck = 0;
  private lastGpuCheck = 0;
  private readonly driftIntervalMs: number;
  private readonly events: EventRecorder;
  /** The Node as last read: the involvedObject (with its uid) of our Events. */
  private node: KubeObject | undefined;
  /** The storage handshake (runs beside the node-config one, in the background). */
  readonly storage: NodeStorage;

  constructor(private readonly opts: AgentOptions) {
    this.driftIntervalMs = opts.driftIntervalMs ?? 5 * 60 * 1000;
    this.events = createEventRecorder({
      client: opts.client,
      component: "olares-node-agent",
      instance: opts.nodeName,
      ...(opts.logger ? { logger: opts.logger } : {}),
    });
    this.storage = new NodeStorage({
      client: opts.client,
      host: opts.host,
      nodeName: opts.nodeName,
      log: opts.log,
      signal: opts.signal,
      ...(opts.storage ? { environment: opts.storage } : {}),
      event: (type, reason, message) => this.event(type, reason, message),
    });
  }

  /** Records an Event on the Node in the background; a failed write is logged by the recorder, never thrown. */
  private event(type: EventType, reason: string, message: string): void {
    try {
      this.events.record(this.node ?? { apiVersion: "v1", kind: "Node", metadata: { name: this.opts.nodeName } }, type, reason, message);
    } catch (err) {
      this.log.warn("agent: could not record event", { reason, error: (err as Error).message });
    }
  }

  /** Waits for the Events recorded so far to be written (tests, shutdown). Never rejects. */
  async flushEvents(): Promise<void> {
    await this.events.flush().catch(() => undefined);
  }

  private get client() {
    return this.opts.client;
  }
  private get host() {
    return this.opts.host;
  }
  private get log() {
    return this.opts.log;
  }

  private nodeRef() {
    return { apiVersion: "v1", kind: "Node", name: this.opts.nodeName };
  }

  private taskLog(): TaskLog {
    return { info: (m, meta) => this.log.info(m, meta), warn: (m, meta) => this.log.warn(m, meta) };
  }

  private async patchNode(patch: Record<string, unknown>): Promise<KubeObject> {
    return this.client.patch(this.nodeRef(), patch, "merge");
  }

  private async report(state: AgentState, reason: string, extra: Record<string, string | null> = {}): Promise<void> {
    await this.patchNode({
      metadata: { annotations: { [ANNOTATION_STATE]: state, [ANNOTATION_REASON]: truncateReason(reason), ...extra } },
    });
  }

  /** Done on `configId`, ending our cordon in the same patch when we placed one. */
  private async reportDone(node: KubeObject, configId: string): Promise<void> {
    const release = cordonRelease(node);
    await this.patchNode({
      metadata: {
        annotations: {
          [ANNOTATION_CURRENT_CONFIG]: configId,
          [ANNOTATION_STATE]: "Done",
          [ANNOTATION_REASON]: "",
          ...release?.annotations,
        },
      },
      ...release?.spec,
    });
  }

  private async fetchConfig(id: string): Promise<NodeConfig> {
    const cm = await this.client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: this.opts.namespace, name: nodeConfigMapName(id) });
    if (!cm) throw new Error(`ConfigMissing: configmap ${this.opts.namespace}/${nodeConfigMapName(id)} not found`);
    const config = decodeNodeConfigMap(cm, id);
    const errors = validateHostTasks(config.tasks as HostTask[]);
    if (errors.length > 0) throw new Error(`ConfigInvalid: ${errors.join("; ")}`);
    const hash = nodeConfigId(config.tasks);
    if (hash !== id) throw new Error(`ConfigInvalid: content hash ${hash} does not match config id ${id}`);
    return config;
  }

  /** The config this host really runs: from the state file, else its ConfigMap if it still exists. */
  private async appliedConfig(state: AgentStateFile, currentId: string | undefined): Promise<NodeConfig | undefined> {
    if (!currentId || currentId === CLEANUP_CONFIG) return undefined;
    if (state.applied?.id === currentId) return state.applied;
    try {
      return await this.fetchConfig(currentId);
    } catch (err) {
      this.log.warn("agent: config the node reports as current is unavailable", { config: currentId, error: (err as Error).message });
      return undefined;
    }
  }

  private async isSingleNode(): Promise<boolean> {
    return (await this.client.list("v1", "Node")).length <= 1;
  }

  /** Cordons and drains when moving `from` → `to` needs it, unless this is the only node. */
  private async prepareNode(node: KubeObject, from: NodeConfig | undefined, to: NodeConfig | undefined, why: string, retrying = false): Promise<void> {
    const disruption = transitionDisruption(from, to);
    if (!needsDrain(disruption)) return;
    if (await this.isSingleNode()) {
      this.log.info("agent: single-node cluster, not draining", { disruption });
      return;
    }
    if (!retrying) await this.report("Working", `Draining for ${why} (disruption ${disruption})`);
    await cordonNode(this.client, node);
    const result = await drainNode(this.client, this.opts.nodeName, {
      ...this.opts.drain,
      skipNamespaces: [this.opts.namespace],
      signal: this.opts.signal,
      log: this.log,
    });
    this.log.info("agent: node drained", { evicted: result.evicted.length, skipped: result.skipped.length });
  }

  private backoffKey(hs: NodeHandshake): string {
    return `${hs.desired ?? ""}|${hs.allowReboot}`;
  }

  /** Backs off retries of the same desired config and policy; `retry: false` waits for either to change. */
  private recordFailure(hs: NodeHandshake, retry: boolean): void {
    const key = this.backoffKey(hs);
    const count = this.failure?.key === key ? this.failure.count + 1 : 1;
    const base = this.opts.retryBaseMs ?? 10_000;
    const delay = Math.min(base * 2 ** (count - 1), this.opts.retryMaxMs ?? 5 * 60 * 1000);
    this.failure = { key, count, retryAt: retry ? Date.now() + delay : Number.POSITIVE_INFINITY };
  }

  private async degrade(hs: NodeHandshake, reason: string, opts: { retry: boolean } = { retry: true }): Promise<SyncOutcome> {
    this.recordFailure(hs, opts.retry);
    this.log.warn("agent: degraded", { reason });
    this.event("Warning", NODE_EVENT.degraded, reason);
    await this.report("Degraded", reason);
    return "degraded";
  }

  /** One pass over the handshake. Never throws for host or config errors: they become Degraded. */
  async sync(): Promise<SyncOutcome> {
    const node = await this.client.get(this.nodeRef());
    if (!node) return "no-node";
    this.node = node;
    this.storage.sync(node);
    await this.refreshGpuLabels(node);
    const hs = readHandshake(node);
    const state = await loadAgentState(this.host);
    if (state.reboot) return this.continueReboot(node, hs, state);
    if (!hs.desired) return "idle";
    if (hs.desired === hs.current) return this.inSync(node, hs, state);
    if (hs.state === "Degraded" && this.failure?.key === this.backoffKey(hs) && Date.now() < this.failure.retryAt) return "waiting";
    try {
      return hs.desired === CLEANUP_CONFIG ? await this.cleanup(node, hs, state) : await this.applyDesired(node, hs, state);
    } catch (err) {
      if (this.opts.signal.aborted) throw err;
      return this.degrade(hs, (err as Error).message);
    }
  }

  private async applyDesired(node: KubeObject, hs: NodeHandshake, state: AgentStateFile): Promise<SyncOutcome> {
    const id = hs.desired!;
    // A retry of the config that failed here stays Degraded until it succeeds: flipping to Working on
    // every retry would let the rollout hand the config to healthy nodes in that window and make the
    // CR's Degraded condition flap.
    const retrying = hs.state === "Degraded" && this.failure?.key === this.backoffKey(hs);
    if (!retrying) await this.report("Working", `Applying config ${id}`);
    const config = await this.fetchConfig(id);
    const from = await this.appliedConfig(state, hs.current);
    await this.prepareNode(node, from, config, `config ${id}`, retrying);
    if (!retrying) await this.report("Working", `Applying config ${id}`);
    const result = await applyNodeConfig(this.host, config as TypedNodeConfig, {
      allowReboot: hs.allowReboot,
      log: this.taskLog(),
      ...(from ? { previous: from as TypedNodeConfig } : {}),
    });
    if (result.error) {
      const rolledBack = result.rolledBack.length ? ` (rolled back: ${result.rolledBack.join(", ")})` : "";
      return this.degrade(hs, `Task ${result.error.taskId} failed: ${result.error.message}${rolledBack}`);
    }
    if (result.removeErrors?.length) {
      return this.degrade(hs, `Undo of tasks removed from the config failed: ${result.removeErrors.map((e) => `task ${e.taskId}: ${e.message}`).join("; ")}`);
    }
    if (result.removed?.length) this.log.info("agent: undid tasks the new config dropped", { tasks: result.removed });
    if (result.rebootRequired) {
      const rebootTasks = config.tasks.filter((t) => t.disruption === "reboot").map((t) => t.id);
      if (!hs.allowReboot) {
        return this.degrade(
          hs,
          `${REBOOT_REQUIRED}: config ${id} needs a reboot for ${rebootTasks.join(", ")}; set spec.nodes.rollout.allowReboot=true to let the agent reboot this node`,
          { retry: false },
        );
      }
      const bootId = await currentBootId(this.host);
      await saveAgentState(this.host, {
        version: 1,
        applied: config,
        reboot: { configId: id, ...(bootId ? { bootId } : {}), requestedAt: new Date().toISOString() },
      });
      await this.report("Working", `Rebooting to finish config ${id} (${rebootTasks.join(", ")})`);
      this.log.info("agent: requesting reboot", { config: id });
      this.event("Normal", NODE_EVENT.rebootRequested, `Rebooting to finish config ${id} (${rebootTasks.join(", ")})`);
      await this.host.runChecked(["systemctl", "reboot"], { timeoutMs: 60_000 });
      return "rebooting";
    }
    await saveAgentState(this.host, { version: 1, applied: config });
    this.failure = undefined;
    this.lastDriftCheck = Date.now();
    await this.reportDone(await this.freshNode(node), id);
    this.log.info("agent: config applied", { config: id, changed: result.changed });
    const changed = result.changed.length ? `changed: ${result.changed.join(", ")}` : "no changes needed";
    const removed = result.removed?.length ? `; undid dropped tasks: ${result.removed.join(", ")}` : "";
    this.event("Normal", NODE_EVENT.applied, `Applied node config ${id} (${changed}${removed})`);
    return "applied";
  }

  /**
   * After a requested reboot: once the boot id changed, the config is applied again (a no-op unless a
   * further reboot task is due) and reported Done. A reboot that does not happen is reported Degraded
   * and still awaited, so a manual reboot finishes the handshake.
   */
  private async continueReboot(node: KubeObject, hs: NodeHandshake, state: AgentStateFile): Promise<SyncOutcome> {
    const pending = state.reboot!;
    const bootId = await currentBootId(this.host);
    const rebooted = pending.bootId === undefined || (bootId !== undefined && bootId !== pending.bootId);
    if (!rebooted) {
      if (Date.now() - Date.parse(pending.requestedAt) <= (this.opts.rebootTimeoutMs ?? 15 * 60 * 1000)) return "waiting";
      const reason = truncateReason(`RebootTimeout: reboot requested at ${pending.requestedAt} for config ${pending.configId} did not happen; reboot the node to finish`);
      if (hs.state !== "Degraded" || hs.reason !== reason) {
        this.event("Warning", NODE_EVENT.degraded, reason);
        await this.report("Degraded", reason);
      }
      return "degraded";
    }
    const { reboot: _done, ...rest } = state;
    await saveAgentState(this.host, rest);
    this.log.info("agent: node rebooted", { config: pending.configId, bootId });
    if (hs.desired !== pending.configId || !hs.desired) return "waiting";
    try {
      return await this.applyDesired(node, hs, rest);
    } catch (err) {
      if (this.opts.signal.aborted) throw err;
      return this.degrade(hs, (err as Error).message);
    }
  }

  private async cleanup(node: KubeObject, hs: NodeHandshake, state: AgentStateFile): Promise<SyncOutcome> {
    await this.report("Working", "Undoing host configuration");
    // What the host last applied successfully, even if the node never reported it.
    const config = state.applied ?? (await this.appliedConfig(state, hs.current));
    if (config) {
      await this.prepareNode(node, config, undefined, "cleanup");
      await this.report("Working", `Undoing config ${config.id}`);
      const undo = await undoNodeConfig(this.host, config as TypedNodeConfig, { log: this.taskLog() });
      if (undo.errors.length > 0) {
        return this.degrade(hs, `Cleanup failed: ${undo.errors.map((e) => `task ${e.taskId}: ${e.message}`).join("; ")}`);
      }
    }
    await saveAgentState(this.host, { version: 1 });
    this.failure = undefined;
    await this.reportDone(await this.freshNode(node), CLEANUP_CONFIG);
    this.log.info("agent: host configuration undone", { config: config?.id ?? "none" });
    this.event("Normal", NODE_EVENT.cleanupDone, config ? `Undid host configuration of node config ${config.id}` : "No host configuration to undo");
    return "cleaned";
  }

  /**
   * desired == current: finish a leftover cordon, then check drift when due. A node Degraded for
   * another reason (a failed attempt at a config that was since withdrawn, rolled back) is re-verified
   * at once: the host running its current config cleanly is Done, else it is drift.
   */
  private async inSync(node: KubeObject, hs: NodeHandshake, state: AgentStateFile): Promise<SyncOutcome> {
    if (hs.state !== "Degraded" && (hs.state !== "Done" || hs.wasUnschedulable !== undefined)) {
      await this.reportDone(node, hs.current!);
    }
    if (hs.current === CLEANUP_CONFIG) {
      if (hs.state === "Degraded") await this.clearStaleFailure(node, hs);
      return "in-sync";
    }
    const driftFlagged = hs.state === "Degraded" && hs.reason.startsWith(DRIFT);
    const staleFailure = hs.state === "Degraded" && !driftFlagged;
    if (Date.now() - this.lastDriftCheck < this.driftIntervalMs && !driftFlagged && !staleFailure) return "in-sync";
    this.lastDriftCheck = Date.now();
    const config = await this.appliedConfig(state, hs.current);
    if (!config) return "in-sync";
    const drift = await detectDrift(this.host, config as TypedNodeConfig);
    if (drift.length === 0) {
      if (staleFailure) await this.clearStaleFailure(node, hs);
      else if (driftFlagged) await this.report("Done", "");
      return "in-sync";
    }
    const summary = drift.map((d: DriftEntry) => `${d.path} (${d.taskId}): ${d.message}`).join("; ");
    if (hs.driftPolicy !== "Heal") {
      const reason = truncateReason(`${DRIFT}: ${summary}`);
      if (hs.reason !== reason || hs.state !== "Degraded") {
        this.event("Warning", NODE_EVENT.driftDetected, `${summary} (driftPolicy Report: not healed)`);
        await this.report("Degraded", reason);
      }
      this.log.warn("agent: drift detected", { drift: summary });
      return "drift-reported";
    }
    this.log.warn("agent: drift detected, healing", { drift: summary });
    this.event("Warning", NODE_EVENT.driftDetected, `${summary} (driftPolicy Heal: healing)`);
    const result = await applyNodeConfig(this.host, config as TypedNodeConfig, { allowReboot: hs.allowReboot, log: this.taskLog() });
    if (result.error) return this.degrade(hs, `${DRIFT}: healing failed at ${result.error.taskId}: ${result.error.message}`);
    this.event("Normal", NODE_EVENT.driftHealed, `Healed drift: ${result.changed.join(", ") || "nothing left to change"}`);
    if (hs.state !== "Done" || hs.reason !== "") await this.report("Done", "");
    return "healed";
  }

  /** The host runs its current config cleanly: the Degraded reason is from an attempt no longer wanted. */
  private async clearStaleFailure(node: KubeObject, hs: NodeHandshake): Promise<void> {
    this.failure = undefined;
    this.log.info("agent: current config verified, clearing stale failure", { config: hs.current, reason: hs.reason });
    await this.reportDone(node, hs.current!);
  }

  private async freshNode(fallback: KubeObject): Promise<KubeObject> {
    return (await this.client.get(this.nodeRef())) ?? fallback;
  }

  private async refreshGpuLabels(node: KubeObject): Promise<void> {
    if (this.lastGpuCheck !== 0 && Date.now() - this.lastGpuCheck < this.driftIntervalMs) return;
    this.lastGpuCheck = Date.now();
    try {
      const facts = await detectGpus(this.host);
      const patch = gpuLabelPatch(node.metadata.labels, gpuLabels(facts));
      if (Object.keys(patch).length === 0) return;
      await this.patchNode({ metadata: { labels: patch } });
      this.log.info("agent: GPU labels updated", { labels: patch });
    } catch (err) {
      this.log.warn("agent: GPU detection failed", { error: (err as Error).message });
    }
  }

  /** Forces the next sync to check drift and GPUs (tests, SIGHUP). */
  checkNow(): void {
    this.lastDriftCheck = 0;
    this.lastGpuCheck = 0;
  }

  /** Watches the node and re-syncs on changes and every resyncMs, one sync at a time, until aborted. */
  async run(): Promise<void> {
    const { signal } = this.opts;
    let wake: (() => void) | undefined;
    let pending = true;
    const trigger = (): void => {
      pending = true;
      wake?.();
    };
    const watch = watchOwnNode(this.client, this.opts.nodeName, { onChange: trigger, ...(this.opts.logger ? { logger: this.opts.logger } : {}) });
    const resync = setInterval(trigger, this.opts.resyncMs ?? 30_000);
    signal.addEventListener("abort", trigger, { once: true });
    try {
      while (!signal.aborted) {
        if (!pending) await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        if (signal.aborted) break;
        pending = false;
        try {
          const outcome = await this.sync();
          this.opts.onSync?.(outcome);
        } catch (err) {
          if (signal.aborted) break;
          this.log.error("agent: sync failed", { error: (err as Error).message });
          await sleep(Math.min(this.opts.resyncMs ?? 30_000, 5_000), signal).catch(() => undefined);
          pending = true;
        }
      }
    } finally {
      clearInterval(resync);
      await watch.stop();
      // Last Events out, but a slow API server must not hold up shutdown.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.flushEvents(), new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)))]);
      clearTimeout(timer);
    }
  }
}

/** Runs the agent until `signal` aborts. */
export async function runAgent(opts: AgentOptions): Promise<void> {
  await new NodeAgent(opts).run();
}
