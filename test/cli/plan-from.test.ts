// `plan --from current.yaml -f new.yaml` (in process, the same render() the controller runs; offline,
// no cluster): per stage the objects created/changed/deleted, per node the host-task changes and their
// disruption, a storage switch step by step per node; errors in either file name the file and field.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { runPlan, type PlanCommandOptions } from "../../operator/src/cli/plan.js";
import { STORAGE_MIGRATION_STEPS } from "../../operator/src/contract/index.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";
import type { PlanDiff } from "../../operator/src/cli/plan-diff.js";

const root = join(import.meta.dirname, "../..");
const example = (name: string) => join(root, "examples", name);

type Doc = Record<string, any>;
const base = (spec: Doc = {}): Doc => ({
  apiVersion: "olares.com/v1alpha1",
  kind: "OlaresInstallation",
  metadata: { name: "olares" },
  spec: { version: "1.12.1", owner: { username: "alice" }, ...spec },
});
const minio = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" } } };

function run(opts: Partial<PlanCommandOptions>, files: Record<string, Doc | string> = {}) {
  let stdout = "";
  let stderr = "";
  const code = runPlan(
    { file: "new.yaml", output: "table", nodes: 1, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE, ...opts },
    {
      stdout: (t) => (stdout += t),
      stderr: (t) => (stderr += t),
      readFile: (p) => {
        const f = files[p];
        if (f === undefined) return readFileSync(p, "utf8");
        return typeof f === "string" ? f : stringify(f);
      },
    },
  );
  return { code, stdout, stderr };
}
const diffOf = (files: Record<string, Doc | string>, opts: Partial<PlanCommandOptions> = {}): PlanDiff => {
  const r = run({ from: "current.yaml", output: "json", ...opts }, files);
  expect(r.code, r.stderr).to.equal(0);
  return JSON.parse(r.stdout) as PlanDiff;
};

describe("plan --from: what changes between two specs (offline render)", () => {
  it("the same spec twice: no changes, said in one line", () => {
    const r = run({ from: "current.yaml" }, { "current.yaml": base(), "new.yaml": base() });
    expect(r.code).to.equal(0);
    expect(r.stdout).to.include("No changes: the operator would apply nothing and no host would change.");
    expect(diffOf({ "current.yaml": base(), "new.yaml": base() })).to.deep.include({ objects: [], nodes: [] });
  });

  it("an OS change: the node config ConfigMap replaced, the host tasks changed per node with their disruption", () => {
    const d = diffOf({ "current.yaml": base(), "new.yaml": base({ os: { sysctl: { "vm.swappiness": "10" }, ssh: { port: 2222 } } }) }, { nodes: 2 });
    const nodeConfigs = d.objects.filter((o) => o.stage === "NodeConfig");
    expect(nodeConfigs.map((o) => o.change).sort()).to.deep.equal(["created", "deleted"]);
    expect(d.nodes.map((n) => n.node)).to.deep.equal(["node-1", "node-2"]);
    for (const n of d.nodes) {
      expect(n.from).to.not.equal(n.to);
      const sysctl = n.tasks.find((t) => t.kind === "sysctl");
      expect(sysctl, JSON.stringify(n.tasks)).to.include({ change: "changed" });
      expect(sysctl!.fields).to.include("values");
      expect(n.tasks.find((t) => t.kind === "sshd")).to.include({ change: "changed", disruption: "restart-service" });
      expect(n.disruption).to.equal("restart-service");
    }
    const table = run({ from: "current.yaml", nodes: 2 }, { "current.yaml": base(), "new.yaml": base({ os: { sysctl: { "vm.swappiness": "10" }, ssh: { port: 2222 } } }) }).stdout;
    expect(table).to.match(/Host changes on node-1 \(node config \w+ → \w+\): restarts a service/);
    expect(table).to.match(/^ {2}~ ssh\/sshd: OpenSSH on port 2222/m);
  });

  it("LocalFS → JuiceFS: the Storage stage's new objects, and the whole migration per node with every step", () => {
    const d = diffOf({ "current.yaml": base(), "new.yaml": base({ storage: minio }) });
    expect(d.from.storageType).to.equal("LocalFS");
    expect(d.to.storageType).to.equal("JuiceFS");
    expect(d.objects.filter((o) => o.stage === "Storage" && o.change === "created").map((o) => `${o.kind} ${o.name}`)).to.include("Secret olares-system/olares-storage-generated");
    expect(d.storageMigration).to.include({ from: "LocalFS", to: "JuiceFS", root: "/olares" });
    expect(d.storageMigration!.nodes).to.have.length(1);
    expect(d.storageMigration!.nodes[0]!.steps).to.deep.equal([...STORAGE_MIGRATION_STEPS]);
    expect(d.nodes[0]!.tasks.find((t) => t.kind === "storageMigration")).to.include({ change: "created" });
    const table = run({ from: "current.yaml" }, { "current.yaml": base(), "new.yaml": base({ storage: minio }) }).stdout;
    expect(table).to.include("storage LocalFS → JuiceFS");
    expect(table).to.include("Storage switch LocalFS → JuiceFS of /olares/rootfs");
    STORAGE_MIGRATION_STEPS.forEach((step, i) => expect(table).to.match(new RegExp(`^ {4}${i + 1}\\. ${step}( —|$)`, "m")));
    expect(table).to.include("old data kept at /olares/rootfs.local.bak until you remove it");
    expect(table).to.include("unit juicefs.service enabled, started: mount at /olares/rootfs");
  });

  it("JuiceFS → LocalFS (the juicefs block kept, as the switch reads from it): the migration back, old data kept", () => {
    const back = base({ storage: { ...minio, type: "LocalFS" } });
    const d = diffOf({ "current.yaml": base({ storage: minio }), "new.yaml": back });
    expect(d.storageMigration).to.include({ from: "JuiceFS", to: "LocalFS" });
    expect(d.nodes[0]!.tasks.find((t) => t.kind === "juicefsRootfs")).to.include({ change: "deleted" });
    expect(d.nodes[0]!.tasks.find((t) => t.kind === "storageMigration")).to.include({ change: "created" });
    const table = run({ from: "current.yaml" }, { "current.yaml": base({ storage: minio }), "new.yaml": back }).stdout;
    expect(table).to.include("old data kept at /olares/rootfs.juicefs.bak");
  });

  it("the example files: LocalFS → each JuiceFS example is a migration, and no Secret value of the file is printed", () => {
    for (const f of ["olares-juicefs-minio.yaml", "olares-juicefs-s3.yaml", "olares-juicefs-oss.yaml", "olares-juicefs-cos.yaml", "olares-juicefs-external-metadata.yaml"]) {
      const secretValues = [...readFileSync(example(f), "utf8").matchAll(/^ {2}[A-Za-z_]+: (\S{8,})$/gm)].map((m) => m[1]!).filter((v) => /EXAMPLE|redis:\/\//.test(v));
      expect(secretValues.length > 0, `${f}: the secret values it checks`).to.equal(f !== "olares-juicefs-minio.yaml");
      for (const output of ["table", "json"] as const) {
        const r = run({ from: example("olares.yaml"), file: example(f), output });
        expect(r.code, `${f}: ${r.stderr}`).to.equal(0);
        if (output === "table") expect(r.stdout, f).to.include("Storage switch LocalFS → JuiceFS");
        for (const v of secretValues) expect(r.stdout, `${f} (${output}) shows ${v}`).to.not.include(v);
      }
    }
  });

  describe("errors name the file and the field", () => {
    it("a backend change while on JuiceFS is refused, naming the new file and the field", () => {
      const s3 = (bucket: string) => base({ storage: { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket, region: "us-east-1", credentialsSecretRef: { name: "s3" } } } } });
      const r = run({ from: "current.yaml" }, { "current.yaml": s3("olares-a"), "new.yaml": s3("olares-b") });
      expect(r.code).to.equal(1);
      expect(r.stdout).to.equal("");
      expect(r.stderr).to.match(/^new\.yaml: the OlaresInstallation is invalid:\n {2}spec\.storage\.juicefs\.objectStore\.bucket: Forbidden: changed from "olares-a" to "olares-b" while storage\.type is JuiceFS/);
    });
    it("a downgrade is refused against the current file", () => {
      const r = run({ from: "current.yaml" }, { "current.yaml": base({ version: "1.12.1" }), "new.yaml": base({ version: "1.11.0" }) });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^new\.yaml: .*\n {2}spec\.version: /);
    });
    it("an invalid current file is named with its field", () => {
      const r = run({ from: "current.yaml" }, { "current.yaml": base({ storage: { type: "JuiceFS" } }), "new.yaml": base() });
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(/^current\.yaml: the OlaresInstallation is invalid:\n {2}spec\.storage\.juicefs: /);
    });
    it("a missing file, a file with no installation, and another installation's name", () => {
      expect(run({ from: "nope.yaml" }, { "new.yaml": base() }).stderr).to.equal("nope.yaml: no such file\n");
      expect(run({ from: "current.yaml" }, { "current.yaml": "kind: ConfigMap\n", "new.yaml": base() }).stderr).to.match(/^current\.yaml: no OlaresInstallation document found/);
      const other = { ...base(), metadata: { name: "other" } };
      expect(run({ from: "current.yaml" }, { "current.yaml": base(), "new.yaml": other }).stderr).to.match(/^new\.yaml: metadata\.name: "other" is not the installation in current\.yaml \("olares"\)/);
      expect(run({ from: "current.yaml", output: "yaml" }, { "current.yaml": base(), "new.yaml": base() }).stderr).to.include("-o yaml lists objects; with --from use -o table or -o json");
    });
  });

  it("the CLI keeps -f, --filename and --file, and takes --from (real process)", async function () {
    this.timeout(180_000); // three tsx start-ups on a loaded 2-core machine
    const exec = promisify(execFile);
    const tsx = join(root, "node_modules/.bin/tsx");
    const entry = join(root, "operator/src/cli/main.ts");
    for (const flag of ["-f", "--filename", "--file"]) {
      const { stdout } = await exec(tsx, [entry, "plan", "--from", example("olares.yaml"), flag, example("olares-juicefs-minio.yaml")]);
      expect(stdout, flag).to.include("Storage switch LocalFS → JuiceFS");
    }
  });
});
