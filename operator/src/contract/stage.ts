// Stages: what render produces and the controller walks, in mission order.
import type { KubeObject, ObservedState, OwnerReference } from "./objects.js";
import type { NodeConfig } from "./node-config.js";
import type { ChartRelease } from "./chart-release.js";
import type { ReleaseStep } from "./release/plan.js";
import type { StorageHookData } from "./storage-migration.js";

export type StageName =
  | "Prerequisites"
  | "NodeAgent"
  | "NodeConfig"
  | "ClusterDNS"
  | "Storage"
  | "GPU"
  | "Olaresd"
  | "CoreServices";

export interface ComponentStatus {
  name: string;
  stage: StageName;
  kind: string;
  namespace?: string;
  ready: boolean;
  message?: string;
}

export interface Readiness {
  ready: boolean;
  /** CamelCase reason for the stage condition, e.g. "DaemonSetRolling". */
  reason: string;
  message: string;
  components?: ComponentStatus[];
  /** Something failed (not merely in progress), e.g. a rollout deadline exceeded or a degraded node. */
  degraded?: boolean;
}

/** A Secret the operator creates once (random values), never overwrites and never logs. */
export interface GeneratedSecret {
  namespace: string;
  name: string;
  component: string;
  keys: readonly string[];
  /** The Secret's labels (standard labels plus olares.com/generated). */
  labels: Record<string, string>;
}

/** A user Secret a stage reads: it must exist with these keys before the stage can be ready. */
export interface SecretReference {
  /** The spec field holding the reference, e.g. "spec.owner.passwordSecretRef". */
  field: string;
  name: string;
  /** Unset: the operator's own namespace. */
  namespace?: string;
  /** Every key the stage reads, with the spec field that names it. */
  keys: Array<{ field: string; key: string }>;
}

/**
 * Side effects of a stage beyond applying its objects, as data: render stays pure and the controller's
 * walker runs every hook through one registry (controller/hooks/), never by stage name.
 */
export type StageHook =
  /** Create these Secrets when missing, once the stage's objects are applied (their namespaces exist). */
  | { kind: "GeneratedSecrets"; secrets: GeneratedSecret[]; ownerReferences: OwnerReference[] }
  /** The stage is not ready until these Secrets exist with their keys. */
  | { kind: "SecretReferences"; references: SecretReference[] }
  /** Roll these node configs out to the selected Nodes once the stage's objects are ready. */
  | { kind: "NodeRollout"; configs: NodeConfig[] }
  /** Install the Olares release: its steps in order (helm releases only when their input changed). */
  | { kind: "OlaresRelease"; steps: ReleaseStep[] }
  /** Hand the nodes their storage config (JuiceFS rootfs, or a migration) and run the cluster's half of a migration. */
  | { kind: "StorageMigration"; storage: StorageHookData };

export type StageHookKind = StageHook["kind"];

export interface Stage {
  name: StageName;
  /** Objects to server-side apply, in order. */
  objects: KubeObject[];
  /** Helm releases of the Olares release this stage installs (in order), after its objects. */
  releases?: ChartRelease[];
  /** Side effects the walker runs for this stage. */
  hooks?: StageHook[];
  /** Readiness of this stage against what the cluster holds now. Pure. */
  ready(observed: ObservedState): Readiness;
}

/** Everything the operator wants, in stage order. Disabled stages are absent, not faked. */
export interface DesiredState {
  stages: Stage[];
}

/** The hook of one kind on a stage, if any. */
export function stageHook<K extends StageHookKind>(stage: Pick<Stage, "hooks">, kind: K): Extract<StageHook, { kind: K }> | undefined {
  return stage.hooks?.find((h): h is Extract<StageHook, { kind: K }> => h.kind === kind);
}
