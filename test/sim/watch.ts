// Watch streams: JSON lines of {type, object}, resumed from a resourceVersion, filtered by selectors,
// with BOOKMARKs, 410 Expired for compacted history, timeouts and fault-injected drops.
import type { ServerResponse } from "node:http";
import { ApiError } from "./errors.js";
import type { Matcher } from "./selectors.js";
import type { ObjectStore } from "./store.js";
import type { Json, KObj, StoreEvent } from "./types.js";

export interface WatchRequest {
  typeKey: string;
  namespace?: string;
  name?: string;
  labels?: Matcher;
  fields?: Matcher;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  /** From fault injection: close after this many seconds. */
  dropAfterSeconds?: number;
  bookmarkIntervalMs: number;
  /** apiVersion/kind for bookmark objects. */
  apiVersion: string;
  kind: string;
  /** Converts an object for the wire (served version, Table). */
  render: (obj: KObj) => Json;
}

const encodedObjects = new WeakMap<object, string>();

export interface WatchCounters {
  open: number;
}

export function serveWatch(store: ObjectStore, req: WatchRequest, res: ServerResponse, counters: WatchCounters, onClose: () => void): void {
  res.writeHead(200, { "Content-Type": "application/json", "Cache-Control": "no-cache, private", "Transfer-Encoding": "chunked" });
  res.flushHeaders();
  counters.open++;
  let closed = false;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribe = () => {};
  const close = () => {
    if (closed) return;
    closed = true;
    counters.open--;
    unsubscribe();
    for (const t of timers) clearTimeout(t);
    res.end();
    onClose();
  };
  res.on("close", close);

  const matches = (o: KObj | undefined): boolean => {
    if (!o) return false;
    if (req.namespace !== undefined && (o.metadata.namespace ?? "") !== req.namespace) return false;
    if (req.name !== undefined && o.metadata.name !== req.name) return false;
    if (req.labels && !req.labels(o)) return false;
    if (req.fields && !req.fields(o)) return false;
    return true;
  };
  const send = (type: string, object: Json) => {
    if (closed) return;
    // Objects are immutable once stored, so one encoding serves every watcher.
    let encoded = encodedObjects.get(object);
    if (encoded === undefined) {
      encoded = JSON.stringify(object);
      if (typeof object === "object" && object !== null) encodedObjects.set(object, encoded);
    }
    res.write(`{"type":"${type}","object":${encoded}}\n`);
  };
  const deliver = (ev: StoreEvent) => {
    const now = matches(ev.obj);
    if (ev.type === "ADDED") {
      if (now) send("ADDED", req.render(ev.obj));
    } else if (ev.type === "DELETED") {
      if (matches(ev.prev ?? ev.obj)) send("DELETED", req.render(ev.obj));
    } else {
      const before = ev.prev ? matches(ev.prev) : now;
      if (now && before) send("MODIFIED", req.render(ev.obj));
      else if (now) send("ADDED", req.render(ev.obj));
      else if (before) send("DELETED", req.render(ev.obj));
    }
  };
  const bookmark = (annotations?: Record<string, string>) =>
    send("BOOKMARK", { kind: req.kind, apiVersion: req.apiVersion, metadata: { resourceVersion: String(store.resourceVersion), ...(annotations ? { annotations } : {}) } });

  const rv = req.resourceVersion;
  const initial = rv === undefined || rv === "" || rv === "0" || req.sendInitialEvents === true;
  try {
    if (initial) {
      for (const o of store.list(req.typeKey, req.namespace)) if (matches(o)) send("ADDED", req.render(o));
      if (req.sendInitialEvents && req.allowBookmarks) bookmark({ "k8s.io/initial-events-end": "true" });
    } else {
      const from = Number(rv);
      if (!Number.isInteger(from) || from < 0) throw new Error(`invalid resource version: ${rv}`);
      for (const ev of store.eventsSince(req.typeKey, from)) deliver(ev);
    }
  } catch (e) {
    const status = e instanceof ApiError ? e.status : { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: (e as Error).message, reason: "BadRequest", code: 400 };
    send("ERROR", status);
    close();
    return;
  }
  unsubscribe = store.subscribe(req.typeKey, deliver);
  if (req.allowBookmarks) {
    const tick = () => {
      bookmark();
      timers[0] = setTimeout(tick, req.bookmarkIntervalMs);
    };
    timers.push(setTimeout(tick, req.bookmarkIntervalMs));
  }
  const limits = [req.timeoutSeconds, req.dropAfterSeconds].filter((x): x is number => typeof x === "number" && x > 0);
  if (limits.length > 0) timers.push(setTimeout(close, Math.min(...limits) * 1000));
}
