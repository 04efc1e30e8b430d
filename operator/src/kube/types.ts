// What the rest of the operator may ask of the API server. Implemented in this folder with
// @kubernetes/client-node; tests substitute an in-memory fake with the same interface.
import type { KubeObject, ObjectRef } from "../contract/index.js";

export const FIELD_MANAGER = "olares-operator";

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export type PatchType = "merge" | "json" | "strategic";

export interface ClusterClient {
  /** Server-side apply (application/apply-patch+yaml, fieldManager olares-operator). */
  apply(obj: KubeObject, opts?: { force?: boolean }): Promise<KubeObject>;
  /** Server-side apply of `status` through the status subresource. */
  applyStatus(obj: KubeObject): Promise<KubeObject>;
  get(ref: ObjectRef): Promise<KubeObject | undefined>;
  list(apiVersion: string, kind: string, opts?: ListOptions): Promise<KubeObject[]>;
  /** Returns false when it was already gone. */
  delete(ref: ObjectRef, opts?: { propagationPolicy?: "Background" | "Foreground" | "Orphan" }): Promise<boolean>;
  patch(ref: ObjectRef, patch: unknown, type: PatchType, opts?: { subresource?: "status" }): Promise<KubeObject>;
  /** Evict a pod through the eviction subresource (honours PodDisruptionBudgets). */
  evict(namespace: string, name: string): Promise<void>;
  createEvent(ev: KubeObject): Promise<void>;
}

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** Every watch event type the API server sends, including bookmarks and in-stream errors. */
export type RawWatchEventType = WatchEventType | "BOOKMARK" | "ERROR";

export interface WatchEvent {
  type: RawWatchEventType;
  object: KubeObject;
}

/** The ClusterClient plus the plain create/replace verbs needed for optimistic concurrency (leases). */
export interface KubeClient extends ClusterClient {
  /** POST; fails with 409 AlreadyExists when the object exists. */
  create(obj: KubeObject): Promise<KubeObject>;
  /** PUT; `metadata.resourceVersion` is a precondition (409 Conflict when stale). */
  replace(obj: KubeObject): Promise<KubeObject>;
}

export interface ListResult {
  items: KubeObject[];
  /** Collection resourceVersion to start a watch from. */
  resourceVersion: string;
}

export interface WatchOptions extends ListOptions {
  resourceVersion: string;
  allowWatchBookmarks?: boolean;
  /** Server-side timeout of the watch, seconds. */
  timeoutSeconds?: number;
}

/** An open watch; `stop()` ends it without calling `onDone` with an error. */
export interface WatchHandle {
  stop(): void;
}

/** List + watch of one kind: what an informer needs. Backed by HTTP (client.ts) or by the test fake. */
export interface ListerWatcher {
  listWithVersion(apiVersion: string, kind: string, opts?: ListOptions): Promise<ListResult>;
  /**
   * Opens a watch. `onEvent` gets every event in order; `onDone` is called once when the stream ends
   * (err undefined: closed cleanly, e.g. server timeout; err set: failed, e.g. ApiError 410).
   */
  watch(
    apiVersion: string,
    kind: string,
    opts: WatchOptions,
    onEvent: (ev: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<WatchHandle>;
}
