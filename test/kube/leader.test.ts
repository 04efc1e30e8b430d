import { expect } from "chai";
import { FakeClock } from "../../operator/src/kube/clock.js";
import { ApiError } from "../../operator/src/kube/errors.js";
import { LeaderElector, microTime, type LeaseRecord } from "../../operator/src/kube/leader.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import { FakeCluster } from "../support/fake-cluster.js";

const LEASE = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", namespace: "olares-system", name: "olares-operator" };

describe("leader election", () => {
  let clock: FakeClock;
  let fake: FakeCluster;
  let electors: LeaderElector[];
  beforeEach(() => {
    clock = new FakeClock();
    fake = new FakeCluster(() => new Date(clock.now()));
    electors = [];
  });
  afterEach(async () => {
    const stopping = electors.map((e) => e.stop());
    await clock.advance(0);
    await Promise.all(stopping);
  });

  const candidate = (identity: string, log: string[]) => {
    const e = new LeaderElector({
      client: fake,
      namespace: LEASE.namespace,
      name: LEASE.name,
      identity,
      clock,
      random: () => 0,
      onStartedLeading: () => log.push(`${identity} started`),
      onStoppedLeading: () => log.push(`${identity} stopped`),
    });
    electors.push(e);
    return e;
  };
  const record = (): LeaseRecord => (fake.peek(LEASE)?.["spec"] ?? {}) as LeaseRecord;

  it("acquires a missing lease with the full record in RFC 3339 micro time", async () => {
    const log: string[] = [];
    const a = candidate("a", log);
    void a.start();
    await clock.advance(0);
    expect(a.isLeader()).to.equal(true);
    expect(log).to.deep.equal(["a started"]);
    const rec = record();
    expect(rec).to.deep.equal({
      holderIdentity: "a",
      leaseDurationSeconds: 15,
      acquireTime: microTime(clock.now()),
      renewTime: microTime(clock.now()),
      leaseTransitions: 0,
    });
    expect(rec.acquireTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("renews every retry period, keeping acquireTime and transitions", async () => {
    const a = candidate("a", []);
    void a.start();
    await clock.advance(0);
    const acquired = record().acquireTime;
    await clock.advance(2_000);
    expect(record().renewTime).to.equal(microTime(clock.now()));
    expect(record().acquireTime).to.equal(acquired);
    expect(record().leaseTransitions).to.equal(0);
  });

  it("keeps a standby passive while the leader renews; when the leader is cut off it steps down and the standby takes over after expiry", async () => {
    const log: string[] = [];
    let partitioned = false;
    const down = () => Promise.reject(new ApiError(0, "ServiceUnavailable", "network down"));
    const aClient = {
      get: (ref: typeof LEASE) => (partitioned ? down() : fake.get(ref)),
      create: (o: Parameters<FakeCluster["create"]>[0]) => (partitioned ? down() : fake.create(o)),
      replace: (o: Parameters<FakeCluster["replace"]>[0]) => (partitioned ? down() : fake.replace(o)),
    };
    const a = new LeaderElector({
      client: aClient, namespace: LEASE.namespace, name: LEASE.name, identity: "a", clock, random: () => 0,
      onStartedLeading: () => log.push("a started"), onStoppedLeading: () => log.push("a stopped"),
    });
    electors.push(a);
    void a.start();
    await clock.advance(0);
    const b = candidate("b", log);
    void b.start();
    await clock.advance(60_000);
    expect(b.isLeader()).to.equal(false);
    expect(b.leader()).to.equal("a");
    expect(fake.requests.filter((r) => r.verb === "replace" && (r.body as { spec: LeaseRecord }).spec.holderIdentity === "b")).to.have.length(0);

    partitioned = true;
    const lastRenew = clock.now();
    await clock.advance(10_000);
    expect(log).to.deep.equal(["a started", "a stopped"]); // renew deadline (10 s) passed
    expect(b.isLeader()).to.equal(false); // the lease itself is still valid for b
    while (!b.isLeader()) await clock.advance(1_000);
    expect(clock.now() - lastRenew).to.be.within(15_000, 17_000);
    expect(record()).to.include({ holderIdentity: "b", leaseTransitions: 1 });
    expect(log).to.deep.equal(["a started", "a stopped", "b started"]);
  });

  it("a standby acquires once the holder stopped renewing for a full lease duration", async () => {
    fake.seed({
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: LEASE.name, namespace: LEASE.namespace },
      spec: { holderIdentity: "crashed", leaseDurationSeconds: 15, acquireTime: microTime(0), renewTime: microTime(0), leaseTransitions: 3 },
    });
    const log: string[] = [];
    const b = candidate("b", log);
    void b.start();
    await clock.advance(14_000);
    expect(b.isLeader()).to.equal(false);
    await clock.advance(2_000);
    expect(b.isLeader()).to.equal(true);
    expect(record()).to.include({ holderIdentity: "b", leaseTransitions: 4 });
  });

  it("releases the lease on stop so the standby takes over at once", async () => {
    const log: string[] = [];
    const a = candidate("a", log);
    void a.start();
    await clock.advance(0);
    const b = candidate("b", log);
    void b.start();
    await clock.advance(4_000);
    const stopped = a.stop();
    await clock.advance(0);
    await stopped;
    expect(record()).to.include({ holderIdentity: "", leaseDurationSeconds: 1 });
    expect(log).to.deep.equal(["a started", "a stopped"]);
    await clock.advance(2_000);
    expect(b.isLeader()).to.equal(true);
    expect(record()).to.include({ holderIdentity: "b", leaseTransitions: 1, leaseDurationSeconds: 15 });
  });

  it("steps down at once when another replica holds the lease, and aborts the leadership signal", async () => {
    const log: string[] = [];
    let signal: AbortSignal | undefined;
    const metrics = createMetrics();
    const a = new LeaderElector({
      client: fake,
      namespace: LEASE.namespace,
      name: LEASE.name,
      identity: "a",
      clock,
      metrics,
      onStartedLeading: (s) => (signal = s),
      onStoppedLeading: () => log.push("stopped"),
    });
    electors.push(a);
    const done = a.start();
    await clock.advance(0);
    expect((await metrics.leader.get()).values[0]?.value).to.equal(1);
    const lease = fake.peek(LEASE)!;
    fake.seed({ ...lease, spec: { ...(lease["spec"] as object), holderIdentity: "intruder" } });
    await clock.advance(2_400);
    await done;
    expect(log).to.deep.equal(["stopped"]);
    expect(signal?.aborted).to.equal(true);
    expect((await metrics.leader.get()).values[0]?.value).to.equal(0);
  });

  it("treats a 409 on create or update as a lost race", async () => {
    const log: string[] = [];
    fake.injectFault({ verb: "create", name: LEASE.name }, new ApiError(409, "AlreadyExists", "leases \"olares-operator\" already exists"));
    const a = candidate("a", log);
    void a.start();
    await clock.advance(0);
    expect(a.isLeader()).to.equal(false);
    await clock.advance(2_000);
    expect(a.isLeader()).to.equal(true);
  });

  it("validates its timing settings", () => {
    const base = { client: fake, namespace: "ns", name: "l", identity: "x", onStartedLeading: () => undefined, onStoppedLeading: () => undefined };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 })).to.throw(/leaseDurationMs: must be greater than renewDeadlineMs/);
    expect(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 })).to.throw(/renewDeadlineMs/);
    expect(() => new LeaderElector({ ...base, identity: "" })).to.throw(/identity: required/);
  });
});
