// The in-memory tier's stand-in for `helm upgrade --install`: the real helm renders the chart
// (`helm template` with the same values file), the objects go into the FakeCluster by server-side apply,
// and a release record like Helm's own (Secret sh.helm.release.v1.<name>.v<N>, owner=helm, the input
// label) is written, so the operator's walk decides "unchanged" exactly as against a real cluster.
// Real `helm upgrade --install` against an API server runs in test/release (the simulator tier).
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChartRelease, KubeObject } from "../../operator/src/contract/index.js";
import { LABEL_RELEASE_INPUT, latestRecord } from "../../operator/src/contract/index.js";
import type { HelmRunResult, ReleaseInstaller } from "../../operator/src/helm/index.js";
import type { ReleaseRuntime } from "../../operator/src/controller/release.js";
import { HELMS, fetchTools, parseObjects, run } from "../chart/tools.js";
import type { FakeCluster } from "./fake-cluster.js";
import { buildFixtureRelease } from "../../hack/fixture-release/build.js";
import { DEFAULT_FIXTURE_VERSION } from "../../hack/fixture-release/version.js";
import { homedir } from "node:os";

const CLUSTER_SCOPED = new Set(["Namespace", "CustomResourceDefinition", "RuntimeClass", "ClusterRole", "ClusterRoleBinding", "User", "Terminus", "SystemEnv", "StorageClass", "PersistentVolume"]);

export class TemplateInstaller implements ReleaseInstaller {
  runs = 0;
  constructor(private readonly cluster: FakeCluster, private readonly helmBin: string = HELMS[0].bin) {}

  async upgradeInstall(release: ChartRelease, inputHash: string): Promise<HelmRunResult> {
    this.runs++;
    const args = ["template", release.name, release.chart.path, "--namespace", release.namespace, "--include-crds", "-f", "-"];
    const r = await run(this.helmBin, args, JSON.stringify(release.values));
    if (r.code !== 0) return { ok: false, code: r.code, stdout: r.stdout, stderr: r.stderr, args };
    const objects = parseObjects(r.stdout);
    const ensureNs = async (ns: string) => {
      if (!(await this.cluster.get({ apiVersion: "v1", kind: "Namespace", name: ns }))) await this.cluster.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { "app.kubernetes.io/managed-by": "Helm" } } }, { force: true });
    };
    await ensureNs(release.namespace);
    for (const obj of objects) {
      if (obj.kind === "CustomResourceDefinition") {
        const spec = obj.spec as { group: string; scope: string; names: { kind: string }; versions: Array<{ name: string }> };
        if (spec.scope === "Cluster") for (const v of spec.versions) this.cluster.registerClusterScoped(`${spec.group}/${v.name}`, spec.names.kind);
      }
      const clusterScoped = CLUSTER_SCOPED.has(obj.kind);
      const o: KubeObject = clusterScoped ? obj : { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata.namespace ?? release.namespace } };
      if (o.metadata.namespace) await ensureNs(o.metadata.namespace);
      o.metadata.annotations = { ...o.metadata.annotations, "meta.helm.sh/release-name": release.name, "meta.helm.sh/release-namespace": release.namespace };
      o.metadata.labels = { ...o.metadata.labels, "app.kubernetes.io/managed-by": "Helm" };
      await this.cluster.apply(o, { force: true });
    }
    const records = await this.cluster.list("v1", "Secret", { namespace: release.namespace, labelSelector: `owner=helm,name=${release.name}` });
    const last = latestRecord(records, release.name, release.namespace);
    const version = (last?.revision ?? 0) + 1;
    if (last) {
      const prev = records.find((s) => s.metadata.labels?.version === String(last.revision))!;
      await this.cluster.apply({ ...prev, metadata: { ...prev.metadata, labels: { ...prev.metadata.labels, status: "superseded" } } } as KubeObject, { force: true });
    }
    await this.cluster.apply(
      {
        apiVersion: "v1",
        kind: "Secret",
        type: "helm.sh/release.v1",
        metadata: { name: `sh.helm.release.v1.${release.name}.v${version}`, namespace: release.namespace, labels: { owner: "helm", name: release.name, status: "deployed", version: String(version), [LABEL_RELEASE_INPUT]: inputHash } },
        data: {},
      } as KubeObject,
      { force: true },
    );
    return { ok: true, code: 0, stdout: "", stderr: "", args };
  }

  /** The record of the newest revision goes; the previous one is deployed again. */
  async rollback(name: string, namespace: string): Promise<HelmRunResult> {
    this.runs++;
    const records = await this.cluster.list("v1", "Secret", { namespace, labelSelector: `owner=helm,name=${name}` });
    const last = latestRecord(records, name, namespace);
    if (last) await this.cluster.delete({ apiVersion: "v1", kind: "Secret", name: `sh.helm.release.v1.${name}.v${last.revision}`, namespace });
    return { ok: true, code: 0, stdout: "", stderr: "", args: ["rollback", name, "--namespace", namespace] };
  }

  /** Deletes what the release created (except helm.sh/resource-policy: keep) and its records. */
  async uninstall(name: string, namespace: string): Promise<HelmRunResult> {
    this.runs++;
    for (const o of this.cluster.all()) {
      const a = o.metadata.annotations ?? {};
      if (a["meta.helm.sh/release-name"] !== name || a["meta.helm.sh/release-namespace"] !== namespace || a["helm.sh/resource-policy"] === "keep") continue;
      await this.cluster.delete({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) });
    }
    for (const r of await this.cluster.list("v1", "Secret", { namespace, labelSelector: `owner=helm,name=${name}` })) {
      await this.cluster.delete({ apiVersion: "v1", kind: "Secret", name: r.metadata.name, namespace });
    }
    return { ok: true, code: 0, stdout: "", stderr: "", args: ["uninstall", name, "--namespace", namespace] };
  }
}

let sharedCache: string | undefined;

/** A release runtime for the in-memory tier: real helm rendering into the FakeCluster, the fixture release as airgap source. */
export function templateReleaseRuntime(cluster: FakeCluster): ReleaseRuntime {
  fetchTools();
  sharedCache ??= mkdtempSync(join(tmpdir(), "olares-release-cache-"));
  // The User CRD the account chart needs comes with the K3s phase (ks-core), not the release.
  cluster.registerClusterScoped("iam.kubesphere.io/v1alpha2", "User");
  // The settings chart's Terminus (cluster-scoped): the controller reads it before that chart installs its CRD.
  cluster.registerClusterScoped("sys.bytetrade.io/v1alpha1", "Terminus");
  return { installer: new TemplateInstaller(cluster), cacheDir: sharedCache };
}

/** Versions the fixture airgap directory carries (an upgrade needs the next one). */
export const FIXTURE_VERSIONS = [DEFAULT_FIXTURE_VERSION, "1.12.2"] as const;

/** An airgap directory with the wizard (tarball + .md5sum.txt) of every fixture version: spec.release.airgapDir for tests. */
function linkTree(from: string, to: string): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const link = join(to, e.name);
    if (e.isDirectory()) {
      mkdirSync(link, { recursive: true });
      linkTree(join(from, e.name), link);
    } else if (!lstatSync(link, { throwIfNoEntry: false })) symlinkSync(join(from, e.name), link);
  }
}

export function fixtureAirgapDir(): string {
  const root = process.env.OLARES_FIXTURE_DIR ?? join(homedir(), ".cache/olares-operator/fixture-release");
  const dir = join(root, "airgap");
  mkdirSync(dir, { recursive: true });
  for (const v of FIXTURE_VERSIONS) {
    // The whole CDN layout (wizard, components, images, arm64/), as an airgap directory holds it.
    linkTree(buildFixtureRelease(v, root).cdnDir, dir);
  }
  return dir;
}

process.once("exit", () => {
  if (sharedCache) rmSync(sharedCache, { recursive: true, force: true });
});
