// Deletes objects carrying our labels that the current render no longer wants (e.g. GPU disabled).
import type { KubeObject, ObjectRef, ObservedState } from "../contract/index.js";
import type { ClusterClient } from "../kube/types.js";
import { OWNED_KINDS } from "../render/index.js";
import { LABEL_INSTALLATION, LABEL_MANAGED_BY, MANAGED_BY } from "../contract/index.js";

export function objectKey(o: { apiVersion: string; kind: string; metadata?: { name: string; namespace?: string }; name?: string; namespace?: string }): string {
  const name = o.metadata?.name ?? o.name ?? "";
  const namespace = o.metadata?.namespace ?? o.namespace ?? "";
  return `${o.apiVersion}|${o.kind}|${namespace}|${name}`;
}

/** Objects of our kinds labelled as managed by us for this installation. */
export function ownedObjects(observed: ObservedState, installationName: string): KubeObject[] {
  return OWNED_KINDS.flatMap((k) => observed.list(k.apiVersion, k.kind)).filter(
    (o) => o.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY && o.metadata.labels?.[LABEL_INSTALLATION] === installationName,
  );
}

export interface PruneOptions {
  /** Uid of the OlaresInstallation: only objects it owns are deleted, whatever their labels say. */
  ownerUid: string;
  /** Extra objects to keep although not desired (e.g. node configs a node still references). */
  keep?(obj: KubeObject): boolean;
}

/** Returns the refs it deleted. */
export async function pruneUndesired(
  client: ClusterClient,
  observed: ObservedState,
  installationName: string,
  desired: KubeObject[],
  opts: PruneOptions,
): Promise<ObjectRef[]> {
  const wanted = new Set(desired.map(objectKey));
  const deleted: ObjectRef[] = [];
  for (const obj of ownedObjects(observed, installationName)) {
    if (wanted.has(objectKey(obj)) || obj.metadata.deletionTimestamp || opts.keep?.(obj)) continue;
    // Labels can be copied; ownership cannot: never delete what this installation does not own.
    if (!obj.metadata.ownerReferences?.some((r) => r.uid === opts.ownerUid)) continue;
    const ref: ObjectRef = {
      apiVersion: obj.apiVersion,
      kind: obj.kind,
      name: obj.metadata.name,
      ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
    };
    await client.delete(ref, { propagationPolicy: "Background" });
    deleted.push(ref);
  }
  return deleted;
}
