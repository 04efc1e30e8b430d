// The ClusterClient over HTTP: exact REST paths and content types for every verb, server-side apply
// with one field manager, typed errors, client-side rate limit and request counting.
import type { KubeConfig } from "@kubernetes/client-node";
import { realClock, type Clock } from "./clock.js";
import { Discovery } from "./discovery.js";
import { isConflict, isGone, isNotFound } from "./errors.js";
import { collectionPath, objectPath, type ResourceInfo } from "./resources.js";
import { Transport, type TransportOptions } from "./transport.js";
import { openWatch } from "./watch.js";
import {
  FIELD_MANAGER,
  type KubeClient,
  type ListOptions,
  type ListResult,
  type ListerWatcher,
  type PatchType,
  type WatchEvent,
  type WatchHandle,
  type WatchOptions,
} from "./types.js";
import type { KubeObject, ObjectRef } from "../contract/index.js";

export const APPLY_PATCH_CONTENT_TYPE = "application/apply-patch+yaml";

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: "application/merge-patch+json",
  json: "application/json-patch+json",
  strategic: "application/strategic-merge-patch+json",
};

export interface ClusterClientOptions extends TransportOptions {
  fieldManager?: string;
  /** Force ownership when applying status (the operator is the only status writer). Default true. */
  forceStatus?: boolean;
  /** Page size for list requests (default 500). */
  pageSize?: number;
  /** Minimum time between discovery refreshes for an unknown kind (default 30 s). */
  discoveryRefreshMs?: number;
}

export interface RetryOptions {
  /** Attempts in total (client-go retry.DefaultRetry: 5). */
  steps?: number;
  /** First delay, then multiplied by `factor`, plus up to `jitter` of itself. */
  delayMs?: number;
  factor?: number;
  jitter?: number;
  clock?: Clock;
  /** Which errors to retry (default: 409 Conflict). */
  retriable?: (err: unknown) => boolean;
}

/**
 * Runs `fn` again while it fails with a 409 Conflict (client-go retry.RetryOnConflict). `fn` must
 * re-read the object each time, otherwise retrying cannot help.
 */
export async function retryOnConflict<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const steps = opts.steps ?? 5;
  const factor = opts.factor ?? 1;
  const jitter = opts.jitter ?? 0.1;
  const clock = opts.clock ?? realClock;
  const retriable = opts.retriable ?? isConflict;
  let delay = opts.delayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= steps || !retriable(err)) throw err;
      await clock.sleep(delay * (1 + Math.random() * jitter));
      delay *= factor;
    }
  }
}

export interface HttpClusterClient extends KubeClient, ListerWatcher {
  readonly fieldManager: string;
  /** Requests sent so far, by verb. */
  requestCounts(): Record<string, number>;
  /** REST location of a kind (built-in table, else discovery). */
  resolve(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** GET, mutate, PUT — re-read and retried on 409 Conflict. Returns undefined when the object is gone. */
  update(ref: ObjectRef, mutate: (obj: KubeObject) => KubeObject | undefined, opts?: { subresource?: "status"; retry?: RetryOptions }): Promise<KubeObject | undefined>;
  retryOnConflict<T>(fn: () => Promise<T>, opts?: RetryOptions): Promise<T>;
  /** Forget discovery answers (after installing CRDs). */
  invalidateDiscovery(): void;
}

function refOf(obj: KubeObject): ObjectRef {
  if (!obj || typeof obj !== "object") throw new Error("object: required");
  if (!obj.apiVersion) throw new Error("apiVersion: required");
  if (!obj.kind) throw new Error("kind: required");
  if (!obj.metadata?.name) throw new Error(`metadata.name: required for ${obj.kind}`);
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}),
  };
}

/** What is sent for SSA: server-managed metadata would be rejected or misread. */
function applyBody(obj: KubeObject): KubeObject {
  const { managedFields: _mf, creationTimestamp: _ct, uid: _uid, generation: _g, deletionTimestamp: _dt, selfLink: _sl, ...metadata } = obj.metadata;
  return { ...obj, metadata: metadata as KubeObject["metadata"] };
}

function parseObject(body: string): KubeObject {
  return JSON.parse(body) as KubeObject;
}

export function createClusterClient(kc: KubeConfig, opts: ClusterClientOptions = {}): HttpClusterClient {
  const transport = new Transport(kc, opts);
  const clock = opts.clock ?? realClock;
  const discovery = new Discovery(transport, clock, opts.discoveryRefreshMs ?? 30_000);
  const fieldManager = opts.fieldManager ?? FIELD_MANAGER;
  const pageSize = opts.pageSize ?? 500;
  const forceStatus = opts.forceStatus ?? true;

  const pathFor = async (ref: ObjectRef, subresource?: string): Promise<string> => {
    const info = await discovery.resolve(ref.apiVersion, ref.kind);
    return objectPath(info, ref.name, ref.namespace, subresource);
  };

  async function listWithVersion(apiVersion: string, kind: string, listOpts: ListOptions = {}): Promise<ListResult> {
    const info = await discovery.resolve(apiVersion, kind);
    const path = collectionPath(info, listOpts.namespace);
    const items: KubeObject[] = [];
    let continueToken: string | undefined;
    let limit: number | undefined = pageSize;
    let resourceVersion = "";
    for (;;) {
      let page: { metadata?: { resourceVersion?: string; continue?: string }; items?: KubeObject[] };
      try {
        const res = await transport.request({
          verb: "list",
          method: "GET",
          path,
          query: { labelSelector: listOpts.labelSelector, fieldSelector: listOpts.fieldSelector, limit, continue: continueToken },
        });
        page = JSON.parse(res.body) as typeof page;
      } catch (err) {
        // An expired continue token: start over with one unpaginated list (what client-go's pager does).
        if (continueToken && isGone(err)) {
          items.length = 0;
          continueToken = undefined;
          limit = undefined;
          continue;
        }
        throw err;
      }
      // List items carry no apiVersion/kind; restore them so callers get whole objects.
      for (const item of page.items ?? []) items.push({ ...item, apiVersion, kind });
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
      continueToken = page.metadata?.continue || undefined;
      if (!continueToken) break;
    }
    return { items, resourceVersion };
  }

  const client: HttpClusterClient = {
    fieldManager,
    requestCounts: () => transport.requestCounts(),
    resolve: (apiVersion, kind) => discovery.resolve(apiVersion, kind),
    invalidateDiscovery: () => discovery.invalidate(),
    retryOnConflict: (fn, retryOpts) => retryOnConflict(fn, { clock, ...retryOpts }),

    async apply(obj, applyOpts = {}) {
      const path = await pathFor(refOf(obj));
      const res = await transport.request({
        verb: "apply",
        method: "PATCH",
        path,
        query: { fieldManager, force: applyOpts.force ? "true" : undefined },
        body: applyBody(obj),
        contentType: APPLY_PATCH_CONTENT_TYPE,
      });
      return parseObject(res.body);
    },

    async applyStatus(obj) {
      const ref = refOf(obj);
      const path = await pathFor(ref, "status");
      const body: KubeObject = {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        status: obj["status"] ?? {},
      };
      const res = await transport.request({
        verb: "apply",
        method: "PATCH",
        path,
        query: { fieldManager, force: forceStatus ? "true" : undefined },
        body,
        contentType: APPLY_PATCH_CONTENT_TYPE,
      });
      return parseObject(res.body);
    },

    async get(ref) {
      const path = await pathFor(ref);
      try {
        return parseObject((await transport.request({ verb: "get", method: "GET", path })).body);
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    },

    async list(apiVersion, kind, listOpts) {
      return (await listWithVersion(apiVersion, kind, listOpts)).items;
    },

    listWithVersion,

    async watch(apiVersion: string, kind: string, watchOpts: WatchOptions, onEvent: (ev: WatchEvent) => void, onDone: (err?: unknown) => void): Promise<WatchHandle> {
      const info = await discovery.resolve(apiVersion, kind);
      return openWatch(transport, collectionPath(info, watchOpts.namespace), watchOpts, onEvent, onDone);
    },

    async delete(ref, deleteOpts = {}) {
      const path = await pathFor(ref);
      try {
        await transport.request({
          verb: "delete",
          method: "DELETE",
          path,
          body: { apiVersion: "v1", kind: "DeleteOptions", ...(deleteOpts.propagationPolicy ? { propagationPolicy: deleteOpts.propagationPolicy } : {}) },
        });
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    },

    async patch(ref, patch, type, patchOpts = {}) {
      const contentType = PATCH_CONTENT_TYPES[type];
      if (!contentType) throw new Error(`patch type: "${String(type)}" must be merge, json or strategic`);
      const path = await pathFor(ref, patchOpts.subresource);
      const res = await transport.request({ verb: "patch", method: "PATCH", path, query: { fieldManager }, body: patch, contentType });
      return parseObject(res.body);
    },

    async evict(namespace, name) {
      const path = objectPath({ group: "", version: "v1", kind: "Pod", plural: "pods", namespaced: true }, name, namespace, "eviction");
      try {
        await transport.request({
          verb: "evict",
          method: "POST",
          path,
          body: { apiVersion: "policy/v1", kind: "Eviction", metadata: { name, namespace } },
        });
      } catch (err) {
        if (!isNotFound(err)) throw err; // the pod is gone already: nothing to evict
      }
    },

    async createEvent(ev) {
      await client.create(ev);
    },

    async create(obj) {
      const ref = refOf(obj);
      const info = await discovery.resolve(ref.apiVersion, ref.kind);
      if (info.namespaced && !ref.namespace) throw new Error(`metadata.namespace: required for namespaced kind ${ref.kind} "${ref.name}"`);
      const res = await transport.request({ verb: "create", method: "POST", path: collectionPath(info, ref.namespace), query: { fieldManager }, body: obj });
      return parseObject(res.body);
    },

    async replace(obj) {
      const path = await pathFor(refOf(obj));
      const res = await transport.request({ verb: "update", method: "PUT", path, query: { fieldManager }, body: obj });
      return parseObject(res.body);
    },

    async update(ref, mutate, updateOpts = {}) {
      return retryOnConflict(async () => {
        const current = await client.get(ref);
        if (!current) return undefined;
        const next = mutate(structuredClone(current));
        if (!next) return current;
        next.metadata.resourceVersion = current.metadata.resourceVersion;
        const path = await pathFor(ref, updateOpts.subresource);
        const res = await transport.request({ verb: "update", method: "PUT", path, query: { fieldManager }, body: next });
        return parseObject(res.body);
      }, { clock, ...updateOpts.retry });
    },
  };
  return client;
}
