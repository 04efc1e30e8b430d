// Failures of the switch through the CR, on the cluster simulator with the real engine: wrong object-store
// credentials stop it at Precheck (Degraded, naming the endpoint, nothing on the host or in the cluster
// changed); fixing the Secret starts it again; an operator killed while the agent waits at the Quiesce
// gate leaves the node waiting (nothing scaled, nothing copied into place), and a new operator picks the
// walk up from the Node's annotations and finishes it.
import { expect } from "chai";
import { existsSync } from "node:fs";
import path from "node:path";
import { ANNOTATION_STORAGE_REPORT, parseStorageNodeReport } from "../../operator/src/contract/index.js";
import { isJuiceFSMount } from "../../operator/src/agent/storage/index.js";
import { condition, explainNotReady, isReady, kubectlOk } from "../e2e/cluster.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { StorageCluster } from "./support/cluster.js";
import type { ExternalStore } from "./support/env.js";
import { applyWorkloads, workloadState, type WorkloadSet } from "./support/workloads.js";

describe("storage switch failures through the CR, on the cluster simulator with the real engine", function () {
  this.timeout(15 * 60_000);
  let c: StorageCluster;
  let store: ExternalStore;
  let workloads: WorkloadSet;
  let original: Map<string, string>;

  const external = () => ({
    type: "JuiceFS",
    juicefs: { objectStore: { type: "MinIO", endpoint: store.endpoint, bucket: store.bucket, credentialsSecretRef: { name: "object-store" } }, cache: { sizeMiB: 1024 } },
  });
  const putCredentials = (secretKey: string) =>
    kubectlOk(c.kubeconfig, ["-n", "olares-operator", "create", "secret", "generic", "object-store", `--from-literal=AWS_ACCESS_KEY_ID=${store.accessKey}`, `--from-literal=AWS_SECRET_ACCESS_KEY=${secretKey}`, "--dry-run=client", "-o", "json"]).then((json) =>
      kubectlOk(c.kubeconfig, ["apply", "-f", "-"], { input: json }),
    );

  before(async () => {
    c = await StorageCluster.start();
    store = await c.node.externalStore("olares-external");
    await c.apply({ type: "LocalFS" });
    await c.waitFor(() => isReady(c.cr()), 120_000, () => `Ready on LocalFS: ${explainNotReady(c.cr())}`);
    await makeDataTree(c.rootfs, { files: 1_000 });
    original = await treeChecksums(c.rootfs);
    workloads = await applyWorkloads(c, c.rootfs);
  });
  after(async () => {
    await c?.stop();
  });

  it("wrong S3 credentials: Degraded naming the endpoint at Precheck; nothing on the host, no workload touched", async () => {
    const before = workloadState(c, workloads);
    await putCredentials("not-the-secret-key");
    await c.patchStorage(external());
    const cr = await c.waitFor(() => (condition(c.cr(), "Degraded")?.status === "True" ? c.cr() : undefined), 180_000, () => `Degraded: ${explainNotReady(c.cr())}`);
    const degraded = condition(cr, "Degraded")!;
    expect(degraded.reason).to.equal("StorageMigrationFailed");
    expect(degraded.message).to.include(store.endpoint.replace(/^https?:\/\//, "")).and.match(/nothing was changed; storage stays LocalFS/);
    expect(cr!.status.phase).to.equal("Degraded");
    expect(cr!.status.storage).to.deep.include({ activeType: "LocalFS" });
    expect(cr!.status.storage.migration).to.deep.include({ phase: "Failed", step: "Precheck" });
    expect(c.events().some((e) => e.reason === "StorageMigrationFailed" && String(e.message).includes(store.endpoint.replace(/^https?:\/\//, "")))).to.equal(true);
    // Nothing changed: the rootfs is the same local tree, no unit written, no workload scaled.
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(false);
    for (const unit of ["juicefs.service", "redis-server.service", "minio.service"]) expect(existsSync(path.join(c.node.paths.unitDir, unit)), unit).to.equal(false);
    expect(existsSync(`${c.node.root}/rootfs.local.bak`)).to.equal(false);
    expect(await treeChecksums(c.rootfs)).to.deep.equal(original);
    expect(workloadState(c, workloads)).to.deep.equal(before);
    // The wrong secret key is nowhere but in its Secret (and the credentials Secret the agent reads).
    const places = [JSON.stringify(cr!.status), JSON.stringify(c.events()), JSON.stringify(c.sim.store.list("/configmaps")), c.operatorLog.lines.join("\n"), c.agentLog.lines.join("\n")];
    for (const p of places) expect(p.includes("not-the-secret-key")).to.equal(false);
  });

  it("the Secret fixed, an operator killed while the agent waits at Quiesce: the node waits, a new operator finishes the walk", async () => {
    await putCredentials(store.secretKey);
    // The agent reaches the Quiesce gate (Sync done); the operator is stopped before it acknowledges.
    let stopping: Promise<void> | undefined;
    await c.waitFor(() => {
      const r = parseStorageNodeReport(c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]);
      if (r?.migration?.gate === "Quiesce" || r?.migration?.step === "Quiesce") stopping ??= c.operator.stop();
      return stopping !== undefined;
    }, 5 * 60_000, () => `the agent at Quiesce: ${c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT]}`);
    await stopping;
    const quiesceWait = Date.now();
    await new Promise((r) => setTimeout(r, 3000));
    const waiting = parseStorageNodeReport(c.nodeAnnotations()[ANNOTATION_STORAGE_REPORT])!;
    expect(waiting.migration).to.deep.include({ step: "Quiesce", gate: "Quiesce", phase: "Running" });
    expect(await isJuiceFSMount(c.node.host, c.rootfs), "nothing swapped while the gate is closed").to.equal(false);
    await c.startOperator();
    const cr = await c.waitFor(() => {
      const x = c.cr();
      return x?.status?.storage?.activeType === "JuiceFS" && condition(x, "StorageReady")?.status === "True" ? x : undefined;
    }, 8 * 60_000, () => `JuiceFS after the operator restart: ${explainNotReady(c.cr())}; ${JSON.stringify(c.cr()?.status?.storage)}`);
    expect(Date.now() - quiesceWait).to.be.greaterThan(3000);
    expect(cr.status.storage.previousData).to.deep.include({ type: "LocalFS" });
    expect(await isJuiceFSMount(c.node.host, c.rootfs)).to.equal(true);
    const back = await treeChecksums(`${c.node.root}/rootfs.local.bak`);
    expect(back).to.deep.equal(original);
    const after = workloadState(c, workloads);
    for (const w of workloads.quiesced) expect(after.get(w)!.replicas, `${w} back`).to.be.greaterThan(0);
  });
});
