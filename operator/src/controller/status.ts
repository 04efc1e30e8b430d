// Status of the OlaresInstallation, computed only from observations (the stage readiness results and
// the CR's previous status), so a restarted operator computes the same status and writes nothing.
import { isDeepStrictEqual } from "node:util";
import type { ComponentStatus, Readiness, StageName, StorageMigrationStatus, StoragePreviousData, StorageStatusReport } from "../contract/index.js";
import type { NodesStatus } from "../api/index.js";

export type { NodesStatus };
import { sortKeysDeep } from "../contract/index.js";

export type Phase = "Pending" | "Installing" | "AwaitingActivation" | "Ready" | "Updating" | "Upgrading" | "Migrating" | "Degraded" | "Deleting" | "Ignored";

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  observedGeneration: number;
  lastTransitionTime: string;
}

export interface InstallationStatus {
  observedGeneration?: number;
  phase?: Phase;
  message?: string;
  version?: string;
  conditions?: Condition[];
  components?: ComponentStatus[];
  nodes?: NodesStatus;
  storage?: { activeType?: string; rootPath?: string; migration?: StorageMigrationStatus; previousData?: StoragePreviousData };
}

export interface StageResult {
  name: StageName;
  readiness: Readiness;
}

type ConditionInput = Omit<Condition, "observedGeneration" | "lastTransitionTime">;

/** Keeps lastTransitionTime when a condition's status did not change. */
export function withTransitionTimes(next: ConditionInput[], previous: Condition[] | undefined, generation: number, now: string): Condition[] {
  return next.map((c) => {
    const prev = previous?.find((p) => p.type === c.type);
    return {
      ...c,
      observedGeneration: generation,
      lastTransitionTime: prev && prev.status === c.status && prev.lastTransitionTime ? prev.lastTransitionTime : now,
    };
  });
}

export interface StatusInput {
  generation: number;
  previous: InstallationStatus | undefined;
  specVersion: string;
  specStorageType: string;
  rootPath: string;
  /** Stage results in order; stages after the first not-ready one are reported as waiting. */
  stages: StageResult[];
  paused: boolean;
  /** Whether any object of ours exists yet (Pending until something does). */
  anythingApplied: boolean;
  nodes?: NodesStatus;
  /** What the Storage stage's hook observed (active type, a migration's progress, the kept previous data). */
  storage?: StorageStatusReport;
  now: string;
}

function blockingReason(input: StatusInput): string | undefined {
  return input.stages.find((s) => !s.readiness.ready)?.readiness.reason;
}

function phaseFor(input: StatusInput, allReady: boolean, degraded: boolean, activeType: string | undefined): Phase {
  const prevVersion = input.previous?.version;
  const migrating = activeType !== undefined && activeType !== input.specStorageType;
  // A migration that cannot proceed (e.g. JuiceFSNotAvailable) is Degraded, not Migrating forever.
  if (migrating) return degraded ? "Degraded" : "Migrating";
  if (allReady) return "Ready";
  if (degraded) return "Degraded";
  // Everything is installed; the owner has not activated Olares in the wizard yet.
  if (blockingReason(input) === "AwaitingActivation") return "AwaitingActivation";
  // Installing only until the first Ready (status.version is set then): afterwards a change is an
  // update, or an upgrade when spec.version moved.
  if (prevVersion) return prevVersion !== input.specVersion ? "Upgrading" : "Updating";
  if (!input.anythingApplied) return "Pending";
  return "Installing";
}

/** "Olares 1.12.1 is rolled out to 2/2 nodes (1 skipped)": never claims nodes it did not configure. */
function rolledOutMessage(version: string, nodes: NodesStatus | undefined): string {
  if (!nodes) return `Olares ${version} is rolled out`;
  const skipped = nodes.skipped ? ` (${nodes.skipped} skipped)` : "";
  if (nodes.total === 0) return `Olares ${version} is ready, but no node is configured: no node selected${skipped}`;
  return `Olares ${version} is rolled out to ${nodes.updated}/${nodes.total} ${nodes.total === 1 ? "node" : "nodes"}${skipped}`;
}

export function computeStatus(input: StatusInput): InstallationStatus {
  const blocking = input.stages.find((s) => !s.readiness.ready);
  const allReady = !blocking;
  const degradedStage = input.stages.find((s) => s.readiness.degraded);
  const degraded = degradedStage !== undefined;
  const storageReady = input.stages.find((s) => s.name === "Storage")?.readiness.ready === true;
  const activeType = input.storage?.activeType ?? input.previous?.storage?.activeType ?? (storageReady ? input.specStorageType : undefined);
  const phase = phaseFor(input, allReady, degraded, activeType);
  const version = allReady ? input.specVersion : input.previous?.version;
  const message = allReady
    ? `Olares ${input.specVersion} is ready`
    : `${blocking!.name}: ${blocking!.readiness.message}`;

  const conditions: ConditionInput[] = [
    allReady
      ? { type: "Ready", status: "True", reason: "AllStagesReady", message }
      : { type: "Ready", status: "False", reason: `${blocking!.name}NotReady`, message },
    input.paused
      ? { type: "Progressing", status: "False", reason: "Paused", message: "spec.paused is true: the operator changes nothing" }
      : allReady
        ? { type: "Progressing", status: "False", reason: "Stable", message: rolledOutMessage(input.specVersion, input.nodes) }
        : { type: "Progressing", status: degraded ? "False" : "True", reason: phase, message },
    degraded
      ? { type: "Degraded", status: "True", reason: degradedStage!.readiness.reason, message: `${degradedStage!.name}: ${degradedStage!.readiness.message}` }
      : { type: "Degraded", status: "False", reason: "AsExpected", message: "no failures observed" },
    { type: "SpecValid", status: "True", reason: "Valid", message: "the spec passes every validation rule" },
    ...input.stages.map((s): ConditionInput => ({
      type: `${s.name}Ready`,
      status: s.readiness.ready ? "True" : "False",
      reason: s.readiness.reason,
      message: s.readiness.message,
    })),
  ];

  const components = input.stages.flatMap((s) => s.readiness.components ?? []);
  const status: InstallationStatus = {
    observedGeneration: input.generation,
    phase,
    message,
    conditions: withTransitionTimes(conditions, input.previous?.conditions, input.generation, input.now),
    ...(version ? { version } : {}),
    ...(components.length ? { components } : {}),
    ...(input.nodes ? { nodes: input.nodes } : {}),
    ...(activeType ? { storage: storageStatus(input, activeType) } : {}),
  };
  return sortKeysDeep(status);
}

/**
 * status.storage: the migration as the Storage hook reports it; once none runs, the last one stays as its
 * record (an ended one without the Progress column's text), so status never drops the block mid-way.
 */
function storageStatus(input: StatusInput, activeType: string): NonNullable<InstallationStatus["storage"]> {
  const kept = input.previous?.storage?.migration;
  const ended = kept && ["Succeeded", "RolledBack", "Failed"].includes(kept.phase);
  const migration = input.storage?.migration ?? (kept && input.storage && ended ? withoutProgress(kept) : kept);
  const previousData = input.storage?.previousData ?? input.previous?.storage?.previousData;
  return {
    activeType,
    rootPath: input.previous?.storage?.rootPath ?? input.rootPath,
    ...(migration ? { migration } : {}),
    ...(previousData ? { previousData } : {}),
  };
}

function withoutProgress(m: StorageMigrationStatus): StorageMigrationStatus {
  const { progress: _shown, ...rest } = m;
  return rest as StorageMigrationStatus;
}

/** Readiness reported for stages behind the first not-ready one: their turn has not come. */
export function waitingReadiness(blocking: StageName, own: Readiness): Readiness {
  return {
    ready: false,
    reason: "WaitingForPreviousStage",
    message: `waiting for stage ${blocking}`,
    ...(own.components ? { components: own.components } : {}),
  };
}

/** Fields this operator owns in status (storage includes the migration's progress, from the Storage hook). */
const OWNED_FIELDS = ["observedGeneration", "phase", "message", "version", "conditions", "components", "nodes", "storage"] as const;

export function statusUnchanged(current: InstallationStatus | undefined, next: InstallationStatus): boolean {
  const pick = (s: InstallationStatus | undefined) =>
    sortKeysDeep(
      Object.fromEntries(
        OWNED_FIELDS.filter((f) => s?.[f] !== undefined).map((f) =>
          [f, s![f]],
        ),
      ),
    );
  return isDeepStrictEqual(pick(current), pick(next));
}

export function condition(status: InstallationStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}
