// JuiceFS is accepted by the API but not set up on hosts in this release: the Storage stage must say so
// (Degraded, named reason) rather than report Ready with the data on local disk.
import { expect } from "chai";
import { render } from "../../operator/src/render/index.js";
import { JUICEFS_NOT_AVAILABLE } from "../../operator/src/render/stages/storage.js";
import type { ObservedState } from "../../operator/src/contract/index.js";

const emptyCluster: ObservedState = { get: () => undefined, list: () => [] };
const facts = { nodes: [{ name: "n1", labels: {} }], ownerUid: "uid-1", operatorImage: "img:1" };

function storageStage(storage: Record<string, unknown>) {
  const spec = { version: "1.12.1", owner: { username: "alice" }, storage } as never;
  const stage = render(spec, facts).stages.find((s) => s.name === "Storage");
  expect(stage, "Storage stage").to.not.equal(undefined);
  return stage!;
}

describe("Storage stage with JuiceFS (not set up on hosts in this release)", () => {
  it("reports Degraded with reason JuiceFSNotAvailable, never Ready", () => {
    const stage = storageStage({ type: "JuiceFS", rootPath: "/olares", juicefs: { objectStore: { type: "ManagedMinIO" } } });
    const r = stage.ready(emptyCluster);
    expect(r).to.deep.include({ ready: false, degraded: true, reason: "JuiceFSNotAvailable" });
    expect(r.message).to.equal(JUICEFS_NOT_AVAILABLE.message).and.include("Use storage.type LocalFS");
  });

  it("leaves LocalFS readiness to the objects", () => {
    const r = storageStage({ type: "LocalFS", rootPath: "/olares" }).ready(emptyCluster);
    expect(r.reason).to.not.equal("JuiceFSNotAvailable");
    expect(r.ready).to.equal(false);
  });
});
