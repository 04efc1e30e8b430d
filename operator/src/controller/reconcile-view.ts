// One reconcile's view of the observed cluster: the Node list is read once and shared by render facts,
// the node rollout and node-config pruning, so they all see the same nodes.
import type { KubeObject, ObjectRef, ObservedState } from "../contract/index.js";
import type { NodeWriteOverlay } from "./node-writes.js";

/** `nodeWrites`: this operator's Node patches the cache has not shown yet, laid over the cached list. */
export function reconcileView(observed: ObservedState, nodeWrites?: NodeWriteOverlay): ObservedState {
  let nodes: KubeObject[] | undefined;
  return {
    get: (ref: ObjectRef) => observed.get(ref),
    list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
      if (apiVersion !== "v1" || kind !== "Node" || namespace !== undefined) return observed.list(apiVersion, kind, namespace);
      nodes ??= nodeWrites ? nodeWrites.apply(observed.list("v1", "Node")) : observed.list("v1", "Node");
      return nodes;
    },
  };
}
