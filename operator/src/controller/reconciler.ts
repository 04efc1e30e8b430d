// Reconciles the single honoured OlaresInstallation: walks the rendered stages in order (apply, then
// readiness), stops at the first stage that is not ready, prunes what is no longer wanted and writes
// status computed from observations only. Level-triggered: call it with the CR name on any change.
import { defaultSpec, formatProblem, isDowngrade, validateInstallation, type DefaultedSpec } from "../api/index.js";
import type { ClusterClient } from "../kube/types.js";
import type { OperatorMetrics } from "../kube/metrics.js";
import { createEventRecorder, type EventType } from "../kube/events.js";
import { realClock } from "../kube/clock.js";
import { isApiError } from "../kube/errors.js";
import {
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  API_VERSION,
  canonicalJson,
  FINALIZER,
  KIND,
  SYSTEM_NAMESPACE,
  nodeConfigMapName,
  parseManagedStoragePorts,
  refOf,
  silentLogger,
  stageHook,
  type ClusterFacts,
  type DesiredState,
  type KubeObject,
  type Logger,
  type ManagedStoragePorts,
  type ObjectRef,
  type ObservedState,
  type Readiness,
  type Stage,
  type StorageStatusReport,
} from "../contract/index.js";
import { allObjects, render, STAGE_REGISTRY } from "../render/index.js";
import { needsApply } from "./diff.js";
import { gatherFacts } from "./facts.js";
import { honouredInstallation } from "./honoured.js";
import { ownedObjects, pruneUndesired } from "./prune.js";
import { nodesStatusOf, runStageHooks, type HookContext } from "./stage-hooks.js";
import {
  computeStatus,
  condition,
  statusUnchanged,
  waitingReadiness,
  withTransitionTimes,
  type InstallationStatus,
  type NodesStatus,
  type StageResult,
} from "./status.js";
import { cleanupNodes, rolloutNodeConfigs, type RolloutContext } from "./node-rollout.js";
import { reconcileView } from "./reconcile-view.js";
import { NodeWriteOverlay } from "./node-writes.js";
import { ReleaseController, uninstallReleases, withSnapshot, type ReleaseObservation, type ReleaseRuntime } from "./release.js";
import { StatusWriteOverlay } from "./status-writes.js";

export type { Logger } from "../contract/index.js";
export { silentLogger } from "../contract/index.js";

/** Where Events about the CR go (kube/events.ts EventRecorder in production). */
export interface EventSink {
  emit(about: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

/** The API the reconciler writes through; `create` (strict POST) is used for generated Secrets. */
export type ReconcileClient = ClusterClient & { create(obj: KubeObject): Promise<KubeObject> };

export interface ReconcilerOptions {
  client: ReconcileClient;
  /** Cache-backed view of the cluster (informers, or the fake's live view in tests). */
  observed: ObservedState;
  operatorImage: string;
  /** Ports of the managed Redis/MinIO (default: OLARES_STORAGE_MANAGED_PORTS, else olares-cli's 6379/9000/9090). */
  storageManagedPorts?: ManagedStoragePorts;
  /** Namespace the operator runs in; Secret references without a namespace point there. */
  operatorNamespace?: string;
  log?: Logger;
  now?: () => Date;
  events?: EventSink;
  /** Requeue delay while stages are progressing. */
  progressRequeueMs?: number;
  /** Per-stage reconcile count, duration and errors. */
  metrics?: OperatorMetrics;
  /** helm, the release origin and its cache: the Olares release is installed only with one. */
  release?: ReleaseRuntime;
  /**
   * Progress-only status changes (stage messages, components, node counts) within this many ms of the
   * last status write wait for the next reconcile; phase, Ready, Degraded, SpecValid and generation
   * changes are written at once. 0 (default) writes every change.
   */
  statusCoalesceMs?: number;
}

export interface ReconcileResult {
  /** Reconcile again after this long (undefined: only on the next event or resync). */
  requeueAfterMs?: number;
}

export const DEFAULT_PROGRESS_REQUEUE_MS = 5000;

function crRef(name: string): ObjectRef {
  return { apiVersion: API_VERSION, kind: KIND, name };
}

function timestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class Reconciler {
  private readonly client: ReconcileClient;
  private readonly observed: ObservedState;
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly events: EventSink;
  private readonly progressRequeueMs: number;
  private readonly nodeWrites = new NodeWriteOverlay();
  private readonly release: ReleaseController | undefined;
  private readonly ownStatusWrites = new StatusWriteOverlay();
  private readonly lastEvent = new Map<string, string>();
  private readonly lastStatusWrite = new Map<string, number>();
  private specCheck: { key: string; problem: string | undefined } | undefined;

  private readonly storagePorts: ManagedStoragePorts | undefined;

  constructor(private readonly opts: ReconcilerOptions) {
    this.storagePorts = opts.storageManagedPorts ?? parseManagedStoragePorts(process.env["OLARES_STORAGE_MANAGED_PORTS"]);
    this.client = opts.client;
    this.observed = opts.observed;
    this.log = opts.log ?? silentLogger;
    this.now = opts.now ?? (() => new Date());
    // Without a recorder from the manager: same recorder, count updates written at once (no timers).
    this.events =
      opts.events ??
      createEventRecorder({ client: opts.client, patchIntervalMs: 0, clock: { ...realClock, now: () => this.now().getTime() } });
    this.progressRequeueMs = opts.progressRequeueMs ?? DEFAULT_PROGRESS_REQUEUE_MS;
    this.release = opts.release ? new ReleaseController(opts.release, opts.client, opts.operatorNamespace) : undefined;
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const cached = this.observed.get(crRef(name));
    if (!cached) return {};
    const cr = this.ownStatusWrites.overlay(cached);
    if (cr.metadata.deletionTimestamp) return this.finalize(cr);
    const honoured = honouredInstallation(this.observed.list(API_VERSION, KIND));
    if (honoured && honoured.metadata.name !== name) return this.ignore(cr, honoured);

    const informerView = reconcileView(this.observed, this.nodeWrites);
    let spec: DefaultedSpec;
    let desired: DesiredState;
    let release: ReleaseObservation | undefined;
    let view: ObservedState = informerView;
    // The same checks as `validate` and admission, before anything is applied or pruned.
    const problem = this.cachedSpecProblem(cr);
    if (problem) return this.invalid(cr, new Error(problem));
    try {
      spec = defaultedSpec(cr);
    } catch (err) {
      return this.invalid(cr, err as Error);
    }
    let facts: ClusterFacts;
    try {
      facts = gatherFacts(cr, spec, informerView, this.opts.operatorImage, this.storagePorts);
    } catch (err) {
      return this.invalid(cr, err as Error);
    }
    if (this.release) {
      release = await this.release.observe(cr, spec, informerView, spec.paused === true, facts.nodes.map((n) => n.name));
      view = withSnapshot(informerView, release.snapshot);
    }
    try {
      desired = render(spec, release ? { ...facts, release: release.facts } : facts);
    } catch (err) {
      return this.invalid(cr, err as Error);
    }
    const paused = spec.paused === true;
    if (!paused) await this.ensureFinalizer(cr);

    const results: StageResult[] = [];
    let blocking: Stage["name"] | undefined;
    let nodes: NodesStatus | undefined;
    let storage: StorageStatusReport | undefined;
    for (const stage of desired.stages) {
      if (blocking) {
        results.push({ name: stage.name, readiness: waitingReadiness(blocking, stage.ready(view)) });
        continue;
      }
      const readiness = await this.measure(stage.name, () => this.reconcileStage(cr, spec, stage, paused, view, (n) => (nodes = n), release, (s) => (storage = s)));
      results.push({ name: stage.name, readiness });
      if (!readiness.ready) blocking = stage.name;
    }

    // A NodeConfig stage that waited on an earlier one still reports what the nodes say.
    const rolloutHook = desired.stages.map((st) => stageHook(st, "NodeRollout")).find((h) => h !== undefined);
    if (!nodes && rolloutHook) nodes = nodesStatusOf(await rolloutNodeConfigs(this.rolloutContext(cr, spec, view), rolloutHook.configs, { observeOnly: true }));

    if (!paused) await this.prune(cr, desired, view);
    const stageResults = withDisabledStages(results);

    const previous = cr.status as InstallationStatus | undefined;
    const status = computeStatus({
      generation: cr.metadata.generation ?? 0,
      previous,
      specVersion: spec.version,
      specStorageType: spec.storage.type,
      rootPath: spec.storage.rootPath,
      stages: stageResults,
      paused,
      anythingApplied: ownedObjects(this.observed, name).length > 0,
      ...(nodes ? { nodes } : {}),
      ...(storage ? { storage } : {}),
      now: timestamp(this.now()),
    });
    const deferredMs = await this.writeStatus(cr, status, { coalesce: true }).then((r) => r.deferredMs);
    if (deferredMs !== undefined) return { requeueAfterMs: deferredMs };
    return status.phase === "Ready" || paused ? {} : { requeueAfterMs: this.progressRequeueMs };
  }

  /** specProblem, computed again only when the spec or the rolled-out version changed. */
  private cachedSpecProblem(cr: KubeObject): string | undefined {
    const key = canonicalJson([cr.metadata.name, cr.spec, (cr.status as InstallationStatus | undefined)?.version]);
    if (this.specCheck?.key !== key) this.specCheck = { key, problem: specProblem(cr) };
    return this.specCheck.problem;
  }

  /** Applies one stage's objects (unless paused), reads its readiness back and runs its hooks. */
  private async reconcileStage(
    cr: KubeObject,
    spec: DefaultedSpec,
    stage: Stage,
    paused: boolean,
    view: ObservedState,
    reportNodes: (n: NodesStatus) => void,
    release?: ReleaseObservation,
    reportStorage?: (s: StorageStatusReport) => void,
  ): Promise<Readiness> {
    if (!paused) {
      const rejected = await this.applyObjects(stage);
      if (rejected) return rejected;
    }
    const hookContext: HookContext = {
      client: this.client,
      observed: this.observed,
      cr,
      spec,
      paused,
      log: this.log,
      ...(this.opts.operatorNamespace ? { operatorNamespace: this.opts.operatorNamespace } : {}),
      rollout: () => this.rolloutContext(cr, spec, view),
      reportNodes,
      ...(reportStorage ? { reportStorage } : {}),
      event: (type, reason, message) => {
        this.events.emit(cr, type, reason, message).catch((err: unknown) => this.log.warn("could not record event", { reason, error: (err as Error).message }));
      },
      view,
      ...(release && this.release ? { release: { installer: this.release.installer, records: release.records, client: this.release.releaseClient } } : {}),
    };
    return runStageHooks(hookContext, stage.hooks, stage.ready(view));
  }

  private async measure(stage: string, fn: () => Promise<Readiness>): Promise<Readiness> {
    const m = this.opts.metrics;
    const end = m?.reconcileDuration.startTimer({ stage });
    try {
      const r = await fn();
      m?.reconcileTotal.inc({ stage, result: r.ready ? "ready" : "progressing" });
      return r;
    } catch (err) {
      m?.reconcileTotal.inc({ stage, result: "error" });
      m?.reconcileErrors.inc({ stage });
      throw err;
    } finally {
      end?.();
    }
  }

  private rolloutContext(cr: KubeObject, spec: DefaultedSpec, observed: ObservedState = this.observed): RolloutContext {
    return {
      client: this.client,
      observed,
      spec,
      installationName: cr.metadata.name,
      namespace: SYSTEM_NAMESPACE,
      log: this.log,
      now: this.now,
      recordNodeWrite: (before, after) => this.nodeWrites.record(before, after),
    };
  }

  /**
   * Server-side applies the stage's objects. An object the API server refuses for what it is (400/422:
   * an invalid or immutable field) would be refused on every retry, so it becomes the stage's Degraded
   * verdict naming the object and field — status is written — instead of an error that ends the reconcile.
   */
  private async applyObjects(stage: Stage): Promise<Readiness | undefined> {
    for (const obj of stage.objects) {
      if (!needsApply(obj, this.observed.get(refOf(obj)))) continue;
      this.log.info("applying", { stage: stage.name, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace });
      try {
        await this.client.apply(obj, { force: true });
      } catch (err) {
        if (!isApiError(err) || (err.status !== 422 && err.status !== 400)) throw err;
        const what = `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ""}${obj.metadata.name}`;
        const fields = err.causes.filter((c) => c.field).map((c) => `${c.field}: ${c.message ?? c.reason ?? "invalid"}`);
        const message = `the API server refused ${what} (${err.status} ${err.reason}): ${fields.length ? fields.join("; ") : err.message}`;
        this.log.error("apply refused", { stage: stage.name, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, status: err.status, error: message });
        return { ready: false, degraded: true, reason: "ApplyRejected", message };
      }
    }
    return undefined;
  }

  /** Node configs a node still runs or is moving to stay until no node references them. */
  private referencedNodeConfigs(view: ObservedState): Set<string> {
    const names = new Set<string>();
    for (const node of view.list("v1", "Node")) {
      for (const key of [ANNOTATION_CURRENT_CONFIG, ANNOTATION_DESIRED_CONFIG]) {
        const id = node.metadata.annotations?.[key];
        if (id) names.add(nodeConfigMapName(id));
      }
    }
    return names;
  }

  private async prune(cr: KubeObject, desired: DesiredState, view: ObservedState): Promise<void> {
    const referenced = this.referencedNodeConfigs(view);
    const deleted = await pruneUndesired(this.client, this.observed, cr.metadata.name, allObjects(desired), {
      ownerUid: cr.metadata.uid ?? "",
      keep: (o) => o.kind === "ConfigMap" && referenced.has(o.metadata.name),
    });
    for (const ref of deleted) this.log.info("pruned", { kind: ref.kind, name: ref.name, namespace: ref.namespace });
  }

  private async ensureFinalizer(cr: KubeObject): Promise<void> {
    const finalizers = cr.metadata.finalizers ?? [];
    if (finalizers.includes(FINALIZER)) return;
    await this.client.patch(
      crRef(cr.metadata.name),
      { metadata: { finalizers: [...finalizers, FINALIZER], resourceVersion: cr.metadata.resourceVersion } },
      "merge",
    );
  }

  private async removeFinalizer(cr: KubeObject): Promise<void> {
    const finalizers = cr.metadata.finalizers ?? [];
    await this.client.patch(
      crRef(cr.metadata.name),
      { metadata: { finalizers: finalizers.filter((f) => f !== FINALIZER), resourceVersion: cr.metadata.resourceVersion } },
      "merge",
    );
  }

  private async finalize(cr: KubeObject): Promise<ReconcileResult> {
    if (!(cr.metadata.finalizers ?? []).includes(FINALIZER)) return {};
    let spec: DefaultedSpec;
    try {
      spec = defaultedSpec(cr);
    } catch {
      spec = cr.spec as DefaultedSpec;
    }
    // The Olares release goes first (its pods stop), then the hosts are cleaned up.
    const notUninstalled = this.release ? await uninstallReleases(this.client, this.release.installer, this.log) : [];
    const cleanup = notUninstalled.length
      ? { done: false, message: `uninstalling the Olares release: ${notUninstalled.join("; ")}` }
      : await cleanupNodes(this.rolloutContext(cr, spec, reconcileView(this.observed, this.nodeWrites)));
    const previous = cr.status as InstallationStatus | undefined;
    const generation = cr.metadata.generation ?? 0;
    const kept = (previous?.conditions ?? []).filter((c) => c.type !== "Ready" && c.type !== "Progressing");
    const status: InstallationStatus = {
      ...previous,
      observedGeneration: generation,
      phase: "Deleting",
      message: cleanup.message,
      conditions: [
        ...withTransitionTimes(
          [
            { type: "Ready", status: "False", reason: "Deleting", message: cleanup.message },
            { type: "Progressing", status: "True", reason: "Deleting", message: cleanup.message },
          ],
          previous?.conditions,
          generation,
          timestamp(this.now()),
        ),
        ...kept,
      ],
    };
    const latest = await this.writeStatus(cr, status);
    if (!cleanup.done) return { requeueAfterMs: this.progressRequeueMs };
    await this.removeFinalizer(latest);
    this.log.info("host cleanup finished; finalizer removed", { installation: cr.metadata.name });
    return {};
  }

  private async ignore(cr: KubeObject, honoured: KubeObject): Promise<ReconcileResult> {
    const generation = cr.metadata.generation ?? 0;
    const previous = cr.status as InstallationStatus | undefined;
    const message = `only one OlaresInstallation is honoured: "${honoured.metadata.name}" (the oldest) is active`;
    const status: InstallationStatus = {
      observedGeneration: generation,
      phase: "Ignored",
      message,
      conditions: withTransitionTimes(
        [{ type: "Ready", status: "False", reason: "Ignored", message }],
        previous?.conditions,
        generation,
        timestamp(this.now()),
      ),
    };
    await this.writeStatus(cr, status);
    return {};
  }

  private async invalid(cr: KubeObject, err: Error): Promise<ReconcileResult> {
    const generation = cr.metadata.generation ?? 0;
    const previous = cr.status as InstallationStatus | undefined;
    const message = `invalid spec: ${err.message}`;
    this.log.warn("cannot render the installation", { installation: cr.metadata.name, error: err.message });
    const summary = new Set(["Ready", "Progressing", "Degraded", "SpecValid"]);
    const status: InstallationStatus = {
      ...previous,
      observedGeneration: generation,
      phase: "Degraded",
      message,
      conditions: [
        ...withTransitionTimes(
          [
            { type: "Ready", status: "False", reason: "InvalidSpec", message },
            { type: "Progressing", status: "False", reason: "InvalidSpec", message },
            { type: "Degraded", status: "True", reason: "InvalidSpec", message },
            { type: "SpecValid", status: "False", reason: "InvalidSpec", message },
          ],
          previous?.conditions,
          generation,
          timestamp(this.now()),
        ),
        // stage conditions keep what was last observed (nothing is applied while the spec is invalid)
        ...(previous?.conditions ?? []).filter((c) => !summary.has(c.type)),
      ],
    };
    await this.writeStatus(cr, status);
    return {};
  }

  /** Writes status when it changed; returns the latest object (its resourceVersion for later patches). */
  private async writeStatus(cr: KubeObject, status: InstallationStatus): Promise<KubeObject>;
  private async writeStatus(cr: KubeObject, status: InstallationStatus, opts: { coalesce: true }): Promise<{ deferredMs?: number }>;
  private async writeStatus(cr: KubeObject, status: InstallationStatus, opts?: { coalesce: true }): Promise<KubeObject | { deferredMs?: number }> {
    const previous = cr.status as InstallationStatus | undefined;
    if (statusUnchanged(previous, status)) return opts ? {} : cr;
    const coalesceMs = this.opts.statusCoalesceMs ?? 0;
    if (opts && coalesceMs > 0 && previous && progressOnly(previous, status)) {
      const since = this.now().getTime() - (this.lastStatusWrite.get(cr.metadata.name) ?? 0);
      if (since < coalesceMs) return { deferredMs: coalesceMs - since };
    }
    this.lastStatusWrite.set(cr.metadata.name, this.now().getTime());
    const updated = await this.client.applyStatus({ apiVersion: API_VERSION, kind: KIND, metadata: { name: cr.metadata.name }, status });
    this.ownStatusWrites.record(cr, updated, status);
    await this.emitTransitions(cr, previous, status);
    return opts ? {} : (updated ?? cr);
  }

  /**
   * One Event per phase change (Warning when Degraded); stage progress lives in the <Stage>Ready
   * conditions. An Event identical to the last one about this CR is not sent again.
   */
  private async emitTransitions(cr: KubeObject, previous: InstallationStatus | undefined, next: InstallationStatus): Promise<void> {
    if (!next.phase || previous?.phase === next.phase) return;
    const type = next.phase === "Degraded" ? "Warning" : "Normal";
    const message = next.message ?? next.phase;
    const key = `${type}/${next.phase}/${message}`;
    if (this.lastEvent.get(cr.metadata.name) === key) return;
    this.lastEvent.set(cr.metadata.name, key);
    try {
      await this.events.emit(cr, type, next.phase, message);
    } catch (err) {
      this.log.warn("could not record event", { reason: next.phase, error: (err as Error).message });
    }
  }
}

/** Only progress details changed: same phase, generation and Ready/Degraded/SpecValid/Progressing statuses. */
function progressOnly(previous: InstallationStatus, next: InstallationStatus): boolean {
  if (previous.phase !== next.phase || previous.observedGeneration !== next.observedGeneration || previous.version !== next.version) return false;
  for (const type of ["Ready", "Degraded", "SpecValid", "Progressing"]) {
    if (condition(previous, type)?.status !== condition(next, type)?.status) return false;
  }
  return true;
}

/**
 * Every stage keeps its `<Stage>Ready` condition: a stage the spec disables reports True/Disabled, so
 * the condition set is stable (GitOps health checks and `kubectl wait` never see a condition vanish).
 */
export function withDisabledStages(results: StageResult[]): StageResult[] {
  return STAGE_REGISTRY.map(
    (entry) =>
      results.find((r) => r.name === entry.name) ?? {
        name: entry.name,
        readiness: { ready: true, reason: "Disabled", message: `stage ${entry.name} is disabled by the spec` },
      },
  );
}

/**
 * The first problem `validate` would report for this CR (schema, CEL, semantic rules), plus a downgrade
 * below the version already rolled out (status.version: the controller has no stored object to compare
 * with, the API server's transition rule does). Undefined when the spec is valid.
 */
export function specProblem(cr: KubeObject): string | undefined {
  const doc = { apiVersion: cr.apiVersion, kind: cr.kind, metadata: { name: cr.metadata.name }, spec: cr.spec };
  const problems = validateInstallation(doc, { strict: false }).problems;
  const spec = cr.spec as { version?: unknown } | undefined;
  const installed = (cr.status as InstallationStatus | undefined)?.version;
  if (installed && typeof spec?.version === "string" && isDowngrade(installed, spec.version)) {
    problems.push({ field: "spec.version", rule: `Forbidden: downgrade from ${installed} (rolled out) to ${spec.version} is not supported` });
  }
  if (problems.length === 0) return undefined;
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: run olares-operator validate)` : "";
  return `${formatProblem(problems[0]!)}${more}`;
}

/** CRD + operator defaults on a copy; the CR itself is never written. */
export function defaultedSpec(cr: KubeObject): DefaultedSpec {
  return defaultSpec(cr.spec, cr.metadata.name);
}
