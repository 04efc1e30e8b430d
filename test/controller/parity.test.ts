// What the controller applies to a cluster is exactly what `plan` prints: same objects, same order.
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { parseAllDocuments } from "yaml";
import { readFileSync } from "node:fs";
import { harness, node, TEST_IMAGE } from "./harness.js";
import { planFor, planObjects } from "../../operator/src/cli/plan-model.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const examplesDir = join(import.meta.dirname, "../../examples");

function documents(file: string): KubeObject[] {
  const docs = parseAllDocuments(readFileSync(file, "utf8"));
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as KubeObject).filter(Boolean);
}

import { fixtureAirgapDir } from "../support/template-helm.js";
import { RELEASE_RANDOMS_SECRET } from "../../operator/src/render/releases/index.js";

describe("plan / controller parity", () => {
  for (const file of readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"))) {
    it(`${basename(file)}: the controller applies exactly the plan's objects, in plan order`, async () => {
      const docs = documents(join(examplesDir, file));
      const example = docs.find((d) => d.kind === "OlaresInstallation")!;
      // The fixture Olares release stands in for the CDN (no network in tests).
      const cr = { ...example, spec: { ...(example.spec as object), release: { airgapDir: fixtureAirgapDir() } } } as KubeObject;
      const gpu = (cr.spec as { gpu?: { enabled?: string } }).gpu?.enabled === "true";
      // A GPU node as its agent labels it (the release's hami selects gpu.bytetrade.io/cuda-supported).
      const nodes = [gpu ? node("node-1", { "olares.com/gpu.nvidia": "true", "gpu.bytetrade.io/cuda-supported": "true" }, { "nvidia.com/gpu": "1" }) : node("node-1")];
      const h = harness({ crs: [cr], nodes });
      for (const other of docs.filter((d) => d !== example)) h.cluster.seed(other);
      // Without node agents nobody sets up JuiceFS on the node, so the walk waits at Storage
      // (StorageApplying): parity then covers the stages the controller reaches, in the same order.
      const juicefs = (cr.spec as { storage?: { type?: string } }).storage?.type === "JuiceFS";
      if (juicefs) {
        const err = await h.converge(cr.metadata.name).then(() => undefined, (e: Error) => e);
        expect(err?.message, "JuiceFS is not Ready without an agent on the node").to.match(/^not Ready after/);
        const storage = (h.cr(cr.metadata.name).status as { conditions?: Array<{ type: string; reason: string }> }).conditions?.find((c) => c.type === "StorageReady");
        expect(storage?.reason).to.equal("StorageApplying");
      } else {
        await h.converge(cr.metadata.name);
      }

      // The release's own objects (what its charts create and Helm's release records) are helm's, not plan objects.
      const isReleaseObject = (o: KubeObject) => o.metadata.labels?.["app.kubernetes.io/managed-by"] === "Helm" || o.metadata.labels?.owner === "helm";
      // The storage credentials Secret is built in-cluster from Secrets (plan never sees their values).
      const isStorageCredentials = (o: KubeObject) => o.kind === "Secret" && o.metadata.name === "olares-storage-credentials";
      const applied = h.cluster.writes().filter((w) => w.verb === "apply").map((w) => w.body as KubeObject).filter((o) => !isReleaseObject(o) && !isStorageCredentials(o));
      const plan = planFor(cr, { nodes: 1, gpuNodes: gpu ? 1 : 0, image: TEST_IMAGE, ownerUid: h.cr(cr.metadata.name).metadata.uid! });
      const stageOrder = plan.desired.stages.map((st) => st.name);
      const lastReached = juicefs ? stageOrder.indexOf("Storage") : stageOrder.length - 1;
      expect(applied).to.deep.equal(planObjects(plan).filter((p) => stageOrder.indexOf(p.stage) <= lastReached).map((p) => p.object));

      // Created besides the plan's generated Secrets: the release randoms, SystemEnvs and user-env (create-only, as the installer).
      const releaseCreated = (ref: { kind: string; name: string }) => ref.kind === "SystemEnv" || (ref.kind === "ConfigMap" && ref.name === "user-env") || (ref.kind === "Secret" && ref.name === RELEASE_RANDOMS_SECRET);
      // And velero's, as the release's velero CLI prints them (labelled component=velero) and its backup location.
      const veleroCreated = (w: { ref: { kind: string }; body?: unknown }) => (w.body as KubeObject | undefined)?.metadata?.labels?.component === "velero" || w.ref.kind === "BackupStorageLocation";
      const created = h.cluster.writes().filter((w) => w.verb === "create" && !releaseCreated(w.ref) && !veleroCreated(w)).map((w) => `${w.ref.namespace}/${w.ref.name}`);
      expect(created).to.deep.equal(plan.generated.map((g) => `${g.namespace}/${g.name}`));
    });
  }
});
