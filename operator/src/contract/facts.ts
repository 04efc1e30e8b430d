// Facts about the cluster that change what is rendered (gathered by the controller, given to render).
import type { ReleaseFacts } from "./release/facts.js";
import type { StorageKind } from "./storage-migration.js";

export interface NodeFacts {
  name: string;
  labels: Record<string, string>;
  allocatable?: Record<string, string>;
  unschedulable?: boolean;
  /** status.addresses InternalIP: where a worker reaches the primary's managed Redis/MinIO. */
  internalIP?: string;
}

export interface ClusterFacts {
  /** Nodes selected by spec.nodes.selector (name + labels + allocatable); empty for offline `plan`. */
  nodes: NodeFacts[];
  /** Uid of the OlaresInstallation, for owner references (offline plan uses a placeholder). */
  ownerUid: string;
  /** Operator image; the node agent runs the same image. */
  operatorImage: string;
  /** metadata.name of the OlaresInstallation (labels, owner references); default "olares". */
  installationName?: string;
  /** The cluster's DNS Services as the controller sees them; absent offline (`plan` models a cluster without DNS). */
  clusterDNS?: ClusterDNSFacts;
  /** The Olares release for spec.version as the controller found it; absent offline (`plan` without a release). */
  release?: ReleaseFacts;
  /** What serves <rootPath>/rootfs now (status.storage.activeType); absent before the first install. */
  storage?: StorageFacts;
}

export interface StorageFacts {
  activeType?: StorageKind;
  /** The managed Redis/MinIO ports when not olares-cli's 6379/9000/9090 (OLARES_STORAGE_MANAGED_PORTS). */
  managedPorts?: ManagedStoragePorts;
}

export interface ManagedStoragePorts {
  redis: number;
  minio: number;
  console: number;
}

/**
 * OLARES_STORAGE_MANAGED_PORTS="<redis>,<minio>,<console>": other ports for the managed Redis and MinIO
 * (a host where 6379 or 9000 is taken; two storage test runs on one machine). Unset: undefined.
 */
export function parseManagedStoragePorts(raw: string | undefined): ManagedStoragePorts | undefined {
  if (raw === undefined || raw.trim() === "") return undefined;
  const parts = raw.split(",").map((p) => p.trim());
  const nums = parts.map((p) => (/^\d{1,5}$/.test(p) ? Number(p) : NaN));
  if (nums.length !== 3 || nums.some((n) => !(n >= 1 && n <= 65535)) || new Set(nums).size !== 3) {
    throw new Error(`OLARES_STORAGE_MANAGED_PORTS: ${JSON.stringify(raw)} must be three different ports 1-65535, "<redis>,<minio>,<minio console>" (default 6379,9000,9090)`);
  }
  return { redis: nums[0]!, minio: nums[1]!, console: nums[2]! };
}

/** Cluster DNS Services: in kube-system, labelled k8s-app=kube-dns or named kube-dns. */
export interface ClusterDNSFacts {
  /** False when the operator's cache cannot see Services it does not manage: then Auto must not guess. */
  observable: boolean;
  /** DNS Services this installation did not create, as "namespace/name", sorted. */
  foreignServices: string[];
  /** This installation's kube-dns Service exists (Auto keeps the CoreDNS it deployed). */
  ownServicePresent: boolean;
  /** clusterIP of Service default/kubernetes: the first address of the Service range (the DNS default is the 10th). */
  kubernetesServiceIP?: string;
}
