// What every stage renderer receives: the (defaulted) spec, cluster facts and the CR's identity.
import type { DefaultedSpec } from "../api/index.js";
import type { ClusterFacts, KubeObject, OwnerReference, StageName } from "../contract/index.js";
import { canonicalJson, contentHash, sortKeysDeep } from "../contract/index.js";
import {
  ANNOTATION_RENDER_HASH,
  API_VERSION,
  DEFAULT_INSTALLATION_NAME,
  KIND,
  LABEL_INSTALLATION,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  LABEL_STAGE,
  MANAGED_BY,
} from "../contract/index.js";

export interface RenderContext {
  spec: DefaultedSpec;
  facts: ClusterFacts;
  installationName: string;
}

export function renderContext(spec: DefaultedSpec, facts: ClusterFacts): RenderContext {
  return { spec, facts, installationName: facts.installationName ?? DEFAULT_INSTALLATION_NAME };
}

export function ownerReference(ctx: RenderContext): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: ctx.installationName,
    uid: ctx.facts.ownerUid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Labels that select one component's pods (stable across releases, so selectors never change). */
export function selectorLabels(ctx: RenderContext, component: string): Record<string, string> {
  return { [LABEL_NAME]: component, [LABEL_INSTALLATION]: ctx.installationName };
}

export function standardLabels(ctx: RenderContext, stage: StageName, component: string): Record<string, string> {
  return {
    ...selectorLabels(ctx, component),
    [LABEL_MANAGED_BY]: MANAGED_BY,
    [LABEL_PART_OF]: "olares",
    [LABEL_STAGE]: stage,
  };
}

export interface ObjectInit {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  component: string;
  /** Labels beside the standard ones (never overriding them). */
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  body: Record<string, unknown>;
}

/**
 * Builds one rendered object: standard labels, owner reference, sorted keys and a render hash
 * annotation (the controller re-applies an object only when the hash or the live content differs).
 */
export function makeObject(ctx: RenderContext, stage: StageName, init: ObjectInit): KubeObject {
  const metadata: KubeObject["metadata"] = {
    name: init.name,
    ...(init.namespace ? { namespace: init.namespace } : {}),
    labels: { ...init.labels, ...standardLabels(ctx, stage, init.component) },
    ownerReferences: [ownerReference(ctx)],
    ...(init.annotations ? { annotations: { ...init.annotations } } : {}),
  };
  const obj = sortKeysDeep({ apiVersion: init.apiVersion, kind: init.kind, metadata, ...init.body }) as KubeObject;
  const hash = contentHash(obj);
  obj.metadata.annotations = sortKeysDeep({ ...(obj.metadata.annotations ?? {}), [ANNOTATION_RENDER_HASH]: hash });
  return sortKeysDeep(obj);
}

/** Hash of data a pod mounts, for a pod-template annotation. */
export function configHash(data: unknown): string {
  return contentHash(canonicalJson(data));
}
