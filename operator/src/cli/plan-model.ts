// The offline plan: the same render() the controller uses, fed with synthetic cluster facts.
import type { DefaultedSpec } from "../api/index.js";
import { applyDefaults, formatProblem, validateInstallation } from "../api/index.js";
import type { ClusterFacts, DesiredState, KubeObject, NodeConfig, StageName, StorageKind, StorageMigrationPlan } from "../contract/index.js";
import { render } from "../render/index.js";
import { DEFAULT_INSTALLATION_NAME, LABEL_GPU_NVIDIA, OFFLINE_OWNER_UID, stageHook } from "../contract/index.js";
import { DEFAULT_OPERATOR_IMAGE } from "../render/images.js";
import { configForNode } from "../controller/node-rollout-plan.js";
import { renderStorageMigrationPlan, renderStorageNodeTasks, type StorageHostTask } from "../render/stages/storage-plan.js";

export interface PlanOptions {
  nodes: number;
  gpuNodes: number;
  image: string;
  /** Owner uid for owner references; a placeholder offline (tests pass a real one for parity). */
  ownerUid?: string;
  /** What serves <rootPath>/rootfs now (plan --from: the current file's type); absent: a first install. */
  activeStorageType?: StorageKind;
}

export const DEFAULT_PLAN_OPTIONS: PlanOptions = { nodes: 1, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE };

export interface PlannedNodeConfig {
  stage: StageName;
  config: NodeConfig;
  nodes: string[];
}

export interface Plan {
  installationName: string;
  spec: DefaultedSpec;
  desired: DesiredState;
  /** Secrets the controller generates once (shown, never rendered with values). */
  generated: Array<{ stage: StageName; namespace: string; name: string; keys: readonly string[] }>;
  nodeConfigs: PlannedNodeConfig[];
  /** The storage host tasks per node (JuiceFS rootfs or a migration; none on LocalFS), handed out by the Storage stage. */
  storageTasks: Array<{ node: string; tasks: StorageHostTask[] }>;
  /** The switch, when the spec's storage type differs from what serves the rootfs now. */
  storageMigration?: StorageMigrationPlan;
  facts: ClusterFacts;
}

export class PlanError extends Error {
  override readonly name = "PlanError";
}

/**
 * Synthetic nodes for an offline plan: node-1..N, all matching spec.nodes.selector (they stand for
 * the selected nodes), the first `gpuNodes` with an NVIDIA GPU.
 */
export function offlineFacts(installationName: string, opts: PlanOptions, selector: Record<string, string> = {}): ClusterFacts {
  if (!Number.isInteger(opts.nodes) || opts.nodes < 0) throw new PlanError(`--nodes: must be a whole number ≥ 0, got ${opts.nodes}`);
  if (!Number.isInteger(opts.gpuNodes) || opts.gpuNodes < 0 || opts.gpuNodes > opts.nodes) {
    throw new PlanError(`--gpu-nodes: must be a whole number between 0 and --nodes (${opts.nodes}), got ${opts.gpuNodes}`);
  }
  const nodes: ClusterFacts["nodes"] = [];
  for (let i = 1; i <= opts.nodes; i++) {
    const gpu = i <= opts.gpuNodes;
    nodes.push({
      name: `node-${i}`,
      labels: { ...selector, "kubernetes.io/hostname": `node-${i}`, ...(gpu ? { [LABEL_GPU_NVIDIA]: "true" } : {}) },
      allocatable: { cpu: "8", memory: "16Gi", ...(gpu ? { "nvidia.com/gpu": "1" } : {}) },
    });
  }
  return {
    nodes,
    ownerUid: opts.ownerUid ?? OFFLINE_OWNER_UID,
    operatorImage: opts.image,
    installationName,
    ...(opts.activeStorageType ? { storage: { activeType: opts.activeStorageType } } : {}),
  };
}

/** Which synthetic nodes would run `config` (same group rule as the rollout). */
function nodesForConfig(facts: ClusterFacts, config: NodeConfig, all: NodeConfig[]): string[] {
  return facts.nodes
    .filter((n) => configForNode({ apiVersion: "v1", kind: "Node", metadata: { name: n.name, labels: n.labels } }, all)?.id === config.id)
    .map((n) => n.name);
}

/** Validates (against the stored object when given: transition rules), defaults and renders one OlaresInstallation document. */
export function planFor(document: unknown, opts: PlanOptions = DEFAULT_PLAN_OPTIONS, oldObject?: unknown): Plan {
  const validation = validateInstallation(document, oldObject === undefined ? {} : { oldObject });
  if (!validation.valid) {
    throw new PlanError(["the OlaresInstallation is invalid:", ...validation.problems.map((p) => `  ${formatProblem(p)}`)].join("\n"));
  }
  const defaulted = applyDefaults(document);
  const installationName = defaulted.metadata?.name ?? DEFAULT_INSTALLATION_NAME;
  const selector = Object.fromEntries(
    Object.entries(defaulted.spec.nodes?.selector ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
  );
  const facts = offlineFacts(installationName, opts, selector);
  const desired = render(defaulted.spec, facts);
  const generated = desired.stages.flatMap((stage) =>
    (stageHook(stage, "GeneratedSecrets")?.secrets ?? []).map((s) => ({ stage: stage.name, namespace: s.namespace, name: s.name, keys: s.keys })),
  );
  const nodeConfigs = desired.stages.flatMap((stage) => {
    const configs = stageHook(stage, "NodeRollout")?.configs ?? [];
    return configs.map((config) => ({ stage: stage.name, config, nodes: nodesForConfig(facts, config, configs) }));
  });
  const storageTasks = [...renderStorageNodeTasks(defaulted.spec, facts)].map(([node, tasks]) => ({ node, tasks }));
  const storageMigration = renderStorageMigrationPlan(defaulted.spec, facts);
  return { installationName, spec: defaulted.spec, desired, generated, nodeConfigs, storageTasks, ...(storageMigration ? { storageMigration } : {}), facts };
}

export function planObjects(plan: Plan): Array<{ stage: StageName; object: KubeObject }> {
  return plan.desired.stages.flatMap((s) => s.objects.map((object) => ({ stage: s.name, object })));
}
