import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { runPlan, type PlanCommandOptions } from "../../operator/src/cli/plan.js";
import { planFor } from "../../operator/src/cli/plan-model.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";
import type { KubeObject } from "../../operator/src/contract/index.js";

const root = join(import.meta.dirname, "../..");
const example = join(root, "examples/olares.yaml");

function run(opts: Partial<PlanCommandOptions>, files: Record<string, string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = runPlan(
    { file: example, output: "table", nodes: 1, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE, ...opts },
    {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readFile: (p) => {
        if (p in files) return files[p]!;
        return readFileSync(p, "utf8");
      },
    },
  );
  return { code, stdout, stderr };
}

describe("plan", () => {
  it("prints every object in stage order as a table", () => {
    const { code, stdout } = run({});
    expect(code).to.equal(0);
    const lines = stdout.split("\n");
    expect(lines[0]).to.match(/^OlaresInstallation olares: Olares 1\.12\.1, 1 node\(s\); stages: Prerequisites → NodeAgent → NodeConfig → ClusterDNS → Storage/);
    const header = lines.findIndex((l) => l.startsWith("STAGE"));
    expect(lines[header]).to.match(/^STAGE\s+KIND\s+NAMESPACE\/NAME\s+NOTE$/);
    const rows = lines.slice(header + 1).filter((l) => /^[A-Z]\w+\s{2,}/.test(l));
    const stages = rows.map((r) => r.split(/\s+/)[0]);
    const order = ["Prerequisites", "NodeAgent", "NodeConfig", "ClusterDNS", "Storage", "GPU", "CoreServices"];
    expect([...stages].sort((a, b) => order.indexOf(a!) - order.indexOf(b!))).to.deep.equal(stages);
    expect(stdout).to.match(/NodeAgent\s+DaemonSet\s+olares-system\/olares-node-agent\s+\S+ on all selected nodes \(privileged\)/);
    expect(stdout).to.match(/Prerequisites\s+Secret\s+olares-system\/olares-owner-password\s+generated once/);
    const plan = planFor(installation());
    const objectCount = plan.desired.stages.reduce((n, s) => n + s.objects.length, 0);
    // plus one row per Helm release of the Olares release (CoreServices), in the installer's order
    const releaseCount = plan.desired.stages.reduce((n, s) => n + (s.releases?.length ?? 0), 0);
    expect(releaseCount).to.equal(6);
    expect(rows.length).to.equal(objectCount + releaseCount + plan.generated.length);
  });

  it("-o yaml prints the objects as a YAML stream, exactly what render produced", () => {
    const { code, stdout } = run({ output: "yaml" });
    expect(code).to.equal(0);
    const docs = parseAllDocuments(stdout);
    const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS() as KubeObject);
    const plan = planFor(installation());
    expect(objects).to.deep.equal(plan.desired.stages.flatMap((s) => s.objects));
  });

  it("-o json prints a v1 List", () => {
    const { code, stdout } = run({ output: "json" });
    expect(code).to.equal(0);
    const list = JSON.parse(stdout);
    expect(list).to.include({ apiVersion: "v1", kind: "List" });
    expect(list.items[0]).to.include({ kind: "Namespace" });
  });

  it("simulated GPU nodes change nothing in the object list but are counted", () => {
    const { stdout } = run({ nodes: 3, gpuNodes: 2 });
    expect(stdout).to.include("3 node(s)");
  });

  it("rejects an invalid document with every problem as field: rule", () => {
    const bad = "apiVersion: olares.com/v1alpha1\nkind: OlaresInstallation\nmetadata: {name: x}\nspec:\n  owner: {username: A}\n";
    const { code, stderr, stdout } = run({ file: "bad.yaml" }, { "bad.yaml": bad });
    expect(code).to.equal(1);
    expect(stdout).to.equal("");
    expect(stderr).to.include("the OlaresInstallation is invalid");
    expect(stderr).to.match(/spec\.version: /);
    expect(stderr).to.match(/spec\.owner\.username: /);
  });

  it("explains a file without an OlaresInstallation, a missing file and bad node counts", () => {
    expect(run({ file: "cm.yaml" }, { "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n" }).stderr).to.include("no OlaresInstallation document found");
    expect(run({ file: "/nonexistent/olares.yaml" }).stderr).to.equal("/nonexistent/olares.yaml: no such file\n");
    expect(run({ nodes: 1, gpuNodes: 2 }).stderr).to.include("--gpu-nodes: must be a whole number between 0 and --nodes (1)");
  });

  it("plans the CR out of a multi-document file (Secret + CR)", () => {
    const { code, stdout } = run({ file: join(root, "examples/olares-juicefs-s3.yaml") });
    expect(code).to.equal(0);
    expect(stdout).to.match(/Storage\s+ConfigMap\s+olares-system\/olares-storage/);
  });
});

function installation(): unknown {
  const docs = parseAllDocuments(readFileSync(example, "utf8"));
  return (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJS()).find((d) => d?.kind === "OlaresInstallation");
}
