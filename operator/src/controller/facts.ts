// ClusterFacts for render, gathered from the observed cluster (never from memory).
import type { OlaresInstallationSpec } from "../api/index.js";
import type { ClusterFacts, KubeObject, ObservedState } from "../render/types.js";

export function nodeFacts(node: KubeObject): ClusterFacts["nodes"][number] {
  const status = (node.status as { allocatable?: Record<string, string> } | undefined) ?? {};
  const spec = (node.spec as { unschedulable?: boolean } | undefined) ?? {};
  return {
    name: node.metadata.name,
    labels: { ...(node.metadata.labels ?? {}) },
    ...(status.allocatable ? { allocatable: { ...status.allocatable } } : {}),
    ...(spec.unschedulable ? { unschedulable: true } : {}),
  };
}

export function gatherFacts(cr: KubeObject, spec: OlaresInstallationSpec, observed: ObservedState, operatorImage: string): ClusterFacts {
  const selector = Object.entries(spec.nodes?.selector ?? {});
  const nodes = observed
    .list("v1", "Node")
    .filter((n) => selector.every(([k, v]) => n.metadata.labels?.[k] === v))
    .map(nodeFacts)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { nodes, ownerUid: cr.metadata.uid ?? "", operatorImage, installationName: cr.metadata.name };
}
