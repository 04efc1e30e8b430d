// Upgrades on the cluster simulator, end to end: the real operator (in-process), real helm (4.1), the real
// kubectl, node agents on simulated hosts and the fixture releases 1.12.1 → 1.12.2 from an airgap dir.
// Editing spec.version runs olares-cli upgrade's order (base.go@01f62215) with --reuse-values and settings
// last with the new version; a failing upgrade stops at its release naming helm's error and Terminus
// keeps the old version; steady state after an upgrade runs no helm and writes nothing.
import { expect } from "chai";
import { execa } from "execa";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { attachAgents, type AgentRunner } from "../sim/agent-runner.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import type { KObj } from "../sim/types.js";
import { HELM, ensureTools, explainNotReady, kubectl, installation, installOperatorManifests, isReady, kubectlOk, operatorManifests, startOperatorInProcess, waitFor, writesBy, type InProcessOperator } from "../e2e/cluster.js";
import { airgapWithBrokenRelease, type BrokenAirgap } from "./broken-release.js";
import { fixture, unpackFixture, type Unpacked } from "./helpers.js";

const TIMEOUT_MS = 60_000;

interface Revision {
  revision: number;
  updated: string;
  status: string;
  chart: string;
}

// Async: the simulator answers helm from this process.
async function helmJson<T>(kc: string, args: string[]): Promise<T> {
  const r = await execa(HELM, [...args, "-o", "json"], { env: { KUBECONFIG: kc } });
  return JSON.parse(r.stdout) as T;
}

const history = (kc: string, release: string, namespace: string) => helmJson<Revision[]>(kc, ["history", release, "--namespace", namespace, "--max", "20"]);
const userValues = (kc: string, release: string, namespace: string) => helmJson<Record<string, unknown>>(kc, ["get", "values", release, "--namespace", namespace]);

function terminusVersion(sim: Simulator): string | undefined {
  return (sim.store.get("sys.bytetrade.io/terminus", "", "terminus")?.spec as { version?: string } | undefined)?.version;
}

/** Every release of the install, [name, namespace]. */
const RELEASES: Array<[string, string]> = [
  ["hami", "kube-system"],
  ["account", "default"],
  ["settings", "default"],
  ["os-platform", "os-platform"],
  ["os-framework", "os-framework"],
  ["launcher-alice", "user-space-alice"],
  ["desktop", "user-space-alice"],
  ["files", "user-space-alice"],
  ["settings", "user-space-alice"],
  ["wizard", "user-space-alice"],
];

/** The apps a second user has (the fixture's; the tests' users finish the wizard at once, e2e/observe.ts). */
const BOB_APPS = ["desktop", "files", "settings", "wizard"];

describe("upgrade on the cluster simulator: spec.version 1.12.1 → 1.12.2 with real helm, the fixture releases from an airgap dir", function () {
  this.timeout(240_000);
  let sim: Simulator;
  let agents: AgentRunner;
  let operator: InProcessOperator;
  let kc: string;
  let airgap: BrokenAirgap;
  let crFile: string;
  const phases: string[] = [];

  const apply = async (version: string) => {
    writeFileSync(crFile, stringify({
      apiVersion: "olares.com/v1alpha1",
      kind: "OlaresInstallation",
      metadata: { name: "olares" },
      spec: { version, owner: { username: "alice", domain: "olares.com", email: "alice@example.com" }, storage: { type: "LocalFS", rootPath: "/olares" }, release: { airgapDir: airgap.dir } },
    }));
    await kubectlOk(kc, ["apply", "-f", crFile]);
  };
  const settle = (what: string, check: (cr: KObj | undefined) => boolean) =>
    waitFor(sim, () => {
      const cr = installation(sim);
      const phase = cr?.status?.phase as string | undefined;
      if (phase && phases[phases.length - 1] !== phase) phases.push(phase);
      return check(cr) ? cr : undefined;
    }, TIMEOUT_MS, () => `${what}: ${explainNotReady(installation(sim))}`);

  before(async () => {
    ensureTools();
    fixture("1.12.1");
    fixture("1.12.2");
    airgap = airgapWithBrokenRelease({ versions: ["1.12.1", "1.12.2"], base: "1.12.2", version: "1.12.3", chartDir: "wizard/config/os-framework" });
    crFile = join(airgap.dir, "olares.yaml");
    sim = await startSimulator({ nodes: 2, gpuNodes: 1 });
    kc = sim.kubeconfigPath;
    agents = attachAgents(sim);
    await installOperatorManifests(kc, await operatorManifests());
    operator = await startOperatorInProcess(kc);
    await apply("1.12.1");
    await settle("Ready on 1.12.1", (cr) => isReady(cr) && cr?.status?.version === "1.12.1");
    expect(terminusVersion(sim)).to.equal("1.12.1");
    await addUser("bob");
  });

  /**
   * A second Olares user, made the way Olares makes one after activation (not by the operator): its
   * iam.kubesphere.io User (owner-role normal), its user-space namespace, then its launcher-<u> from the
   * installed release's chart (the chart draws its own *_rand16, as on a first install) and its apps as
   * <app>-<u>.
   */
  let rel121: Unpacked | undefined;
  const addUser = async (name: string) => {
    rel121 ??= await unpackFixture("1.12.1");
    const file = join(airgap.dir, `user-${name}.yaml`);
    writeFileSync(file, stringify({ apiVersion: "iam.kubesphere.io/v1alpha2", kind: "User", metadata: { name, annotations: { "bytetrade.io/owner-role": "normal", "bytetrade.io/creator": "alice" } }, spec: { email: `${name}@example.com` } }) + "---\n" + stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: `user-space-${name}` } }));
    await kubectlOk(kc, ["apply", "-f", file]);
    const as = (v: Record<string, unknown>) => JSON.parse(JSON.stringify(v).replaceAll("alice", name)) as Record<string, unknown>;
    const launcher = as(await userValues(kc, "launcher-alice", "user-space-alice"));
    const bfl = launcher.bfl as Record<string, unknown>;
    for (const k of Object.keys(bfl)) if (k.endsWith("_rand16")) delete bfl[k];
    const install = async (release: string, chart: string, values: Record<string, unknown>) => {
      const vf = join(airgap.dir, `${release}.values.json`);
      writeFileSync(vf, JSON.stringify(values));
      await execa(HELM, ["install", release, join(rel121!.installerDir, chart), "--namespace", `user-space-${name}`, "-f", vf], { env: { KUBECONFIG: kc } });
    };
    await install(`launcher-${name}`, "wizard/config/launcher", launcher);
    for (const app of BOB_APPS) await install(`${app}-${name}`, `wizard/config/apps/${app}`, as(await userValues(kc, app, "user-space-alice")));
  };

  after(async () => {
    rel121?.cleanup();
    await operator?.stop();
    await agents?.stop();
    await sim?.stop();
    airgap?.cleanup();
  });

  it("velero goes in after the apps as olares-cli installs it: velero install's objects, the terminus-cloud location, PatchVelero's hostPath; Ready waits for it", () => {
    const crds = sim.store.list("apiextensions.k8s.io/customresourcedefinitions").map((c) => c.metadata.name).filter((n) => n?.endsWith(".velero.io"));
    expect(crds).to.include.members(["backups.velero.io", "backupstoragelocations.velero.io", "restores.velero.io"]);
    const deploy = sim.store.get("apps/deployments", "os-framework", "velero")! as KObj & { spec: { template: { spec: { volumes: unknown[]; containers: Array<{ image: string; securityContext: unknown }> } } } };
    expect(deploy.metadata.labels?.component).to.equal("velero");
    expect(deploy.spec.template.spec.containers[0]!.image).to.equal("beclab/velero:v1.11.3");
    expect(deploy.spec.template.spec.volumes).to.deep.include({ name: "terminus-cloud", hostPath: { path: "/olares/rootfs/k8s-backup", type: "DirectoryOrCreate" } });
    expect(deploy.spec.template.spec.containers[0]!.securityContext).to.deep.equal({ privileged: true, runAsNonRoot: false, runAsUser: 0 });
    const bsl = sim.store.get("velero.io/backupstoragelocations", "os-framework", "terminus-cloud") as (KObj & { spec: { provider: string } }) | undefined;
    expect(bsl?.spec.provider).to.equal("terminus");
    expect(installation(sim)!.status.components.find((c: { namespace?: string; name: string }) => c.namespace === "os-framework" && c.name === "velero")).to.include({ ready: true });
    // After the apps: the operator's first velero write comes after helm's last app release.
    const lastApp = sim.requests.reduce((last, r, i) => (r.userAgent?.startsWith("Helm") && r.verb === "create" && r.namespace === "user-space-alice" ? i : last), -1);
    const firstVelero = sim.requests.findIndex((r) => r.userAgent?.startsWith("olares-operator") && r.verb === "create" && r.path.includes("customresourcedefinitions"));
    expect(firstVelero, "velero's CRDs created").to.be.greaterThan(-1);
    expect(firstVelero).to.be.greaterThan(lastApp);
  });

  it("editing spec.version runs the installer's upgrade order, --reuse-values, settings last with the new version; Upgrading, then Ready on 1.12.2", async () => {
    const before = new Map<string, Revision[]>();
    const releases: Array<[string, string]> = [...RELEASES, ["launcher-bob", "user-space-bob"], ...BOB_APPS.map((a): [string, string] => [`${a}-bob`, "user-space-bob"])];
    for (const [n, ns] of releases) before.set(`${ns}/${n}`, await history(kc, n, ns));
    phases.length = 0;
    const started = Date.now();
    await apply("1.12.2");
    const cr = await settle("Ready on 1.12.2", (c) => isReady(c) && c?.status?.version === "1.12.2");
    const seconds = (Date.now() - started) / 1000;
    process.stdout.write(`      upgrade 1.12.1 → 1.12.2: Ready in ${seconds.toFixed(2)} s; phases ${phases.join(" → ")}\n`);
    expect(phases).to.include("Upgrading");
    expect(cr.status.phase).to.equal("Ready");
    expect(terminusVersion(sim)).to.equal("1.12.2");

    // New revisions, in the order the operator ran them.
    const runs: Array<{ release: string; at: number; chart: string }> = [];
    for (const [n, ns] of releases) {
      const old = before.get(`${ns}/${n}`)!;
      for (const r of (await history(kc, n, ns)).filter((h) => !old.some((o) => o.revision === h.revision))) runs.push({ release: `${ns}/${n}`, at: Date.parse(r.updated), chart: r.chart });
    }
    runs.sort((a, b) => a.at - b.at);
    expect(runs.map((r) => r.release)).to.deep.equal([
      "kube-system/hami",
      "default/settings",
      "os-platform/os-platform",
      "os-framework/os-framework",
      "user-space-alice/launcher-alice",
      "user-space-alice/desktop",
      "user-space-alice/files",
      "user-space-alice/settings",
      // every other user, as upgradeUserComponents: its launcher, then its apps as <app>-<user> (its wizard
      // skipped: bob completed it too)
      "user-space-bob/launcher-bob",
      "user-space-bob/desktop-bob",
      "user-space-bob/files-bob",
      "user-space-bob/settings-bob",
      "default/settings",
    ]);
    // (hami's chart carries HAMi's own version.)
    for (const r of runs.filter((x) => x.release !== "kube-system/hami")) expect(r.chart, r.release).to.match(/-1\.12\.2$/);
    // account is not re-applied by the upgrade; the wizard app is skipped once the owner activated.
    expect(await history(kc, "account", "default")).to.have.length(1);
    expect(await history(kc, "wizard", "user-space-alice")).to.have.length(1);
    // The last settings run passed the new version; the launcher was re-fed bfl's generated names.
    expect((await userValues(kc, "settings", "default")).version).to.equal("1.12.2");
    const bfl = sim.store.get("apps/statefulsets", "user-space-alice", "bfl")!;
    const launcher = (await userValues(kc, "launcher-alice", "user-space-alice")).bfl as Record<string, string>;
    for (const k of ["userspace_rand16", "userspace_pv", "userspace_pvc", "dbdata_pv"]) expect(launcher[k], k).to.equal(bfl.metadata.annotations?.[k]);
    // bob's launcher re-fed bob's own bfl's randoms and PV/PVC names (not alice's), the rest reused
    const bobBfl = sim.store.get("apps/statefulsets", "user-space-bob", "bfl")!;
    const bobLauncher = (await userValues(kc, "launcher-bob", "user-space-bob")).bfl as Record<string, string>;
    for (const k of ["userspace_rand16", "appcache_rand16", "dbdata_rand16", "userspace_pv", "userspace_pvc", "dbdata_pv"]) {
      expect(bobLauncher[k], `bob ${k}`).to.be.a("string").and.not.equal("");
      expect(bobLauncher[k], `bob ${k}`).to.equal(bobBfl.metadata.annotations?.[k]);
    }
    expect(bobLauncher.userspace_rand16).to.not.equal(launcher.userspace_rand16);
    expect(bobLauncher.username).to.equal("bob");
    for (const app of BOB_APPS.filter((a) => a !== "wizard")) expect((await history(kc, `${app}-bob`, "user-space-bob")).at(-1)!.chart, app).to.match(/-1\.12\.2$/);
    expect(await history(kc, "wizard-bob", "user-space-bob"), "bob's wizard: bob completed it").to.have.length(1);
    const settings = cr.status.components.find((c: { kind: string; name: string; namespace: string }) => c.kind === "HelmRelease" && c.name === "settings" && c.namespace === "default");
    expect(settings.message).to.equal("revision 3 deployed");
  });

  it("steady state after the upgrade: 10 reconciles run no helm and write nothing", async () => {
    const since = sim.requests.length;
    for (let i = 0; i < 10; i++) {
      await kubectlOk(kc, ["annotate", "olaresinstallation", "olares", `test.olares.com/resync=${i}`, "--overwrite"]);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(writesBy(sim, "Helm", since), "helm writes").to.deep.equal([]);
    expect(writesBy(sim, "olares-operator", since), "operator writes").to.deep.equal([]);
    expect(isReady(installation(sim))).to.equal(true);
  });

  it("a failing upgrade stops at its release naming helm's error; what ran before keeps running and Terminus stays on the old version", async () => {
    phases.length = 0;
    await apply("1.12.3");
    const cr = await settle("Degraded on 1.12.3", (c) => c?.status?.phase === "Degraded" && c?.status?.observedGeneration === c?.metadata.generation);
    const degraded = cr.status.conditions.find((c: { type: string }) => c.type === "Degraded");
    expect(degraded.message).to.include("upgrading Olares 1.12.2 to 1.12.3: helm release os-framework/os-framework failed:");
    expect(degraded.message).to.include(airgap.failure);
    expect(terminusVersion(sim), "the last step never ran").to.equal("1.12.2");
    expect((await history(kc, "os-platform", "os-platform")).at(-1)!.status).to.equal("deployed");
    expect((await history(kc, "launcher-alice", "user-space-alice")).at(-1)!.chart).to.equal("launcher-1.12.2");
    const appService = sim.store.get("apps/statefulsets", "os-framework", "app-service")!;
    expect((appService.status as { readyReplicas?: number }).readyReplicas).to.be.greaterThan(0);
  });

  it("reverting spec.version to the installed 1.12.2 goes back cleanly: Ready on 1.12.2, every release on its 1.12.2 chart", async () => {
    await apply("1.12.2");
    const cr = await settle("Ready again on 1.12.2", (c) => isReady(c) && c?.status?.version === "1.12.2");
    expect(cr.status.phase).to.equal("Ready");
    expect(terminusVersion(sim)).to.equal("1.12.2");
    for (const [n, ns] of RELEASES.filter(([n]) => !["wizard", "account", "hami"].includes(n))) {
      const last = (await history(kc, n, ns)).at(-1)!;
      expect(`${ns}/${n} ${last.chart} ${last.status}`).to.match(/-1\.12\.2 deployed$/);
    }
  });

  it("going below the version rolled out is refused at admission, naming the field and the rule", async () => {
    writeFileSync(crFile, (await import("node:fs")).readFileSync(crFile, "utf8").replace('version: 1.12.2', 'version: 1.12.1'));
    const r = await kubectl(kc, ["apply", "-f", crFile]);
    expect(r.code).to.not.equal(0);
    expect(r.stderr).to.include("spec.version: Forbidden: spec.version must not go back to an older release than the one rolled out");
  });

  it("after activation BFL removes the wizard app: 10 reconciles neither bring it back nor touch anything else", async () => {
    // What BFL does once the owner activated (the installer applies the wizard once, at install).
    await execa(HELM, ["uninstall", "wizard", "--namespace", "user-space-alice"], { env: { KUBECONFIG: kc } });
    const since = sim.requests.length;
    for (let i = 0; i < 10; i++) {
      await kubectlOk(kc, ["annotate", "olaresinstallation", "olares", `test.olares.com/wizard-gone=${i}`, "--overwrite"]);
      await new Promise((r) => setTimeout(r, 300));
    }
    const records = sim.store.list("/secrets", "user-space-alice").filter((s) => s.metadata.labels?.owner === "helm" && s.metadata.labels?.name === "wizard");
    expect(records, "the wizard's Helm records").to.deep.equal([]);
    expect(writesBy(sim, "Helm", since), "helm writes").to.deep.equal([]);
    // One status write: the wizard's HelmRelease leaves status.components; nothing else.
    expect(writesBy(sim, "olares-operator", since).map((w) => w.path)).to.deep.equal(["/apis/olares.com/v1alpha1/olaresinstallations/olares/status"]);
    const after = sim.requests.length;
    for (let i = 0; i < 5; i++) {
      await kubectlOk(kc, ["annotate", "olaresinstallation", "olares", `test.olares.com/wizard-gone-again=${i}`, "--overwrite"]);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(writesBy(sim, "olares-operator", after), "operator writes once settled").to.deep.equal([]);
    expect(writesBy(sim, "Helm", after)).to.deep.equal([]);
    expect(isReady(installation(sim))).to.equal(true);
  });
});
