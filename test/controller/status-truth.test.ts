// Status says what happened, no more: skipped nodes are counted and named as skipped, a day-2 edit is
// Updating (Upgrading for a version change), never Installing again, and counts read in good English.
import { expect } from "chai";
import { harness, installation, node, baseSpec, type Harness } from "./harness.js";
import type { Condition, InstallationStatus } from "../../operator/src/controller/status.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const statusOf = (cr: KubeObject) => cr.status as InstallationStatus;
const cond = (cr: KubeObject, type: string): Condition | undefined => statusOf(cr).conditions?.find((c) => c.type === type);

function editSpec(h: Harness, edit: (spec: Record<string, any>) => void): void { // eslint-disable-line @typescript-eslint/no-explicit-any
  const cr = h.cr();
  cr.spec = structuredClone(cr.spec) as Record<string, unknown>;
  edit(cr.spec as Record<string, unknown>);
  cr.metadata.generation = (cr.metadata.generation ?? 1) + 1;
  h.cluster.seed(cr);
}

describe("status tells the truth", () => {
  it("all nodes skipped: status.nodes.skipped, and no claim that anything was rolled out", async () => {
    const h = harness({ nodes: [node("node-1", { "olares.com/skip-config": "true" }), node("node-2", { "olares.com/skip-config": "true" })] });
    await h.converge();
    const s = statusOf(h.cr());
    expect(s.nodes).to.deep.include({ total: 0, skipped: 2 });
    expect(cond(h.cr(), "Progressing")!.message).to.not.include("rolled out");
    expect(cond(h.cr(), "Progressing")!.message).to.include("no node is configured").and.include("2 skipped");
    expect(cond(h.cr(), "NodeConfigReady")!.message).to.include("2 nodes skipped");
  });

  it("some nodes skipped: counted beside the updated ones", async () => {
    const h = harness({ nodes: [node("node-1"), node("node-2", { "olares.com/skip-config": "true" })] });
    await h.converge();
    expect(statusOf(h.cr()).nodes).to.deep.include({ total: 1, updated: 1, skipped: 1 });
    expect(cond(h.cr(), "Progressing")!.message).to.equal("Olares 1.12.1 is rolled out to 1/1 node (1 skipped)");
  });

  it("a day-2 edit (NTP) is Updating, not Installing; a version change is Upgrading", async () => {
    const h = harness();
    const phases = new Set<string>();
    for (let i = 0; i < 20 && statusOf(h.cr())?.phase !== "Ready"; i++) {
      await h.reconcile();
      h.rollOutWorkloads();
      h.activateOwner();
      phases.add(statusOf(h.cr()).phase!);
    }
    expect([...phases]).to.include("Installing");
    editSpec(h, (s) => { s.os = { ntp: { servers: ["time.example.com"] } }; });
    await h.reconcile();
    expect(statusOf(h.cr()).phase).to.equal("Updating");
    await h.converge();
    editSpec(h, (s) => { s.version = "1.12.2"; });
    await h.reconcile();
    expect(statusOf(h.cr()).phase).to.equal("Upgrading");
  });

  it("counts use the right plural", async () => {
    const h = harness({ crs: [installation("olares", baseSpec())] });
    await h.converge();
    expect(cond(h.cr(), "NodeAgentReady")!.message).to.equal("1 object ready");
    expect(cond(h.cr(), "PrerequisitesReady")!.message).to.match(/^\d+ objects ready$/);
    const messages = h.cluster.events.map((e) => String(e["message"] ?? e["note"] ?? ""));
    expect(messages.filter((m) => /\b1 objects\b|\b1 nodes\b/.test(m))).to.deep.equal([]);
  });
});
