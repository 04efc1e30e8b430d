// ClusterFacts for render, gathered from the observed cluster (never from memory).
import type { DefaultedSpec } from "../api/index.js";
import type { ClusterDNSFacts, ClusterFacts, KubeObject, ManagedStoragePorts, ObservedState, StorageFacts } from "../contract/index.js";
import { LABEL_INSTALLATION, LABEL_MANAGED_BY, MANAGED_BY } from "../contract/index.js";
import { CLUSTER_DNS_NAMESPACE, CLUSTER_DNS_SERVICE, KUBE_DNS_LABEL_KEY, KUBE_DNS_LABEL_VALUE } from "../contract/index.js";

/** A watch the facts need besides the CR, Nodes and the owned kinds (which are watched by our label only). */
export interface FactInformer {
  apiVersion: string;
  kind: string;
  namespace?: string;
  fieldSelector?: string;
}

/**
 * The manager must add these to its cache: every Service in kube-system (to find the cluster's own DNS,
 * which carries no label of ours) and the kube-system Namespace, whose presence proves the cache sees
 * objects we did not create (without it, ClusterDNS in mode Auto refuses to guess).
 */
export const FACT_INFORMERS: readonly FactInformer[] = [
  { apiVersion: "v1", kind: "Service", namespace: CLUSTER_DNS_NAMESPACE },
  // default/kubernetes: its clusterIP locates the Service range (kubeadm 10.96.0.0/12, K3s 10.43.0.0/16…)
  { apiVersion: "v1", kind: "Service", namespace: "default", fieldSelector: "metadata.name=kubernetes" },
  { apiVersion: "v1", kind: "Namespace", fieldSelector: `metadata.name=${CLUSTER_DNS_NAMESPACE}` },
];

export function nodeFacts(node: KubeObject): ClusterFacts["nodes"][number] {
  const status = (node.status as { allocatable?: Record<string, string>; addresses?: Array<{ type?: string; address?: string }> } | undefined) ?? {};
  const spec = (node.spec as { unschedulable?: boolean } | undefined) ?? {};
  const internalIP = status.addresses?.find((a) => a.type === "InternalIP")?.address;
  return {
    name: node.metadata.name,
    labels: { ...(node.metadata.labels ?? {}) },
    ...(status.allocatable ? { allocatable: { ...status.allocatable } } : {}),
    ...(internalIP ? { internalIP } : {}),
    ...(spec.unschedulable ? { unschedulable: true } : {}),
  };
}

function isDnsService(svc: KubeObject): boolean {
  return svc.metadata.name === CLUSTER_DNS_SERVICE || svc.metadata.labels?.[KUBE_DNS_LABEL_KEY] === KUBE_DNS_LABEL_VALUE;
}

function isOurs(obj: KubeObject, installationName: string): boolean {
  const labels = obj.metadata.labels ?? {};
  return labels[LABEL_MANAGED_BY] === MANAGED_BY && labels[LABEL_INSTALLATION] === installationName;
}

/** DNS Services in kube-system: labelled k8s-app=kube-dns (kubeadm, K3s, RKE2, EKS, ...) or named kube-dns. */
export function clusterDnsFacts(observed: ObservedState, installationName: string): ClusterDNSFacts {
  const observable = observed.get({ apiVersion: "v1", kind: "Namespace", name: CLUSTER_DNS_NAMESPACE }) !== undefined;
  const services = observed.list("v1", "Service", CLUSTER_DNS_NAMESPACE).filter(isDnsService);
  const foreignServices = services
    .filter((s) => !isOurs(s, installationName))
    .map((s) => `${s.metadata.namespace ?? CLUSTER_DNS_NAMESPACE}/${s.metadata.name}`)
    .sort();
  const ownServicePresent = services.some((s) => s.metadata.name === CLUSTER_DNS_SERVICE && isOurs(s, installationName));
  const kubernetesServiceIP = (observed.get({ apiVersion: "v1", kind: "Service", name: "kubernetes", namespace: "default" })?.spec as { clusterIP?: string } | undefined)?.clusterIP;
  return { observable, foreignServices, ownServicePresent, ...(kubernetesServiceIP && kubernetesServiceIP !== "None" ? { kubernetesServiceIP } : {}) };
}

export function gatherFacts(cr: KubeObject, spec: DefaultedSpec, observed: ObservedState, operatorImage: string, managedPorts?: ManagedStoragePorts): ClusterFacts {
  const selector = Object.entries(spec.nodes?.selector ?? {});
  const nodes = observed
    .list("v1", "Node")
    .filter((n) => selector.every(([k, v]) => n.metadata.labels?.[k] === v))
    .map(nodeFacts)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    nodes,
    ownerUid: cr.metadata.uid ?? "",
    operatorImage,
    installationName: cr.metadata.name,
    clusterDNS: clusterDnsFacts(observed, cr.metadata.name),
    storage: { ...storageFacts(cr), ...(managedPorts ? { managedPorts } : {}) },
  };
}

/** The storage type recorded as serving the rootfs (the migration walk renders from it to the spec's). */
export function storageFacts(cr: KubeObject): StorageFacts {
  const active = (cr.status as { storage?: { activeType?: unknown } } | undefined)?.storage?.activeType;
  return active === "LocalFS" || active === "JuiceFS" ? { activeType: active } : {};
}
