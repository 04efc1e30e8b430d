// The seams between render/ (pure), controller/ (orchestration) and agent/ (host side).
// Pure data only: nothing here may import I/O.

/** Any Kubernetes object as plain JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: OwnerReference[];
    finalizers?: string[];
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    deletionTimestamp?: string;
    creationTimestamp?: string;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** Identifies one object. `namespace` is absent for cluster-scoped kinds. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

/** Read-only view of what the cluster holds (backed by informer caches); pure to query. */
export interface ObservedState {
  get(ref: ObjectRef): KubeObject | undefined;
  list(apiVersion: string, kind: string, namespace?: string): KubeObject[];
}

/** Facts about the cluster that change what is rendered (gathered by the controller, given to render). */
export interface ClusterFacts {
  /** Nodes selected by spec.nodes.selector (name + labels + allocatable); empty for offline `plan`. */
  nodes: Array<{ name: string; labels: Record<string, string>; allocatable?: Record<string, string>; unschedulable?: boolean }>;
  /** Uid of the OlaresInstallation, for owner references (offline plan uses a placeholder). */
  ownerUid: string;
  /** Operator image; the node agent runs the same image. */
  operatorImage: string;
  /** metadata.name of the OlaresInstallation (labels, owner references); default "olares". */
  installationName?: string;
  /** The cluster's DNS Services as the controller sees them; absent offline (`plan` models a cluster without DNS). */
  clusterDNS?: ClusterDNSFacts;
}

/** Cluster DNS Services: in kube-system, labelled k8s-app=kube-dns or named kube-dns. */
export interface ClusterDNSFacts {
  /** False when the operator's cache cannot see Services it does not manage: then Auto must not guess. */
  observable: boolean;
  /** DNS Services this installation did not create, as "namespace/name", sorted. */
  foreignServices: string[];
  /** This installation's kube-dns Service exists (Auto keeps the CoreDNS it deployed). */
  ownServicePresent: boolean;
}

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

/** How disruptive applying a host task is; the rollout cordons/drains/reboots accordingly. */
export type Disruption = "none" | "restart-service" | "drain" | "reboot";

/**
 * A typed, validated unit of host work. The agent interprets it; `plan` prints it.
 * No task carries a shell string built from user input. The node-agent work owns the full union
 * (operator/src/agent) and may add kinds; every kind has a `kind`, a human `description` and a disruption.
 */
export interface HostTaskBase {
  kind: string;
  /** Stable id inside a config, e.g. "dns/resolv.conf". */
  id: string;
  description: string;
  disruption: Disruption;
}

export interface NodeConfig {
  /** Content hash of `tasks` (first 10 hex of sha256 over canonical JSON). */
  id: string;
  /** Which nodes it is for (a node group; "default" for all selected nodes, "gpu" for NVIDIA nodes, ...). */
  group: string;
  tasks: HostTaskBase[];
}

export interface Stage {
  name: StageName;
  /** Objects to server-side apply, in order. */
  objects: KubeObject[];
  /** Node configs this stage rolls out (NodeConfig stage). */
  nodeConfigs?: NodeConfig[];
  /** Readiness of this stage against what the cluster holds now. Pure. */
  ready(observed: ObservedState): Readiness;
}

/** Everything the operator wants, in stage order. Disabled stages are absent, not faked. */
export interface DesiredState {
  stages: Stage[];
}
