import { expect } from "chai";
import { contains, needsApply } from "../../operator/src/controller/diff.js";
import { computeStatus, statusUnchanged, withTransitionTimes, type StatusInput } from "../../operator/src/controller/status.js";
import { honouredInstallation } from "../../operator/src/controller/honoured.js";
import { randomPassword } from "../../operator/src/controller/generated-secrets.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const obj = (extra: Record<string, unknown> = {}, hash = "aaaaaaaaaa"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "c", namespace: "n", labels: { a: "1" }, annotations: { "olares.com/render-hash": hash } },
  data: { k: "v" },
  ...extra,
});

describe("diff", () => {
  it("contains: live may carry server-set extras, not different values", () => {
    expect(contains({ a: 1, b: 2 }, { a: 1 })).to.equal(true);
    expect(contains({ a: 1 }, { a: 2 })).to.equal(false);
    expect(contains([{ a: 1, x: 0 }], [{ a: 1 }])).to.equal(true);
    expect(contains([{ a: 1 }, { a: 2 }], [{ a: 1 }])).to.equal(false);
    expect(contains(undefined, {})).to.equal(true);
    expect(contains(undefined, [])).to.equal(true);
    expect(contains(undefined, "x")).to.equal(false);
  });

  it("needsApply: missing, changed hash, or drifted owned fields", () => {
    const live = { ...obj(), metadata: { ...obj().metadata, uid: "u", resourceVersion: "7", managedFields: [] } } as KubeObject;
    expect(needsApply(obj(), undefined)).to.equal(true);
    expect(needsApply(obj(), live)).to.equal(false);
    expect(needsApply(obj({}, "bbbbbbbbbb"), live)).to.equal(true);
    expect(needsApply(obj(), { ...live, data: { k: "edited" } })).to.equal(true);
    expect(needsApply(obj(), { ...live, metadata: { ...live.metadata, labels: {} } })).to.equal(true);
  });
});

describe("status", () => {
  const base: StatusInput = {
    generation: 3,
    previous: undefined,
    specVersion: "1.12.1",
    specStorageType: "LocalFS",
    rootPath: "/olares",
    stages: [
      { name: "Prerequisites", readiness: { ready: true, reason: "Ready", message: "ok" } },
      { name: "NodeAgent", readiness: { ready: false, reason: "DaemonSetRolling", message: "0/1 ready" } },
    ],
    paused: false,
    anythingApplied: true,
    now: "2026-01-01T00:00:00Z",
  };

  it("keeps lastTransitionTime while the status is unchanged, moves it when it flips", () => {
    const first = withTransitionTimes([{ type: "Ready", status: "False", reason: "A", message: "a" }], undefined, 1, "T1");
    const same = withTransitionTimes([{ type: "Ready", status: "False", reason: "B", message: "b" }], first, 2, "T2");
    expect(same[0]).to.include({ lastTransitionTime: "T1", observedGeneration: 2, reason: "B" });
    const flipped = withTransitionTimes([{ type: "Ready", status: "True", reason: "C", message: "c" }], same, 2, "T3");
    expect(flipped[0]!.lastTransitionTime).to.equal("T3");
  });

  it("is a pure function of its observations", () => {
    expect(computeStatus(base)).to.deep.equal(computeStatus({ ...base }));
    const s = computeStatus(base);
    expect(s.phase).to.equal("Installing");
    expect(s.message).to.equal("NodeAgent: 0/1 ready");
    expect(s.conditions!.every((c) => c.observedGeneration === 3)).to.equal(true);
  });

  it("phases: Pending before anything exists, Upgrading on a version change, Migrating on a storage type change, Degraded on failure", () => {
    expect(computeStatus({ ...base, anythingApplied: false }).phase).to.equal("Pending");
    expect(computeStatus({ ...base, previous: { version: "1.12.0" } }).phase).to.equal("Upgrading");
    expect(computeStatus({ ...base, previous: { storage: { activeType: "JuiceFS" } } }).phase).to.equal("Migrating");
    const failing = { ...base, stages: [{ name: "NodeAgent" as const, readiness: { ready: false, degraded: true, reason: "X", message: "x" } }] };
    const s = computeStatus(failing);
    expect(s.phase).to.equal("Degraded");
    expect(s.conditions!.find((c) => c.type === "Degraded")).to.include({ status: "True", reason: "X" });
  });

  it("a storage switch that cannot proceed is Degraded, not Migrating forever", () => {
    const blocked = {
      ...base,
      previous: { storage: { activeType: "LocalFS" } },
      specStorageType: "JuiceFS",
      stages: [{ name: "Storage" as const, readiness: { ready: false, degraded: true, reason: "JuiceFSNotAvailable", message: "no JuiceFS" } }],
    };
    expect(computeStatus(blocked).phase).to.equal("Degraded");
    expect(computeStatus({ ...blocked, stages: [{ name: "Storage" as const, readiness: { ready: false, reason: "Copying", message: "rsync" } }] }).phase).to.equal("Migrating");
  });

  it("status.storage carries the Storage hook's migration progress and kept previous data; a progress change is a change", () => {
    const migration = { from: "LocalFS" as const, to: "JuiceFS" as const, phase: "Running" as const, step: "Sync" as const, progressPercent: 10, progress: "10%", filesCopied: 1, filesTotal: 10, bytesCopied: 5, bytesTotal: 50, nodes: [] };
    const running = { ...base, previous: { storage: { activeType: "LocalFS" } }, specStorageType: "JuiceFS", stages: [{ name: "Storage" as const, readiness: { ready: false, reason: "Migrating", message: "Sync 10%" } }] };
    const s = computeStatus({ ...running, storage: { activeType: "LocalFS", migration } });
    expect(s.phase).to.equal("Migrating");
    expect(s.storage).to.deep.include({ activeType: "LocalFS", migration });
    const later = computeStatus({ ...running, storage: { activeType: "LocalFS", migration: { ...migration, progressPercent: 40, progress: "40%" } } });
    expect(statusUnchanged(s, later)).to.equal(false);
    const previousData = { type: "LocalFS" as const, path: "/olares/rootfs.local.bak", node: "n1", bytes: 50, files: 10 };
    const succeeded = { ...migration, phase: "Succeeded" as const, progressPercent: 100, progress: "100%" };
    const last = computeStatus({ ...running, storage: { activeType: "JuiceFS", migration: succeeded, previousData } });
    // The next reconcile has no migration to report: the last one stays as the record, without the Progress text.
    const done = computeStatus({ ...base, previous: last, specStorageType: "JuiceFS", stages: [{ name: "Storage", readiness: { ready: true, reason: "Ready", message: "ok" } }], storage: { activeType: "JuiceFS" } });
    const { progress: _p, ...record } = succeeded;
    expect(done.storage).to.deep.equal({ activeType: "JuiceFS", rootPath: "/olares", migration: record, previousData });
    expect(statusUnchanged({ ...done, phase: "Degraded" }, done)).to.equal(false);
  });
});

describe("honouredInstallation", () => {
  const cr = (name: string, ts: string): KubeObject => ({ apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name, creationTimestamp: ts } });
  it("picks the oldest, then the first name", () => {
    expect(honouredInstallation([cr("b", "2026-01-02T00:00:00Z"), cr("c", "2026-01-01T00:00:00Z")])!.metadata.name).to.equal("c");
    expect(honouredInstallation([cr("b", "2026-01-01T00:00:00Z"), cr("a", "2026-01-01T00:00:00Z")])!.metadata.name).to.equal("a");
    expect(honouredInstallation([])).to.equal(undefined);
  });
});

describe("randomPassword", () => {
  it("is long, alphanumeric and different each time", () => {
    const a = randomPassword();
    expect(a).to.match(/^[A-Za-z0-9]{24}$/);
    expect(randomPassword()).to.not.equal(a);
    expect(randomPassword(8)).to.have.length(8);
  });
});
