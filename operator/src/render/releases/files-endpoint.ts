// The EndpointSlice that points the chart's release-files Service (no selector) at the leader alone: only
// the replica that reconciles has published the manifests, so a Service over every operator pod would send
// some of the nodes' downloads to a standby that answers 404. Owned by the leader's Pod: when that Pod goes,
// the garbage collector removes the slice, and the next leader writes its own.
import type { KubeObject } from "../../contract/index.js";

export interface ReleaseFilesEndpoint {
  namespace: string;
  /** The Service (no selector) the node agents reach, e.g. olares-operator-release-files. */
  service: string;
  port: number;
  /** The leader's Pod (downward API: POD_NAME, POD_UID, POD_IP). */
  podName: string;
  podUid: string;
  podIP: string;
}

/** Name of the slice the leader writes (one per Service; every leader writes the same one). */
export function releaseFilesSliceName(service: string): string {
  return `${service}-leader`;
}

export function releaseFilesEndpointSlice(e: ReleaseFilesEndpoint): KubeObject {
  return {
    apiVersion: "discovery.k8s.io/v1",
    kind: "EndpointSlice",
    metadata: {
      name: releaseFilesSliceName(e.service),
      namespace: e.namespace,
      labels: { "kubernetes.io/service-name": e.service, "endpointslice.kubernetes.io/managed-by": "olares-operator" },
      ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: e.podName, uid: e.podUid }],
    },
    addressType: e.podIP.includes(":") ? "IPv6" : "IPv4",
    endpoints: [{ addresses: [e.podIP], conditions: { ready: true }, targetRef: { kind: "Pod", namespace: e.namespace, name: e.podName, uid: e.podUid } }],
    ports: [{ name: "release-files", port: e.port, protocol: "TCP" }],
  } as KubeObject;
}

/** True when the live slice already points at this leader (nothing to write). */
export function releaseFilesSliceCurrent(live: KubeObject | undefined, want: KubeObject): boolean {
  if (!live) return false;
  const l = live as unknown as { endpoints?: Array<{ addresses?: string[]; targetRef?: { uid?: string } }>; ports?: Array<{ port?: number; name?: string }>; metadata: { ownerReferences?: Array<{ uid?: string }>; labels?: Record<string, string> } };
  const w = want as unknown as { endpoints: Array<{ addresses: string[]; targetRef: { uid: string } }>; ports: Array<{ port: number; name: string }>; metadata: { ownerReferences: Array<{ uid: string }>; labels: Record<string, string> } };
  return (
    l.endpoints?.length === 1 &&
    l.endpoints[0]?.addresses?.join() === w.endpoints[0]!.addresses.join() &&
    l.endpoints[0]?.targetRef?.uid === w.endpoints[0]!.targetRef.uid &&
    l.ports?.length === 1 &&
    l.ports[0]?.port === w.ports[0]!.port &&
    l.ports[0]?.name === w.ports[0]!.name &&
    l.metadata.labels?.["kubernetes.io/service-name"] === w.metadata.labels["kubernetes.io/service-name"] &&
    (l.metadata.ownerReferences ?? []).some((o) => o.uid === w.metadata.ownerReferences[0]!.uid)
  );
}
