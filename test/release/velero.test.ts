// velero as Olares 1.12.1 installs it (InstallVeleroModule, cli/pkg/terminus/velero.go@074882dd): the
// fixture release's velero component is the real velero CLI (v1.11.1 built from its Go module by
// hack/velero-tools.sh); the operator runs it with the installer's flags and --dry-run / -o yaml, and
// render turns what it printed into create-only steps, the backup location and PatchVelero.
import { expect } from "chai";
import { rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ReleaseChecksumError } from "../../operator/src/helm/release-cache.js";
import { veleroObjects } from "../../operator/src/helm/velero-cli.js";
import { itemFilePath, findItem } from "../../operator/src/contract/release/manifest.js";
import type { KubeObject, ReleaseVeleroFacts } from "../../operator/src/contract/index.js";
import { VELERO_COMPONENT, veleroBackupLocationArgs, veleroInstallArgs, veleroSteps } from "../../operator/src/render/releases/index.js";
import { render } from "../../operator/src/render/index.js";
import { LABEL_RELEASE_INPUT, releaseInputHash, stageHook, type ReleaseFacts } from "../../operator/src/contract/index.js";
import { FACTS, spec as renderSpec } from "../render/fixtures.js";
import { aliceSpec, copyCdn, fixture, randoms, unpackFixture, type Unpacked } from "./helpers.js";

const cli = (rel: Unpacked, dir: string) => ({ component: VELERO_COMPONENT, installArgs: veleroInstallArgs(), backupLocationArgs: veleroBackupLocationArgs(), origin: { kind: "dir" as const, path: dir }, installerDir: rel.installerDir, manifest: rel.manifest });

describe("velero from the release's velero CLI, as olares-cli installs it", function () {
  this.timeout(600_000);
  let rel: Unpacked;
  let velero: ReleaseVeleroFacts;

  before(async () => {
    rel = await unpackFixture();
    velero = await veleroObjects(cli(rel, fixture().cdnDir));
  });
  after(() => rel?.cleanup());

  it("velero install with the installer's flags prints the CRDs, the namespace, its RBAC and the Deployment, and no location, snapshot location, Secret or node agent", () => {
    const kinds = velero.install.map((o) => `${o.kind}/${o.metadata.name}`);
    for (const crd of ["backups.velero.io", "backupstoragelocations.velero.io", "restores.velero.io", "schedules.velero.io", "podvolumebackups.velero.io"]) expect(kinds).to.include(`CustomResourceDefinition/${crd}`);
    expect(kinds).to.include.members(["Namespace/os-framework", "ServiceAccount/velero", "Deployment/velero"]);
    expect(kinds.some((k) => k.startsWith("ClusterRoleBinding/"))).to.equal(true);
    for (const absent of ["BackupStorageLocation", "VolumeSnapshotLocation", "Secret", "DaemonSet"]) expect(velero.install.map((o) => o.kind)).to.not.include(absent);
    const deploy = velero.install.find((o) => o.kind === "Deployment")! as KubeObject & { spec: { template: { spec: { containers: Array<{ image: string; resources: { requests: Record<string, string>; limits: Record<string, string> } }>; initContainers: Array<{ image: string }> } } } };
    expect(deploy.metadata.namespace).to.equal("os-framework");
    expect(deploy.spec.template.spec.containers[0]!.image).to.equal("beclab/velero:v1.11.3");
    expect(deploy.spec.template.spec.containers[0]!.resources.requests.cpu).to.equal("10m");
    expect(deploy.spec.template.spec.containers[0]!.resources.limits.cpu).to.equal("200m");
    expect(deploy.spec.template.spec.initContainers.map((c) => c.image)).to.deep.equal(["beclab/velero-plugin-for-terminus:v1.0.2"]);
    expect(deploy.metadata.labels?.component).to.equal("velero");
  });

  it("velero backup-location create prints terminus-cloud: provider terminus, bucket terminus-cloud, empty prefix, label name=terminus-cloud", () => {
    const bsl = velero.backupLocation as KubeObject & { spec: { provider: string; objectStorage: { bucket: string; prefix?: string }; default?: boolean } };
    expect(`${bsl.apiVersion} ${bsl.kind} ${bsl.metadata.namespace}/${bsl.metadata.name}`).to.equal("velero.io/v1 BackupStorageLocation os-framework/terminus-cloud");
    expect(bsl.metadata.labels).to.deep.equal({ name: "terminus-cloud" });
    expect(bsl.spec.provider).to.equal("terminus");
    expect(bsl.spec.objectStorage.bucket).to.equal("terminus-cloud");
    expect(bsl.spec.objectStorage.prefix ?? "").to.equal("");
    expect(bsl.spec.default ?? false).to.equal(false);
  });

  it("steps in the installer's order: CRDs, the rest create-only, the location, then PatchVelero's hostPath under spec.storage.rootPath", () => {
    const steps = veleroSteps(aliceSpec({ storage: { type: "LocalFS", rootPath: "/data/olares/" } }), velero);
    expect(steps.map((s) => `${s.kind}:${"name" in s ? s.name : ""}`)).to.deep.equal(["createOnly:velero CRDs", "createOnly:velero", "createOnly:velero backup location terminus-cloud", "jsonPatch:PatchVelero"]);
    const [crds, rest] = steps as Array<{ objects: KubeObject[] }>;
    expect(crds!.objects.every((o) => o.kind === "CustomResourceDefinition")).to.equal(true);
    expect(rest!.objects.some((o) => o.kind === "CustomResourceDefinition")).to.equal(false);
    // What the printer adds that the server owns is not sent.
    for (const o of [...crds!.objects, ...rest!.objects]) {
      expect(o, `${o.kind}/${o.metadata.name}`).to.not.have.property("status");
      expect(o.metadata, `${o.kind}/${o.metadata.name}`).to.not.have.property("creationTimestamp");
    }
    const patch = steps[3] as { ops: Array<{ path: string; value: unknown }> };
    expect(patch.ops.map((op) => op.path)).to.deep.equal(["/spec/template/spec/volumes", "/spec/template/spec/containers/0/volumeMounts", "/spec/template/spec/containers/0/securityContext"]);
    expect(patch.ops[0]!.value).to.deep.include({ name: "terminus-cloud", hostPath: { path: "/data/olares/rootfs/k8s-backup", type: "DirectoryOrCreate" } });
    expect(patch.ops[1]!.value).to.deep.include({ mountPath: "/data", name: "terminus-cloud" });
    expect(patch.ops[2]!.value).to.deep.equal({ privileged: true, runAsNonRoot: false, runAsUser: 0 });
  });

  it("the component is fetched once, MD5-checked, into the installer dir; what velero printed is kept, so a second read runs nothing", async () => {
    const item = findItem(rel.manifest, VELERO_COMPONENT)!;
    const archive = itemFilePath(rel.installerDir, item);
    const fetchedAt = statSync(archive).mtimeMs;
    // Even with the archive gone, the kept output answers (no fetch, no run).
    rmSync(archive);
    const again = await veleroObjects(cli(rel, "/nonexistent-origin"));
    expect(again.install.length).to.equal(velero.install.length);
    expect(fetchedAt).to.be.greaterThan(0);
  });

  it("a component whose MD5 differs from the manifest's names the URL and both sums; nothing is run", async () => {
    const fresh = await unpackFixture();
    const cdn = copyCdn();
    try {
      const item = findItem(fresh.manifest, VELERO_COMPONENT)!;
      writeFileSync(join(cdn.dir, item.urlAmd64), "not velero");
      let err: unknown;
      await veleroObjects(cli(fresh, cdn.dir)).catch((e: unknown) => (err = e));
      expect(err).to.be.instanceOf(ReleaseChecksumError);
      const e = err as ReleaseChecksumError;
      expect(e.url).to.equal(join(cdn.dir, item.urlAmd64));
      expect(e.expected).to.equal(item.checksumAmd64);
      expect(e.actual).to.match(/^[0-9a-f]{32}$/).and.not.equal(item.checksumAmd64);
    } finally {
      cdn.cleanup();
      fresh.cleanup();
    }
  });

  describe("in the CoreServices stage", () => {
    const bfl = { annotations: { userspace_pv: "pv-x", userspace_hostpath: "/olares/rootfs/userspace/x", appcache_hostpath: "/c", dbdata_hostpath: "/d" }, nodeName: "node-1", nodeAddress: "10.0.0.10" };
    const facts = (extra: Partial<ReleaseFacts>): ReleaseFacts => ({
      cdn: "https://cdn.olares.com",
      source: { installerDir: rel.installerDir, charts: rel.charts },
      manifest: rel.manifest,
      passwordLocation: "Secret olares-system/olares-owner-password, key password",
      ownerPassword: "pw-123456",
      randoms: randoms(),
      nodeAddress: "10.0.0.10",
      ...extra,
    });
    const stage = (sp: ReturnType<typeof renderSpec>, release: ReleaseFacts) => render(sp, { ...FACTS, release }).stages.find((x) => x.name === "CoreServices")!;
    const names = (st: ReturnType<typeof stage>) => (stageHook(st, "OlaresRelease")?.steps ?? []).map((x) => (x.kind === "chart" ? x.release.name : x.kind === "pruneReleases" ? "prune" : "name" in x ? x.name : x.kind));
    const empty = { get: () => undefined, list: () => [] };

    it("velero's steps follow the apps (InstallVeleroModule after InstallAppsModule), before the prune step; not while the apps wait for bfl", () => {
      const withApps = names(stage(renderSpec(), facts({ bfl, velero })));
      expect(withApps.slice(-9)).to.deep.equal(["desktop", "files", "settings", "wizard", "velero CRDs", "velero", "velero backup location terminus-cloud", "PatchVelero", "prune"]);
      const waiting = names(stage(renderSpec(), facts({ velero })));
      expect(waiting.some((n) => n.startsWith("velero") || n === "PatchVelero")).to.equal(false);
      // spec.coreServices.velero.enabled: false leaves it out; values are refused (velero is not a chart).
      expect(names(stage(renderSpec({ coreServices: { velero: { enabled: false } } } as never), facts({ bfl, velero }))).some((n) => n.startsWith("velero"))).to.equal(false);
      expect(() => stage(renderSpec({ coreServices: { velero: { values: { a: 1 } } } } as never), facts({ bfl, velero }))).to.throw("spec.coreServices.velero.values: not supported");
    });

    it("the velero Deployment is one of the components Ready waits for; a CLI that could not run is Degraded naming why", () => {
      const st = stage(renderSpec(), facts({ bfl, velero }));
      const r = st.ready(empty);
      expect(r.components!.map((c) => `${c.namespace}/${c.name}`)).to.include("os-framework/velero");
      // All releases installed, the CLI failed: Degraded, naming the failure.
      const failed = stage(renderSpec(), facts({ bfl, veleroFailure: "/x/installation.manifest: lists no velero component" }));
      expect(failed.ready(empty).reason, "releases pending come first").to.equal("InstallingReleases");
      // Every release deployed with its current input (Helm's records as the walk leaves them).
      const records = (failed.releases ?? []).map((rl) => ({
        apiVersion: "v1",
        kind: "Secret",
        type: "helm.sh/release.v1",
        metadata: { name: `sh.helm.release.v1.${rl.name}.v1`, namespace: rl.namespace, labels: { owner: "helm", name: rl.name, status: "deployed", version: "1", [LABEL_RELEASE_INPUT]: releaseInputHash(rl) } },
      }));
      const ready = failed.ready({ get: () => undefined, list: (apiVersion, kind, ns) => (kind === "Secret" ? records.filter((x) => ns === undefined || x.metadata.namespace === ns) : []) as never });
      expect(ready).to.include({ ready: false, reason: "VeleroUnavailable", degraded: true });
      expect(ready.message).to.include("lists no velero component");
      expect(names(failed).some((n) => n.startsWith("velero"))).to.equal(false);
    });
  });
});
