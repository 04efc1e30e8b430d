// Leader election on a coordination.k8s.io/v1 Lease (client-go tools/leaderelection): optimistic
// concurrency through resourceVersion (409 = lost the race), expiry judged by our own clock from when
// we last saw the record change (no trust in other nodes' clocks), renew within renewDeadline or step
// down, and release on shutdown so a standby takes over at once.
import { realClock, type Clock } from "./clock.js";
import { isAlreadyExists, isConflict } from "./errors.js";
import { silentLogger } from "./log.js";
import { withMeta, type Logger } from "../contract/index.js";
import type { OperatorMetrics } from "./metrics.js";
import type { KubeClient } from "./types.js";
import type { KubeObject, ObjectRef } from "../contract/index.js";

export interface LeaseRecord {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface LeaderElectionOptions {
  client: Pick<KubeClient, "get" | "create" | "replace">;
  namespace: string;
  name: string;
  /** Unique per replica, e.g. the pod name. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called once this replica leads; the signal aborts when leadership ends. */
  onStartedLeading: (signal: AbortSignal) => void;
  /** Called once leadership ends (lost, or stopped). */
  onStoppedLeading: () => void;
  /** Called when the observed leader changes (including to this replica). */
  onNewLeader?: (identity: string) => void;
  clock?: Clock;
  logger?: Logger;
  metrics?: OperatorMetrics;
  random?: () => number;
}

const JITTER = 1.2;

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

export class LeaderElector {
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly ref: ObjectRef;

  private observed?: { record: LeaseRecord; resourceVersion?: string; at: number };
  private leading = false;
  private leadership?: AbortController;
  private stopper = new AbortController();
  private running?: Promise<void>;
  private lastLeader?: string;

  constructor(private readonly opts: LeaderElectionOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!opts.identity) throw new Error("leaderElection.identity: required");
    if (!opts.name || !opts.namespace) throw new Error("leaderElection.name/namespace: required");
    if (this.leaseDurationMs <= this.renewDeadlineMs) throw new Error("leaderElection.leaseDurationMs: must be greater than renewDeadlineMs");
    if (this.renewDeadlineMs <= JITTER * this.retryPeriodMs) throw new Error("leaderElection.renewDeadlineMs: must be greater than 1.2 × retryPeriodMs");
    if (this.leaseDurationMs % 1000 !== 0) throw new Error("leaderElection.leaseDurationMs: must be whole seconds");
    this.clock = opts.clock ?? realClock;
    this.log = withMeta(opts.logger ?? silentLogger(), { lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
    this.random = opts.random ?? Math.random;
    this.ref = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: opts.namespace, name: opts.name };
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Identity of the last observed holder. */
  leader(): string | undefined {
    return this.lastLeader;
  }

  /** Campaigns, then leads until the lease is lost or stop() is called. Resolves when it no longer leads. */
  start(): Promise<void> {
    this.running ??= this.run();
    return this.running;
  }

  /** Stops campaigning; a leader releases the lease first so a standby can take over at once. */
  async stop(): Promise<void> {
    this.stopper.abort(new Error("leader election stopped"));
    await this.running;
  }

  private async run(): Promise<void> {
    // acquire
    while (!this.stopper.signal.aborted) {
      if (await this.tryAcquireOrRenew()) break;
      if (!(await this.sleep(this.retryPeriodMs * (1 + this.random() * (JITTER - 1))))) return;
    }
    if (this.stopper.signal.aborted) return;
    this.leading = true;
    this.opts.metrics?.leader.set(1);
    this.leadership = new AbortController();
    this.log.info("became leader");
    try {
      this.opts.onStartedLeading(this.leadership.signal);
    } catch (err) {
      this.log.error("onStartedLeading failed", { err });
    }
    // renew
    let lastRenew = this.clock.now();
    while (!this.stopper.signal.aborted) {
      if (!(await this.sleep(this.retryPeriodMs))) break;
      const result = await this.tryAcquireOrRenew();
      if (result) {
        lastRenew = this.clock.now();
        continue;
      }
      const otherHolder = this.observed?.record.holderIdentity;
      if (otherHolder && otherHolder !== this.opts.identity) {
        this.log.warn("lease taken by another replica", { holder: otherHolder });
        break;
      }
      if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        this.log.warn("failed to renew the lease within the renew deadline", { renewDeadlineMs: this.renewDeadlineMs });
        break;
      }
    }
    if (this.stopper.signal.aborted) await this.release();
    this.stepDown();
  }

  private stepDown(): void {
    if (!this.leading) return;
    this.leading = false;
    this.opts.metrics?.leader.set(0);
    this.leadership?.abort(new Error("leadership lost"));
    this.log.info("stopped leading");
    try {
      this.opts.onStoppedLeading();
    } catch (err) {
      this.log.error("onStoppedLeading failed", { err });
    }
  }

  /** Gives the lease up (holder empty, 1 s duration) if we hold it. Safe to call more than once. */
  async release(): Promise<boolean> {
    if (!this.leading || !this.observed) return false;
    const now = this.clock.now();
    const record: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: this.observed.record.leaseTransitions ?? 0,
    };
    try {
      await this.opts.client.replace(this.leaseObject(record, this.observed.resourceVersion));
      this.log.info("released the lease");
      return true;
    } catch (err) {
      this.log.warn("could not release the lease; the standby waits for it to expire", { err });
      return false;
    }
  }

  private leaseObject(record: LeaseRecord, resourceVersion?: string): KubeObject {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace, ...(resourceVersion ? { resourceVersion } : {}) },
      spec: record,
    };
  }

  private observe(lease: KubeObject): void {
    const record = (lease["spec"] ?? {}) as LeaseRecord;
    const rv = lease.metadata.resourceVersion;
    if (!this.observed || this.observed.resourceVersion !== rv) {
      this.observed = { record, ...(rv ? { resourceVersion: rv } : {}), at: this.clock.now() };
    }
    const holder = record.holderIdentity ?? "";
    if (holder !== this.lastLeader) {
      this.lastLeader = holder;
      if (holder) this.opts.onNewLeader?.(holder);
    }
  }

  /** One attempt; true when we hold the lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const mine = (acquireTime: string, transitions: number): LeaseRecord => ({
      holderIdentity: this.opts.identity,
      leaseDurationSeconds: this.leaseDurationMs / 1000,
      acquireTime,
      renewTime: microTime(now),
      leaseTransitions: transitions,
    });
    try {
      const lease = await this.opts.client.get(this.ref);
      if (!lease) {
        const created = await this.opts.client.create(this.leaseObject(mine(microTime(now), 0)));
        this.observe(created);
        return true;
      }
      this.observe(lease);
      const record = this.observed!.record;
      const holder = record.holderIdentity ?? "";
      const held = holder === this.opts.identity;
      const durationMs = (record.leaseDurationSeconds ?? this.leaseDurationMs / 1000) * 1000;
      const valid = this.observed!.at + durationMs > now;
      if (holder !== "" && !held && valid) return false;
      const next = held
        ? mine(record.acquireTime ?? microTime(now), record.leaseTransitions ?? 0)
        : mine(microTime(now), (record.leaseTransitions ?? 0) + 1);
      const updated = await this.opts.client.replace(this.leaseObject(next, lease.metadata.resourceVersion));
      this.observe(updated);
      return true;
    } catch (err) {
      if (isConflict(err) || isAlreadyExists(err)) this.log.debug?.("lost a lease update race", { err });
      else this.log.warn("lease request failed", { err });
      return false;
    }
  }

  private async sleep(ms: number): Promise<boolean> {
    try {
      await this.clock.sleep(ms, this.stopper.signal);
      return true;
    } catch {
      return false;
    }
  }
}

export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  return new LeaderElector(opts);
}
