// The controller runs the same semantic checks as `validate` and admission before it applies anything:
// a CR the API server should have refused (or one it could not: a downgrade below what is rolled out)
// gets SpecValid=False/InvalidSpec naming field and rule, phase Degraded, and nothing is applied,
// pruned or handed to a node until the spec is fixed.
import { expect } from "chai";
import { harness, installation, baseSpec } from "./harness.js";
import type { Condition, InstallationStatus } from "../../operator/src/controller/status.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const statusOf = (cr: KubeObject) => cr.status as InstallationStatus;
const cond = (cr: KubeObject, type: string): Condition | undefined => statusOf(cr).conditions?.find((c) => c.type === type);

describe("controller: spec validation before anything is applied", () => {
  const hostile: Array<[string, Record<string, unknown>, string]> = [
    ["a sysctl that runs a program", { os: { sysctl: { "kernel.modprobe": "/tmp/evil" } } }, 'spec.os.sysctl["kernel.modprobe"]: Forbidden: kernel.modprobe makes the kernel run a program'],
    ["a second container runtime", { os: { packages: ["docker.io"] } }, "spec.os.packages[0]: Forbidden: docker.io conflicts with the containerd"],
    ["sshd on the kube-apiserver port", { os: { ssh: { port: 6443 } } }, "spec.os.ssh.port: Invalid value: 6443: the port is used by Kubernetes"],
    ["a download URL with an encoded traversal", { olaresd: { url: "https://dl.example.com/a/%2e%2e/olaresd.tgz", sha256: "a".repeat(64) } }, "spec.olaresd.url: Invalid value"],
  ];
  for (const [name, edit, message] of hostile) {
    it(`refuses ${name} on a new installation: SpecValid=False, Degraded, nothing applied`, async () => {
      const h = harness({ crs: [installation("olares", { ...baseSpec(), ...edit })] });
      const r = await h.reconcile();
      expect(r.requeueAfterMs).to.equal(undefined);
      const cr = h.cr();
      expect(statusOf(cr).phase).to.equal("Degraded");
      expect(cond(cr, "SpecValid")).to.include({ status: "False", reason: "InvalidSpec" });
      expect(cond(cr, "SpecValid")!.message).to.include(message);
      expect(cond(cr, "Ready")).to.include({ status: "False", reason: "InvalidSpec" });
      const writes = h.cluster.writes().filter((w) => w.verb !== "createEvent" && !(w.ref.kind === "OlaresInstallation" && w.subresource === "status"));
      expect(writes.map((w) => `${w.verb} ${w.ref.kind}/${w.ref.name}`)).to.deep.equal([]);
    });
  }

  it("an installed system keeps running untouched while an edit is invalid, and resumes when it is fixed", async () => {
    const h = harness({ crs: [installation("olares", baseSpec())] });
    await h.converge();
    expect(cond(h.cr(), "SpecValid")).to.include({ status: "True" });
    const before = h.cluster.writes().length;
    const cr = h.cr();
    cr.spec = { ...(cr.spec as object), os: { sysctl: { "kernel.core_pattern": "/tmp/x %p" } } };
    h.cluster.seed(cr);
    await h.reconcile();
    expect(cond(h.cr(), "SpecValid")).to.include({ status: "False", reason: "InvalidSpec" });
    expect(cond(h.cr(), "SpecValid")!.message).to.include('spec.os.sysctl["kernel.core_pattern"]');
    expect(statusOf(h.cr()).phase).to.equal("Degraded");
    const after = h.cluster.writes().slice(before).filter((w) => w.verb !== "createEvent" && !(w.ref.kind === "OlaresInstallation" && w.subresource === "status"));
    expect(after, "nothing applied, pruned or patched").to.deep.equal([]);
    expect(h.cluster.peek({ apiVersion: "apps/v1", kind: "Deployment", name: "authelia-backend", namespace: "os-framework" })).to.not.equal(undefined);

    const fixed = h.cr();
    fixed.spec = { ...(fixed.spec as object), os: {} };
    h.cluster.seed(fixed);
    await h.converge();
    expect(cond(h.cr(), "SpecValid")).to.include({ status: "True", reason: "Valid" });
    expect(statusOf(h.cr()).phase).to.equal("Ready");
  });

  it("refuses a downgrade below the version already rolled out (status.version)", async () => {
    const h = harness({ crs: [installation("olares", baseSpec())] });
    await h.converge();
    expect(statusOf(h.cr()).version).to.equal("1.12.1");
    const cr = h.cr();
    cr.spec = { ...(cr.spec as object), version: "0.0.1-bogus" };
    h.cluster.seed(cr);
    await h.reconcile();
    expect(cond(h.cr(), "SpecValid")).to.include({ status: "False", reason: "InvalidSpec" });
    expect(cond(h.cr(), "SpecValid")!.message).to.include("spec.version: Forbidden: downgrade from 1.12.1 (rolled out) to 0.0.1-bogus is not supported");
  });
});
