// The Argo CD example: CRD → operator → CR by sync waves, with the sync and compare options the docs
// promise, and sources that exist in this repository.
import { expect } from "chai";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fetchTools, helmTemplate, HELMS, ROOT } from "../chart/tools.js";

type App = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; finalizers?: string[] };
  spec: {
    source: { repoURL: string; path: string; directory?: { include?: string }; helm?: { skipCrds?: boolean; valuesObject?: object } };
    destination: { server: string; namespace?: string };
    syncPolicy: { automated?: { prune?: boolean }; syncOptions?: string[] };
  };
};

const APPS_DIR = join(ROOT, "examples/argocd/apps");

function load(file: string): App {
  return parse(readFileSync(file, "utf8")) as App;
}

describe("examples/argocd Applications", () => {
  const apps = Object.fromEntries(
    readdirSync(APPS_DIR)
      .filter((f) => f.endsWith(".yaml"))
      .map((f) => {
        const app = load(join(APPS_DIR, f));
        return [app.metadata.name, app];
      }),
  );
  const crds = apps["olares-crds"]!;
  const operator = apps["olares-operator"]!;
  const installation = apps["olares-installation"]!;

  it("has the three Applications, all argoproj.io/v1alpha1 in the argocd namespace", () => {
    expect(Object.keys(apps).sort()).to.deep.equal(["olares-crds", "olares-installation", "olares-operator"]);
    for (const app of Object.values(apps)) {
      expect(app.apiVersion).to.equal("argoproj.io/v1alpha1");
      expect(app.kind).to.equal("Application");
      expect(app.metadata.namespace).to.equal("argocd");
    }
  });

  it("orders CRD → operator → CR with sync waves", () => {
    const wave = (a: App) => Number(a.metadata.annotations?.["argocd.argoproj.io/sync-wave"]);
    expect([wave(crds), wave(operator), wave(installation)]).to.deep.equal([-1, 0, 1]);
  });

  it("uses server-side apply and server-side diff everywhere, and skips the dry run for the CR", () => {
    for (const app of Object.values(apps)) {
      expect(app.spec.syncPolicy.syncOptions, app.metadata.name).to.include("ServerSideApply=true");
      expect(app.metadata.annotations?.["argocd.argoproj.io/compare-options"], app.metadata.name).to.equal("ServerSideDiff=true");
    }
    expect(installation.spec.syncPolicy.syncOptions).to.include("SkipDryRunOnMissingResource=true");
  });

  it("never prunes or cascades the CRD or the installation", () => {
    for (const app of [crds, installation]) {
      expect(app.spec.syncPolicy.automated?.prune, app.metadata.name).to.equal(false);
      expect(app.metadata.finalizers ?? [], app.metadata.name).to.not.include("resources-finalizer.argocd.argoproj.io");
    }
  });

  it("points at sources that exist here", () => {
    expect(existsSync(join(ROOT, crds.spec.source.path, "olares.com_olaresinstallations.yaml"))).to.equal(true);
    expect(existsSync(join(ROOT, operator.spec.source.path, "Chart.yaml"))).to.equal(true);
    const cr = parse(readFileSync(join(ROOT, installation.spec.source.path, installation.spec.source.directory!.include!), "utf8"));
    expect(cr.kind).to.equal("OlaresInstallation");
    const root = load(join(ROOT, "examples/argocd/root-application.yaml"));
    expect(join(ROOT, root.spec.source.path)).to.equal(APPS_DIR);
  });

  it("gives the chart values that its schema accepts, with CRDs left to wave -1", async function () {
    this.timeout(120_000);
    fetchTools();
    expect(operator.spec.source.helm?.skipCrds).to.equal(true);
    for (const helm of HELMS) {
      const res = await helmTemplate(helm.bin, operator.spec.source.helm?.valuesObject ?? {}, { includeCrds: false });
      expect(res.code, res.stderr).to.equal(0);
      expect(res.objects.filter((o) => o.kind === "CustomResourceDefinition" || o.kind === "Job")).to.deep.equal([]);
      expect(res.objects.some((o) => o.kind === "Deployment")).to.equal(true);
    }
  });
});
