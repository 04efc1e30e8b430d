// What the controller applies to a cluster is exactly what `plan` prints: same objects, same order.
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { readFileSync } from "node:fs";
import { harness, node, TEST_IMAGE } from "./harness.js";
import { planFor, planObjects } from "../../operator/src/cli/plan-model.js";
import type { KubeObject } from "../../operator/src/render/types.js";

const examplesDir = join(import.meta.dirname, "../../examples");

function documents(file: string): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as KubeObject).filter(Boolean);
}

describe("plan / controller parity", () => {
  for (const file of readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"))) {
    it(`${basename(file)}: the controller applies exactly the plan's objects, in plan order`, async () => {
      const docs = documents(join(examplesDir, file));
      const cr = docs.find((d) => d.kind === "OlaresInstallation")!;
      const gpu = (cr.spec as { gpu?: { enabled?: string } }).gpu?.enabled === "true";
      const nodes = [gpu ? node("node-1", { "olares.com/gpu.nvidia": "true" }, { "nvidia.com/gpu": "1" }) : node("node-1")];
      const h = harness({ crs: [cr], nodes });
      for (const other of docs.filter((d) => d !== cr)) h.cluster.seed(other);
      await h.converge(cr.metadata.name);

      const applied = h.cluster.writes().filter((w) => w.verb === "apply").map((w) => w.body as KubeObject);
      const plan = planFor(cr, { nodes: 1, gpuNodes: gpu ? 1 : 0, image: TEST_IMAGE, ownerUid: h.cr(cr.metadata.name).metadata.uid! });
      expect(applied).to.deep.equal(planObjects(plan).map((p) => p.object));

      const created = h.cluster.writes().filter((w) => w.verb === "create").map((w) => `${w.ref.namespace}/${w.ref.name}`);
      expect(created).to.deep.equal(plan.generated.map((g) => `${g.namespace}/${g.name}`));
    });
  }
});
