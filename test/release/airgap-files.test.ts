// An airgap release reaches every node, not only the host the operator runs on: the operator serves the
// files installation.manifest lists (read-only, nothing else of the directory) and the node agents fetch
// them over the cluster network with the manifest's MD5, as from the CDN. Against the controller's own
// observe (on the cluster simulator), render, and the agent's engine with the real containerd 2.2.3 + ctr.
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createExecaExecutor } from "../../operator/src/agent/host/exec.js";
import { createHost } from "../../operator/src/agent/host/host.js";
import type { Executor } from "../../operator/src/agent/host/types.js";
import { applyNodeConfig } from "../../operator/src/agent/tasks/index.js";
import { normalizeRef } from "../../operator/src/agent/tasks/image-import.js";
import { applyDefaults } from "../../operator/src/api/index.js";
import { nodeConfigId, stageHook, type HostTask, type ImageImportTask, type KubeObject } from "../../operator/src/contract/index.js";
import { ReleaseController } from "../../operator/src/controller/release.js";
import { manifestObjects, startReleaseFileServer, type ReleaseFileServer } from "../../operator/src/helm/release-files.js";
import { Helm } from "../../operator/src/helm/helm-cli.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { render, type ReleaseFilesEndpoint } from "../../operator/src/render/index.js";
import { releaseFilesEndpoint } from "../../operator/src/controller/run.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import { FACTS } from "../render/fixtures.js";
import { startContainerd, type Containerd } from "./containerd.js";
import { fixture } from "./helpers.js";

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
const get = async (url: string, method = "GET") => {
  const res = await fetch(url, { method });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()), length: res.headers.get("content-length") };
};

describe("an airgap release's files, served by the operator to every node", function () {
  this.timeout(600_000);
  // Built in before(), not here: mocha runs describe bodies while loading every file, before any test.
  let rel: ReturnType<typeof fixture>;
  let server: ReleaseFileServer;
  let base: string;

  before(async () => {
    rel = fixture();
    server = await startReleaseFileServer({ port: 0, host: "127.0.0.1" });
    base = `http://127.0.0.1:${server.port}`;
  });
  after(async () => server?.close());

  it("serves every file the manifest lists (both architectures) with the manifest's MD5, and nothing else of the directory", async () => {
    expect((await get(`${base}/${rel.manifest[0]!.urlAmd64}`)).status, "nothing before a release is published").to.equal(404);
    server.publish(rel.cdnDir, rel.manifest);
    for (const item of rel.manifest) {
      for (const [url, sum] of [[item.urlAmd64, item.checksumAmd64], [item.urlArm64, item.checksumArm64]] as const) {
        const r = await get(`${base}/${url}`);
        expect(r.status, url).to.equal(200);
        expect(md5(r.body), `${item.fileId} ${url}`).to.equal(sum);
      }
    }
    const head = await get(`${base}/${rel.manifest[0]!.urlAmd64}`, "HEAD");
    expect(head.status).to.equal(200);
    expect(Number(head.length)).to.be.greaterThan(0);
    // The wizard itself, a checksum file, a path out of the directory: not a file of the manifest.
    for (const other of [`install-wizard-v${rel.version}.tar.gz`, `${rel.manifest[0]!.urlAmd64}.checksum.txt`, "../../etc/passwd", "%2e%2e/etc/passwd"]) {
      expect((await get(`${base}/${other}`)).status, other).to.equal(404);
    }
    expect((await fetch(`${base}/${rel.manifest[0]!.urlAmd64}`, { method: "POST" })).status).to.equal(405);
    expect(manifestObjects([{ ...rel.manifest[0]!, urlAmd64: "../escape", urlArm64: "" }])).to.deep.equal([]);
  });

  describe("the controller and render, from spec.release.airgapDir", () => {
    let sim: Simulator;
    let cacheDir: string;
    before(async () => {
      sim = await startSimulator({ nodes: 1 });
      cacheDir = mkdtempSync(join(tmpdir(), "olares-airgap-cache-"));
    });
    after(async () => {
      await sim?.stop();
      rmSync(cacheDir, { recursive: true, force: true });
    });

    const cr = { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares", uid: "u-1" } } as KubeObject;
    // A function, not a constant: the fixture (rel) is built in before(), after mocha ran this describe body.
    const specOf = () => applyDefaults({ ...cr, spec: { version: rel.version, owner: { username: "alice" }, storage: { type: "LocalFS" }, release: { airgapDir: rel.cdnDir } } } as never).spec;
    const observe = (files?: { server: ReleaseFileServer; url: string; endpoint?: ReleaseFilesEndpoint }) => {
      const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
      const controller = new ReleaseController({ installer: new Helm({ bin: "helm" }), cacheDir, ...(files ? { files } : {}) }, client as never);
      return controller.observe(cr, specOf(), { get: () => undefined, list: () => [] }, true, []);
    };
    const tasksOf = (release: NonNullable<typeof FACTS.release>) => {
      const d = render(specOf(), { ...FACTS, release });
      const hook = stageHook(d.stages.find((x) => x.name === "NodeConfig")!, "NodeRollout")!;
      return hook.configs[0]!.tasks;
    };

    it("points the nodes' manifest tasks at the operator's files URL: every image and olaresd, with the manifest's MD5", async () => {
      const { facts } = await observe({ server, url: base });
      expect(facts.filesBase).to.equal(base);
      const tasks = tasksOf(facts);
      const images = tasks.find((t) => t.kind === "imageImport") as ImageImportTask;
      expect(images.images.map((i) => i.ref)).to.deep.equal([...rel.images].sort());
      for (const img of images.images) expect(img.file.amd64!.url.startsWith(`${base}/`), img.ref).to.equal(true);
      const olaresd = tasks.find((t) => t.id === "olaresd/binary") as Extract<HostTask, { kind: "releaseComponent" }>;
      expect(olaresd.file.amd64!.url.startsWith(`${base}/`)).to.equal(true);
      const r = await get(olaresd.file.amd64!.url);
      expect(md5(r.body)).to.equal(olaresd.file.amd64!.md5);
    });

    it("the leader points the chart's selector-less Service at its own Pod: one EndpointSlice, written once, rewritten by the next leader", async () => {
      const client = createClusterClient(loadKubeConfig(sim.kubeconfigPath), { userAgent: "olares-operator" });
      const ns = "olares-operator";
      await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } as KubeObject).catch(() => undefined);
      // Real Pods: the slice is owned by the leader's Pod (the garbage collector removes it with the Pod).
      const pod = async (name: string) => (await client.apply({ apiVersion: "v1", kind: "Pod", metadata: { name, namespace: ns }, spec: { containers: [{ name: "operator", image: "olares-operator" }] } } as KubeObject)).metadata.uid!;
      const [uidA, uidB] = [await pod("olares-operator-a"), await pod("olares-operator-b")];
      const leader = (podName: string, podUid: string, podIP: string) => ({ namespace: ns, service: "olares-operator-release-files", port: server.port, podName, podUid, podIP });
      const sliceRef = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", name: "olares-operator-release-files-leader", namespace: ns };
      const slice = async () => (await client.get(sliceRef)) as unknown as { metadata: { resourceVersion: string; labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string; uid: string }> }; addressType: string; endpoints: Array<{ addresses: string[]; targetRef: { name: string } }>; ports: Array<{ name: string; port: number }> };

      await observe({ server, url: base, endpoint: leader("olares-operator-a", uidA, "10.42.0.7") });
      const first = await slice();
      expect(first.metadata.labels["kubernetes.io/service-name"]).to.equal("olares-operator-release-files");
      expect(first.addressType).to.equal("IPv4");
      expect(first.endpoints.map((e) => [e.addresses, e.targetRef.name])).to.deep.equal([[["10.42.0.7"], "olares-operator-a"]]);
      expect(first.ports).to.deep.equal([{ name: "release-files", port: server.port, protocol: "TCP" }]);
      expect(first.metadata.ownerReferences.map((o) => [o.kind, o.name, o.uid])).to.deep.equal([["Pod", "olares-operator-a", uidA]]);

      await observe({ server, url: base, endpoint: leader("olares-operator-a", uidA, "10.42.0.7") });
      expect((await slice()).metadata.resourceVersion, "steady state: nothing written").to.equal(first.metadata.resourceVersion);

      // a standby took over (the old leader exited): the slice now names it alone
      await observe({ server, url: base, endpoint: leader("olares-operator-b", uidB, "fd00::9") });
      const next = await slice();
      expect(next.addressType).to.equal("IPv6");
      expect(next.endpoints.map((e) => [e.addresses, e.targetRef.name])).to.deep.equal([[["fd00::9"], "olares-operator-b"]]);
      expect(next.metadata.ownerReferences.map((o) => o.uid)).to.deep.equal([uidB]);
    });

    it("run: OLARES_RELEASE_FILES_SERVICE needs the Pod's name, UID and IP from the downward API, and says which are missing", () => {
      expect(releaseFilesEndpoint("ns", 8087, {})).to.equal(undefined);
      expect(releaseFilesEndpoint("ns", 8087, { OLARES_RELEASE_FILES_SERVICE: "svc", POD_NAME: "p", POD_UID: "u", POD_IP: "10.0.0.1" })).to.deep.equal({ namespace: "ns", service: "svc", port: 8087, podName: "p", podUid: "u", podIP: "10.0.0.1" });
      expect(() => releaseFilesEndpoint("ns", 8087, { OLARES_RELEASE_FILES_SERVICE: "svc", POD_NAME: "p" })).to.throw("OLARES_RELEASE_FILES_SERVICE=svc needs POD_UID, POD_IP (downward API)");
    });

    it("without the files server (not configured), nodes get no manifest files and olaresd's fallback says why", async () => {
      const { facts } = await observe();
      expect(facts.filesBase).to.equal(undefined);
      const tasks = tasksOf(facts);
      expect(tasks.some((t) => t.kind === "imageImport")).to.equal(false);
    });
  });

  describe("a node imports the airgap release's images through the operator (real containerd 2.2.3 + ctr, as root)", () => {
    let containerd: Containerd;
    let hostRoot: string;
    before(async () => {
      containerd = await startContainerd();
      hostRoot = mkdtempSync(join(tmpdir(), "olares-host-"));
    });
    after(async () => {
      await containerd?.stop();
      if (hostRoot) rmSync(hostRoot, { recursive: true, force: true });
    });

    it("downloads from the operator with the manifest's MD5 and imports every listed image", async () => {
      const { imageImportTask } = await import("../../operator/src/render/releases/index.js");
      const t = imageImportTask(rel.manifest, base, "release/images")!;
      const task = { ...t, address: containerd.address, snapshotter: "native", images: t.images.slice(0, 3) };
      const real = createExecaExecutor();
      const exec: Executor = { run: (argv, opts) => real.run(argv[0] === "ctr" ? [containerd.ctr, ...argv.slice(1)] : argv, opts) };
      const host = createHost({ root: hostRoot, exec, mode: "direct" });
      const servedBefore = server.served;
      const r = await applyNodeConfig(host, { id: nodeConfigId([task]), group: "default", tasks: [task] }, { allowReboot: false, log: { info: () => {}, warn: () => {} } });
      expect(r.error, r.error?.message).to.equal(undefined);
      expect(server.served - servedBefore).to.equal(3);
      const present = new Set(containerd.ctrRun(["images", "ls", "-q"]).split("\n").filter(Boolean));
      for (const img of task.images) expect(present.has(normalizeRef(img.ref)), img.ref).to.equal(true);
    });
  });
});
