// Kubernetes Events (core/v1, what `kubectl describe` shows) with client-go EventCorrelator-style
// aggregation: an identical event within the window bumps `count`/`lastTimestamp` on the existing
// Event instead of creating a new one, and those patches are coalesced (at most one per key per
// `patchIntervalMs`). Recording never blocks or fails a reconcile: writes run in the background,
// a bounded backlog drops (and counts) the excess, errors are logged.
import { realClock, type Clock, type TimerHandle } from "./clock.js";
import { isNotFound, scrubMessage } from "./errors.js";
import { silentLogger } from "./log.js";
import { withMeta, type Logger } from "../contract/index.js";
import type { OperatorMetrics } from "./metrics.js";
import type { ClusterClient } from "./types.js";
import type { KubeObject } from "../contract/index.js";

export type EventType = "Normal" | "Warning";

export interface EventRecorderOptions {
  client: Pick<ClusterClient, "createEvent" | "patch">;
  /** source.component / reportingComponent. */
  component?: string;
  /** reportingInstance, e.g. the pod name. */
  instance?: string;
  /** Identical events within this window are aggregated (default 10 min). */
  aggregateWindowMs?: number;
  /** Minimum time between two count updates of one aggregated event (default 30 s). */
  patchIntervalMs?: number;
  /** Writes allowed to wait; more are dropped (default 256). */
  maxPending?: number;
  /** Namespace for events about cluster-scoped objects (default "default", as client-go). */
  defaultNamespace?: string;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
}

interface Aggregate {
  name: string;
  namespace: string;
  count: number;
  writtenCount: number;
  first: number;
  last: number;
  lastWrite: number;
  timer?: TimerHandle;
  event: KubeObject;
}

const MAX_MESSAGE = 1024;

function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export class EventRecorder {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly window: number;
  private readonly patchInterval: number;
  private readonly maxPending: number;
  private readonly component: string;
  private readonly aggregates = new Map<string, Aggregate>();
  private chain: Promise<void> = Promise.resolve();
  private pending = 0;
  private seq = 0;

  constructor(private readonly opts: EventRecorderOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = withMeta(opts.logger ?? silentLogger(), { component: "events" });
    this.window = opts.aggregateWindowMs ?? 10 * 60_000;
    this.patchInterval = opts.patchIntervalMs ?? 30_000;
    this.maxPending = opts.maxPending ?? 256;
    this.component = opts.component ?? "olares-operator";
  }

  /** Records an event about `about`; returns at once. */
  record(about: KubeObject, type: EventType, reason: string, message: string): void {
    void this.emit(about, type, reason, message);
  }

  /** Same as record(); resolves once this event's write finished (never rejects). */
  emit(about: KubeObject, type: EventType, reason: string, message: string): Promise<void> {
    const now = this.clock.now();
    const note = scrubMessage(message).slice(0, MAX_MESSAGE);
    const namespace = about.metadata.namespace ?? this.opts.defaultNamespace ?? "default";
    const key = [about.metadata.uid ?? "", about.kind, namespace, about.metadata.name, type, reason, note].join("\u0000");
    this.expire(now);
    const agg = this.aggregates.get(key);
    if (agg) {
      agg.count++;
      agg.last = now;
      if (!agg.timer) {
        const delay = Math.max(0, agg.lastWrite + this.patchInterval - now);
        if (delay === 0) return this.enqueue(() => this.updateCount(agg));
        agg.timer = this.clock.setTimer(() => {
          agg.timer = undefined;
          void this.enqueue(() => this.updateCount(agg));
        }, delay);
      }
      return Promise.resolve();
    }
    const name = this.eventName(about.metadata.name, now);
    const event: KubeObject = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.metadata.name,
        ...(about.metadata.namespace ? { namespace: about.metadata.namespace } : {}),
        ...(about.metadata.uid ? { uid: about.metadata.uid } : {}),
        ...(about.metadata.resourceVersion ? { resourceVersion: about.metadata.resourceVersion } : {}),
      },
      type,
      reason,
      message: note,
      source: { component: this.component },
      reportingComponent: this.component,
      ...(this.opts.instance ? { reportingInstance: this.opts.instance } : {}),
      firstTimestamp: timestamp(now),
      lastTimestamp: timestamp(now),
      count: 1,
    };
    const fresh: Aggregate = { name, namespace, count: 1, writtenCount: 0, first: now, last: now, lastWrite: now, event };
    this.aggregates.set(key, fresh);
    return this.enqueue(() => this.create(fresh));
  }

  /** Waits for every queued write (shutdown, tests). Aggregated counts still waiting on a timer are written now. */
  async flush(): Promise<void> {
    for (const agg of this.aggregates.values()) {
      if (agg.timer) {
        agg.timer.cancel();
        agg.timer = undefined;
        void this.enqueue(() => this.updateCount(agg));
      }
    }
    await this.chain;
  }

  /** `<object>.<hex time><hex seq>`, unique per recorder like client-go's `<name>.<unix nanos hex>`. */
  private eventName(objectName: string, now: number): string {
    return `${objectName}.${now.toString(16)}${(this.seq++ % 4096).toString(16).padStart(3, "0")}`;
  }

  private expire(now: number): void {
    for (const [key, agg] of this.aggregates) {
      if (now - agg.last > this.window && !agg.timer) this.aggregates.delete(key);
    }
  }

  private enqueue(write: () => Promise<void>): Promise<void> {
    if (this.pending >= this.maxPending) {
      this.opts.metrics?.eventsDropped.inc({ reason: "backlog" });
      this.log.debug?.("event dropped: backlog full", { pending: this.pending });
      return Promise.resolve();
    }
    this.pending++;
    const run = this.chain.then(write).catch((err: unknown) => {
      this.opts.metrics?.eventsDropped.inc({ reason: "error" });
      this.log.warn("could not write event", { err });
    }).finally(() => {
      this.pending--;
    });
    this.chain = run;
    return run;
  }

  private async create(agg: Aggregate): Promise<void> {
    const count = agg.count;
    await this.opts.client.createEvent({ ...agg.event, count, lastTimestamp: timestamp(agg.last) });
    agg.writtenCount = count;
    agg.lastWrite = this.clock.now();
  }

  private async updateCount(agg: Aggregate): Promise<void> {
    if (agg.count === agg.writtenCount) return;
    const count = agg.count;
    try {
      await this.opts.client.patch(
        { apiVersion: "v1", kind: "Event", name: agg.name, namespace: agg.namespace },
        { count, lastTimestamp: timestamp(agg.last) },
        "merge",
      );
      agg.writtenCount = count;
      agg.lastWrite = this.clock.now();
    } catch (err) {
      // The apiserver expires events (default TTL 1 h): write it again, under a fresh name.
      if (!isNotFound(err)) throw err;
      agg.name = this.eventName(String((agg.event["involvedObject"] as { name: string }).name), this.clock.now());
      agg.event = { ...agg.event, metadata: { ...agg.event.metadata, name: agg.name } };
      await this.create(agg);
    }
  }
}

export function createEventRecorder(opts: EventRecorderOptions): EventRecorder {
  return new EventRecorder(opts);
}
