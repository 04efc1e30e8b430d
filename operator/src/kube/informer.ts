// A watch-backed cache of one kind (client-go Reflector + Indexer + shared informer, in one piece):
// list, then watch from the list's resourceVersion with bookmarks; resume from the last seen
// resourceVersion after a dropped stream (jittered, capped backoff); relist on 410 Gone; a watchdog
// relists when the stream goes silent; relists are spaced by a minimum interval so reconnect waves
// cannot storm the API server; periodic resync re-delivers every cached object to the handlers.
// Objects are deep-frozen once as they enter the store (the source hands them over) and then shared,
// uncopied, with get/list callers and handlers: clone before changing one.
import { Backoff, type BackoffOptions } from "./backoff.js";
import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { isGone } from "./errors.js";
import { silentLogger } from "./log.js";
import { withMeta, type Logger } from "../contract/index.js";
import type { OperatorMetrics } from "./metrics.js";
import type { ListerWatcher, WatchEvent, WatchHandle } from "./types.js";
import type { KubeObject } from "../contract/index.js";

/** Freezes `value` and everything it holds, in place. */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== "object" || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const v of Object.values(value as object)) deepFreeze(v);
  return value;
}

/** Handlers get the stored (frozen) objects: clone before changing one. */
export interface InformerHandlers {
  onAdd?(obj: KubeObject): void;
  /** Also called on resync, with `oldObj` and `newObj` carrying the same resourceVersion. */
  onUpdate?(oldObj: KubeObject, newObj: KubeObject): void;
  onDelete?(obj: KubeObject): void;
}

export interface InformerOptions {
  /** The HTTP client from createClusterClient, or the test fake. */
  source: ListerWatcher;
  apiVersion: string;
  kind: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-deliver all cached objects this often (0 = never). Default 10 min. */
  resyncPeriodMs?: number;
  /** Relist when no event or bookmark arrived for this long. Default 5 min (servers bookmark about once a minute). */
  watchdogMs?: number;
  /** Minimum time between two relists. Default 5 s. */
  minRelistIntervalMs?: number;
  /** Server-side watch timeout range, seconds; each watch picks one at random (client-go: 5–10 min). */
  watchTimeoutSeconds?: [min: number, max: number];
  /** Reconnect backoff (default 800 ms doubling to 30 s, jittered). */
  backoff?: BackoffOptions;
  /** A watch that lived this long resets the backoff. Default 2 min. */
  backoffResetMs?: number;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

type RelistReason = "initial" | "gone" | "watchdog" | "error";
type SessionEnd = { kind: "closed"; events: number } | { kind: "error"; err: unknown } | { kind: "gone" } | { kind: "watchdog" } | { kind: "stopped" };

export class Informer {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string | undefined;

  private readonly store = new Map<string, KubeObject>();
  private readonly handlers: InformerHandlers[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly resyncPeriodMs: number;
  private readonly watchdogMs: number;
  private readonly minRelistIntervalMs: number;
  private readonly backoffResetMs: number;
  private readonly watchTimeout: [number, number];

  private rv = "";
  private synced = false;
  private running = false;
  private stopController = new AbortController();
  private lastActivity = 0;
  private lastRelist = Number.NEGATIVE_INFINITY;
  private resyncTimer?: TimerHandle;
  private loop?: Promise<void>;
  private syncWaiters: Array<() => void> = [];
  private stats = { relists: 0, watches: 0 };

  constructor(private readonly opts: InformerOptions) {
    if (!opts.apiVersion) throw new Error("informer.apiVersion: required");
    if (!opts.kind) throw new Error("informer.kind: required");
    this.apiVersion = opts.apiVersion;
    this.kind = opts.kind;
    this.namespace = opts.namespace;
    this.clock = opts.clock ?? realClock;
    this.log = withMeta(opts.logger ?? silentLogger(), { informer: `${opts.apiVersion}/${opts.kind}` });
    this.backoff = new Backoff(opts.backoff);
    this.resyncPeriodMs = opts.resyncPeriodMs ?? 10 * 60_000;
    this.watchdogMs = opts.watchdogMs ?? 5 * 60_000;
    this.minRelistIntervalMs = opts.minRelistIntervalMs ?? 5_000;
    this.backoffResetMs = opts.backoffResetMs ?? 2 * 60_000;
    this.watchTimeout = opts.watchTimeoutSeconds ?? [300, 600];
    if (this.watchdogMs <= 0) throw new Error("informer.watchdogMs: must be > 0");
    if (this.resyncPeriodMs < 0) throw new Error("informer.resyncPeriodMs: must be >= 0");
  }

  addHandler(h: InformerHandlers): void {
    this.handlers.push(h);
    // A late handler sees the current contents, like client-go's AddEventHandler.
    if (this.synced) for (const obj of this.store.values()) this.deliver(h, "add", obj);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.stopController = new AbortController();
    this.lastActivity = this.clock.now();
    this.loop = this.run().catch((err: unknown) => void this.log.error("informer loop ended", { err }));
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.stopController.abort(new Error("informer stopped"));
    this.resyncTimer?.cancel();
    await this.loop;
  }

  hasSynced(): boolean {
    return this.synced;
  }

  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** True when the informer runs but heard nothing for longer than the watchdog allows (the watchdog is about to act, or cannot). */
  isStalled(): boolean {
    return this.running && this.clock.now() - this.lastActivity > 2 * this.watchdogMs;
  }

  lastActivityAt(): number {
    return this.lastActivity;
  }

  lastSyncResourceVersion(): string {
    return this.rv;
  }

  counters(): { relists: number; watches: number } {
    return { ...this.stats };
  }

  /** The stored object, frozen and shared: clone before changing it. */
  get(name: string, namespace?: string): KubeObject | undefined {
    return this.store.get(this.keyOf(namespace, name));
  }

  /** The stored objects, frozen and shared: clone before changing one. */
  list(namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const obj of this.store.values()) {
      if (namespace === undefined || obj.metadata.namespace === namespace) out.push(obj);
    }
    return out;
  }

  // ---- the loop -------------------------------------------------------------------------------

  private async run(): Promise<void> {
    let reason: RelistReason = "initial";
    while (this.running) {
      if (!(await this.relist(reason))) return;
      let sessionStart = this.clock.now();
      for (;;) {
        let end = await this.watchSession();
        if (end.kind === "stopped" || !this.running) return;
        if (end.kind === "gone" || end.kind === "watchdog") {
          reason = end.kind;
          this.log.info("relisting", { reason });
          break;
        }
        if (this.clock.now() - sessionStart >= this.backoffResetMs) this.backoff.reset();
        // client-go's "very short watch": closed within a second with nothing delivered is a failure, not a timeout.
        if (end.kind === "closed" && end.events === 0 && this.clock.now() - sessionStart < 1_000) {
          end = { kind: "error", err: new Error("very short watch: closed within 1s without events") };
        }
        if (end.kind === "error") {
          const delay = this.backoff.next();
          this.log.warn("watch failed; resuming from last resourceVersion", { err: end.err, resourceVersion: this.rv, retryInMs: delay });
          if (!(await this.sleep(delay))) return;
        }
        // a clean close (server timeout) resumes at once, from the last resourceVersion
        this.opts.metrics?.informerWatchRestarts.inc({ kind: this.kind });
        sessionStart = this.clock.now();
      }
    }
  }

  /** Lists until it succeeds (or stop), spacing relists by minRelistIntervalMs. */
  private async relist(reason: RelistReason): Promise<boolean> {
    for (;;) {
      const wait = this.lastRelist + this.minRelistIntervalMs - this.clock.now();
      if (wait > 0 && !(await this.sleep(wait))) return false;
      if (!this.running) return false;
      this.lastRelist = this.clock.now();
      this.stats.relists++;
      this.opts.metrics?.informerRelists.inc({ kind: this.kind, reason });
      try {
        const res = await this.opts.source.listWithVersion(this.apiVersion, this.kind, {
          ...(this.namespace ? { namespace: this.namespace } : {}),
          ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
          ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
        });
        if (!this.running) return false;
        this.replace(res.items, res.resourceVersion);
        this.backoff.reset();
        return true;
      } catch (err) {
        const delay = this.backoff.next();
        this.log.warn("list failed", { err, retryInMs: delay });
        reason = "error";
        if (!(await this.sleep(delay))) return false;
      }
    }
  }

  /** One watch from the last resourceVersion; resolves with why it ended. */
  private watchSession(): Promise<SessionEnd> {
    return new Promise<SessionEnd>((resolve) => {
      let ended = false;
      let events = 0;
      let handle: WatchHandle | undefined;
      let watchdog: TimerHandle | undefined;
      const end = (e: SessionEnd): void => {
        if (ended) return;
        ended = true;
        watchdog?.cancel();
        this.stopController.signal.removeEventListener("abort", onStop);
        handle?.stop();
        resolve(e);
      };
      const armWatchdog = (): void => {
        watchdog?.cancel();
        watchdog = this.clock.setTimer(() => {
          this.log.warn("watch silent for too long; relisting", { silentMs: this.clock.now() - this.lastActivity });
          end({ kind: "watchdog" });
        }, this.watchdogMs);
      };
      const onStop = (): void => end({ kind: "stopped" });
      this.stopController.signal.addEventListener("abort", onStop, { once: true });
      armWatchdog();
      this.stats.watches++;
      const [min, max] = this.watchTimeout;
      this.opts.source
        .watch(
          this.apiVersion,
          this.kind,
          {
            resourceVersion: this.rv,
            allowWatchBookmarks: true,
            timeoutSeconds: Math.round(min + Math.random() * (max - min)),
            ...(this.namespace ? { namespace: this.namespace } : {}),
            ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
            ...(this.opts.fieldSelector ? { fieldSelector: this.opts.fieldSelector } : {}),
          },
          (ev) => {
            if (ended) return;
            this.lastActivity = this.clock.now();
            events++;
            armWatchdog();
            this.onEvent(ev);
          },
          (err) => {
            if (err === undefined || err === null) end({ kind: "closed", events });
            else if (isGone(err)) end({ kind: "gone" });
            else end({ kind: "error", err });
          },
        )
        .then(
          (h) => {
            handle = h;
            if (ended) h.stop();
          },
          (err: unknown) => end(isGone(err) ? { kind: "gone" } : { kind: "error", err }),
        );
    });
  }

  private onEvent(ev: WatchEvent): void {
    const obj = ev.object;
    const rv = obj?.metadata?.resourceVersion;
    if (ev.type === "BOOKMARK") {
      if (rv) this.rv = rv;
      return;
    }
    if (!obj?.metadata?.name) return;
    const full: KubeObject = deepFreeze({ ...obj, apiVersion: obj.apiVersion ?? this.apiVersion, kind: obj.kind ?? this.kind });
    const key = this.keyOf(full.metadata.namespace, full.metadata.name);
    const old = this.store.get(key);
    if (ev.type === "DELETED") {
      this.store.delete(key);
      this.emit("delete", old ?? full);
    } else {
      this.store.set(key, full);
      if (old) this.emit("update", full, old);
      else this.emit("add", full);
    }
    if (rv) this.rv = rv;
  }

  /** Swaps in a full list, delivering the differences (client-go DeltaFIFO Replace). */
  private replace(items: KubeObject[], resourceVersion: string): void {
    const seen = new Set<string>();
    for (const item of items) {
      const full: KubeObject = deepFreeze({ ...item, apiVersion: item.apiVersion ?? this.apiVersion, kind: item.kind ?? this.kind });
      const key = this.keyOf(full.metadata.namespace, full.metadata.name);
      seen.add(key);
      const old = this.store.get(key);
      this.store.set(key, full);
      if (!old) this.emit("add", full);
      else if (old.metadata.resourceVersion !== full.metadata.resourceVersion) this.emit("update", full, old);
    }
    for (const [key, old] of [...this.store.entries()]) {
      if (!seen.has(key)) {
        this.store.delete(key);
        this.emit("delete", old);
      }
    }
    this.rv = resourceVersion;
    this.lastActivity = this.clock.now();
    if (!this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
  }

  private scheduleResync(): void {
    if (this.resyncPeriodMs <= 0 || !this.running) return;
    this.resyncTimer = this.clock.setTimer(() => {
      if (!this.running) return;
      if (this.synced) for (const obj of this.store.values()) this.emit("update", obj, obj);
      this.scheduleResync();
    }, this.resyncPeriodMs);
  }

  private emit(type: "add" | "update" | "delete", obj: KubeObject, old?: KubeObject): void {
    for (const h of this.handlers) this.deliver(h, type, obj, old);
  }

  private deliver(h: InformerHandlers, type: "add" | "update" | "delete", obj: KubeObject, old?: KubeObject): void {
    try {
      if (type === "add") h.onAdd?.(obj);
      else if (type === "update") h.onUpdate?.(old ?? obj, obj);
      else h.onDelete?.(obj);
    } catch (err) {
      this.log.error("event handler failed", { err, event: type });
    }
  }

  /** Sleeps unless stopped; false when stopped. */
  private async sleep(ms: number): Promise<boolean> {
    try {
      await this.clock.sleep(ms, this.stopController.signal);
      return this.running;
    } catch {
      return false;
    }
  }

  private keyOf(namespace: string | undefined, name: string): string {
    return `${namespace ?? ""}/${name}`;
  }
}

export function createInformer(opts: InformerOptions): Informer {
  return new Informer(opts);
}
