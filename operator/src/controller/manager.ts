// Wires the runtime around the Reconciler: informers (the CR, Nodes, every kind we own) feed one
// workqueue keyed by CR name; leader election gates the workers; shutdown drains the queue, releases
// the lease and stops the informers.
import type { KubeClient, ListerWatcher } from "../kube/types.js";
import { CacheSet } from "../kube/cache.js";
import { createInformer, type Informer } from "../kube/informer.js";
import { WorkQueue } from "../kube/workqueue.js";
import { createLeaderElector, type LeaderElector } from "../kube/leader.js";
import { realClock, type Clock } from "../kube/clock.js";
import { silentLogger } from "../kube/log.js";
import type { Logger as KubeLogger } from "../contract/index.js";
import type { OperatorMetrics } from "../kube/metrics.js";
import { OWNED_KINDS } from "../render/index.js";
import { API_VERSION, KIND, LABEL_MANAGED_BY, MANAGED_BY } from "../contract/index.js";
import { createEventRecorder, type EventRecorder } from "../kube/events.js";
import { Reconciler } from "./reconciler.js";
import { FACT_INFORMERS } from "./facts.js";
import type { ReleaseRuntime } from "./release.js";

export const LEASE_NAME = "olares-operator";

/** Progress-only status writes at most every 500 ms: a fast install writes status per step, not per object. */
export const DEFAULT_STATUS_COALESCE_MS = 500;

export interface ManagerOptions {
  client: KubeClient & ListerWatcher;
  operatorImage: string;
  /** Namespace the operator runs in (its Lease, and Secret references without a namespace). */
  namespace: string;
  logger?: KubeLogger;
  metrics?: OperatorMetrics;
  /** Campaign for the Lease before reconciling; off: reconcile at once (single replica, tests). */
  leaderElection?: { identity: string; leaseDurationMs?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Informer resync: every object is re-delivered, so every CR is reconciled at least this often. */
  resyncPeriodMs?: number;
  clock?: Clock;
  progressRequeueMs?: number;
  /** helm and the release cache: without them the CoreServices stage reports HelmNotConfigured. */
  release?: ReleaseRuntime;
  /** Progress-only status changes within this many ms of the last status write wait (see ReconcilerOptions). */
  statusCoalesceMs?: number;
}

export class Manager {
  readonly cache: CacheSet;
  readonly queue: WorkQueue<string>;
  readonly reconciler: Reconciler;
  readonly events: EventRecorder;
  private readonly crInformer: Informer;
  private readonly log: KubeLogger;
  private readonly elector?: LeaderElector;
  private workers?: Promise<void>;
  private stopped = false;
  private stopping?: Promise<void>;
  /** Resolves when leadership is lost (the process should exit so a standby takes over cleanly). */
  readonly lostLeadership: Promise<void>;
  private signalLost!: () => void;

  constructor(private readonly opts: ManagerOptions) {
    this.log = opts.logger ?? silentLogger();
    const clock = opts.clock ?? realClock;
    const common = {
      source: opts.client,
      clock,
      logger: this.log,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.resyncPeriodMs !== undefined ? { resyncPeriodMs: opts.resyncPeriodMs } : {}),
    };
    const ours = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
    this.crInformer = createInformer({ ...common, apiVersion: API_VERSION, kind: KIND });
    const informers: Informer[] = [
      this.crInformer,
      createInformer({ ...common, apiVersion: "v1", kind: "Node" }),
      createInformer({ ...common, apiVersion: "v1", kind: "Secret", labelSelector: ours }),
      ...OWNED_KINDS.map((k) => createInformer({ ...common, apiVersion: k.apiVersion, kind: k.kind, labelSelector: ours })),
      ...FACT_INFORMERS.map((f) => createInformer({ ...common, ...f })),
    ];
    this.cache = new CacheSet(informers);
    this.queue = new WorkQueue<string>({ name: "olaresinstallation", clock, logger: this.log, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
    this.events = createEventRecorder({
      client: opts.client,
      clock,
      logger: this.log,
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.leaderElection ? { instance: opts.leaderElection.identity } : {}),
    });
    this.reconciler = new Reconciler({
      events: this.events,
      client: opts.client,
      observed: this.cache,
      operatorImage: opts.operatorImage,
      operatorNamespace: opts.namespace,
      log: this.log,
      now: () => new Date(clock.now()),
      ...(opts.metrics ? { metrics: opts.metrics } : {}),
      ...(opts.progressRequeueMs !== undefined ? { progressRequeueMs: opts.progressRequeueMs } : {}),
      ...(opts.release ? { release: opts.release } : {}),
      statusCoalesceMs: opts.statusCoalesceMs ?? DEFAULT_STATUS_COALESCE_MS,
    });
    this.lostLeadership = new Promise((resolve) => (this.signalLost = resolve));
    for (const informer of informers) {
      const own = informer === this.crInformer;
      informer.addHandler({
        onAdd: (o) => this.enqueueFor(own ? o.metadata.name : undefined),
        onUpdate: (_old, o) => this.enqueueFor(own ? o.metadata.name : undefined),
        // A deleted CR may hand over to the next-oldest one: look at all of them.
        onDelete: () => this.enqueueFor(undefined),
      });
    }
    if (opts.leaderElection) {
      this.elector = createLeaderElector({
        client: opts.client,
        namespace: opts.namespace,
        name: LEASE_NAME,
        identity: opts.leaderElection.identity,
        ...(opts.leaderElection.leaseDurationMs ? { leaseDurationMs: opts.leaderElection.leaseDurationMs } : {}),
        ...(opts.leaderElection.renewDeadlineMs ? { renewDeadlineMs: opts.leaderElection.renewDeadlineMs } : {}),
        ...(opts.leaderElection.retryPeriodMs ? { retryPeriodMs: opts.leaderElection.retryPeriodMs } : {}),
        clock,
        logger: this.log,
        ...(opts.metrics ? { metrics: opts.metrics } : {}),
        onStartedLeading: () => this.runWorkers(),
        onStoppedLeading: () => {
          if (!this.stopped) {
            this.log.error("lost leadership; stopping");
            this.signalLost();
          }
        },
      });
    }
  }

  /** Every event maps to CR keys: the CR itself, or (Nodes, owned objects, deletions) every CR. */
  private enqueueFor(name: string | undefined): void {
    if (this.stopped) return;
    if (name) this.queue.add(name);
    else for (const cr of this.crInformer.list()) this.queue.add(cr.metadata.name);
  }

  private runWorkers(): void {
    if (this.workers || this.stopped) return;
    this.log.info("starting workers");
    this.workers = this.queue.runWorkers(1, (key) => this.reconciler.reconcile(key));
  }

  /** Starts the informers, waits for their first list, then reconciles (after winning the Lease). */
  async start(): Promise<void> {
    this.cache.start();
    await this.cache.waitForSync();
    this.log.info("caches synced");
    if (this.stopped) return;
    if (this.elector) void this.elector.start();
    else this.runWorkers();
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : !this.stopped;
  }

  ready(): boolean {
    return this.cache.hasSynced() && this.cache.stalled().length === 0;
  }

  /** Graceful: finish the reconcile in progress, release the Lease, stop watching. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopped = true;
      await this.queue.shutDown({ drain: false });
      await this.workers;
      await this.events.flush();
      await this.elector?.stop();
      await this.cache.stop();
      this.log.info("manager stopped");
    })();
    return this.stopping;
  }
}
