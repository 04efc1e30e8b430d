// The stage hooks the walker runs, one runner per hook kind. A hook gets the stage's readiness so far
// (objects applied and read back) and returns the stage's readiness; the walker never looks at a stage's
// name. Adding a side effect = a hook kind in contract/stage.ts, its data in render, a runner here.
import type { DefaultedSpec } from "../api/index.js";
import type { KubeObject, Logger, ObservedState, Readiness, StageHook, StageHookKind, StorageStatusReport } from "../contract/index.js";
import type { NodesStatus } from "./status.js";
import { ensureGeneratedSecrets } from "./generated-secrets.js";
import { secretPreconditions } from "./preconditions.js";
import { rolloutNodeConfigs, type RolloutContext, type RolloutStatus } from "./node-rollout.js";
import type { ReconcileClient } from "./reconciler.js";
import { runReleaseSteps, type ReleaseHookRuntime } from "./release-steps.js";
import { runStorageMigration } from "./storage-migration.js";

export interface HookContext {
  client: ReconcileClient;
  /** The informer cache (what was there before this reconcile's writes). */
  observed: ObservedState;
  cr: KubeObject;
  spec: DefaultedSpec;
  paused: boolean;
  log: Logger;
  operatorNamespace?: string;
  rollout(): RolloutContext;
  /** The node rollout's counts, for status.nodes. */
  reportNodes(nodes: NodesStatus): void;
  /** The reconcile's view (informer cache + what the release's charts created, read this reconcile). */
  view?: ObservedState;
  /** helm and the release records; absent when the operator runs without a release runtime. */
  release?: ReleaseHookRuntime;
  /** An Event about the CR (never throws). */
  event?(type: "Normal" | "Warning", reason: string, message: string): void;
  /** What serves the rootfs and how a migration goes, for status.storage. */
  reportStorage?(report: StorageStatusReport): void;
}

type HookRunner<H extends StageHook> = (ctx: HookContext, hook: H, readiness: Readiness) => Promise<Readiness>;
type HookRunners = { [K in StageHookKind]: HookRunner<Extract<StageHook, { kind: K }>> };

/** A stage is ready only when its objects and its preconditions are. */
function mergeReadiness(objects: Readiness, precondition: Readiness): Readiness {
  if (precondition.ready || !objects.ready) return objects;
  return { ...precondition, ...(objects.components ? { components: objects.components } : {}) };
}

export const STAGE_HOOKS: HookRunners = {
  async GeneratedSecrets(ctx, hook, readiness) {
    if (ctx.paused) return readiness;
    const created = await ensureGeneratedSecrets(ctx.client, ctx.observed, hook.secrets, hook.ownerReferences);
    for (const name of created) ctx.log.info("generated secret", { name });
    return readiness;
  },

  async SecretReferences(ctx, hook, readiness) {
    return mergeReadiness(readiness, await secretPreconditions(ctx.client, hook.references, ctx.operatorNamespace));
  },

  async OlaresRelease(ctx, hook, readiness) {
    return runReleaseSteps(ctx, hook.steps, readiness);
  },

  async StorageMigration(ctx, hook, readiness) {
    return runStorageMigration(ctx, hook.storage, readiness);
  },

  async NodeRollout(ctx, hook, readiness) {
    // Paused, or the configs not stored yet: nothing is handed out, but status.nodes still says what the
    // nodes report (a status without it would drop the whole nodes block).
    const observeOnly = !readiness.ready || ctx.paused;
    const rollout = await rolloutNodeConfigs(ctx.rollout(), hook.configs, { observeOnly });
    ctx.reportNodes(nodesStatusOf(rollout));
    if (observeOnly) return readiness;
    // Every node skipped: ready, but the message says no node got the config.
    if (rollout.done) return rollout.total === 0 ? { ...readiness, message: rollout.message } : readiness;
    return {
      ready: false,
      reason: rollout.degraded > 0 ? "NodesDegraded" : "RollingOut",
      message: rollout.message,
      ...(rollout.degraded > 0 ? { degraded: true } : {}),
      ...(readiness.components ? { components: readiness.components } : {}),
    };
  },
};

/** status.nodes from a rollout step: always complete (total, updated, working, degraded, skipped). */
export function nodesStatusOf(rollout: RolloutStatus): NodesStatus {
  return {
    total: rollout.total,
    skipped: rollout.skipped,
    updated: rollout.updated,
    working: rollout.working,
    degraded: rollout.degraded,
    ...(rollout.desiredConfig ? { desiredConfig: rollout.desiredConfig } : {}),
    ...(rollout.degradedNodes.length ? { degradedNodes: rollout.degradedNodes } : {}),
  };
}

/** Runs a stage's hooks in order, threading its readiness through them. */
export async function runStageHooks(ctx: HookContext, hooks: readonly StageHook[] | undefined, readiness: Readiness): Promise<Readiness> {
  let result = readiness;
  for (const hook of hooks ?? []) {
    const run = STAGE_HOOKS[hook.kind] as HookRunner<StageHook>;
    result = await run(ctx, hook, result);
  }
  return result;
}
