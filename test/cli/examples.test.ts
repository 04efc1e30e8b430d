// Every file in examples/ (in process: the validate and plan the CLI runs, offline): each
// OlaresInstallation validates and plans; a JuiceFS one plans the real JuiceFS host steps; no Secret value
// of an example reaches plan's output; a file without an installation is listed here with what it is.
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateText } from "../../operator/src/cli/validate.js";
import { runPlan } from "../../operator/src/cli/plan.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";

const root = join(import.meta.dirname, "../..");
const examplesDir = join(root, "examples");

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [relative(examplesDir, p)];
  });
}

/** Files with no OlaresInstallation in them, and what they are instead. */
const NOT_INSTALLATIONS: Record<string, string> = {
  "argocd/root-application.yaml": "Argo CD app-of-apps Application",
  "argocd/argocd-cm-patch.yaml": "argocd-cm patch with the health check",
  "argocd/health.lua": "the Argo CD health check",
  "argocd/apps/olares-crds.yaml": "Argo CD Application for crds/",
  "argocd/apps/olares-operator.yaml": "Argo CD Application for the chart",
  "argocd/apps/olares-installation.yaml": "Argo CD Application for examples/olares.yaml",
};

function planOf(file: string, output: "table" | "yaml" | "json", nodes = 1): { code: number; stdout: string; stderr: string } {
  let stdout = "";
  let stderr = "";
  const code = runPlan(
    { file: join(examplesDir, file), output, nodes, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE },
    { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readFile: (p) => readFileSync(p, "utf8") },
  );
  return { code, stdout, stderr };
}

const hasInstallation = (text: string) => parseAllDocuments(text).some((d) => (d.toJS() as { kind?: string } | null)?.kind === "OlaresInstallation");

describe("examples/: every file validates and plans (offline)", () => {
  const files = filesUnder(examplesDir).sort();

  it("finds the files, and every one without an installation is accounted for", () => {
    expect(files.length).to.be.greaterThan(10);
    const without = files.filter((f) => !f.endsWith(".yaml") || !hasInstallation(readFileSync(join(examplesDir, f), "utf8")));
    expect(without.sort()).to.deep.equal(Object.keys(NOT_INSTALLATIONS).sort());
  });

  for (const file of files.filter((f) => !(f in NOT_INSTALLATIONS))) {
    describe(file, () => {
      const text = readFileSync(join(examplesDir, file), "utf8");
      const juicefs = /type: JuiceFS/.test(text);
      const secretValues = parseAllDocuments(text)
        .map((d) => d.toJS() as { kind?: string; stringData?: Record<string, string> } | null)
        .filter((d) => d?.kind === "Secret")
        .flatMap((d) => Object.values(d!.stringData ?? {}));

      it("validate accepts it", () => {
        const out: string[] = [];
        const err: string[] = [];
        expect(validateText(text, file, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) }), err.join("\n")).to.equal(0);
        expect(out.every((l) => l.endsWith(": valid"))).to.equal(true);
      });

      it(`plan renders it${juicefs ? ", with the JuiceFS host steps on every node" : ""}`, () => {
        const table = planOf(file, "table", 2);
        expect(table.code, table.stderr).to.equal(0);
        expect(table.stdout).to.match(/stages: Prerequisites → NodeAgent → NodeConfig → ClusterDNS → Storage/);
        if (juicefs) {
          expect(table.stdout).to.include("Storage on node-1 (JuiceFS;");
          // A worker mounts the volume at the primary's InternalIP, which an offline plan does not know; plan says so.
          if (/type: (ManagedMinIO|ManagedRedis)/.test(text) || !/type: External/.test(text)) {
            expect(table.stdout).to.include("Storage on node-2: no JuiceFS mount in this plan — workers mount the shared volume at the managed Redis/MinIO on node-1's InternalIP");
          } else expect(table.stdout).to.include("Storage on node-2 (JuiceFS;");
          // The bucket as JuiceFS takes it: a full URL (a region-only S3/COS/OSS bucket gets the provider's host).
          expect(table.stdout).to.match(/juicefs volume [a-z0-9-]+: (minio|s3|oss|cos) https?:\/\/[a-z0-9.-]+(:\d+)?\/?[a-z0-9.-]*, metadata /);
          expect(table.stdout).to.include("unit juicefs.service enabled, started: mount at /olares/rootfs");
          expect(table.stdout).to.include("file /etc/systemd/system/k3s.service.d/10-olares-juicefs.conf (After=juicefs.service");
          expect(table.stdout).to.match(/juicefs volume [a-z0-9-]+: (minio|s3|oss|cos) /);
          if (/type: ManagedMinIO/.test(text)) expect(table.stdout).to.include("unit minio.service enabled, started");
          if (/type: External/.test(text)) expect(table.stdout).to.include("metadata (URL from the Secret)").and.not.include("redis-server.service");
          else expect(table.stdout).to.include("unit redis-server.service enabled, started");
        } else {
          expect(table.stdout).to.not.include("Storage on node-");
        }
      });

      if (secretValues.length > 0) {
        it("no Secret value of the file appears in plan's output (table, yaml, json)", () => {
          for (const format of ["table", "yaml", "json"] as const) {
            const out = planOf(file, format).stdout;
            for (const v of secretValues) expect(out, `${format} shows ${v}`).to.not.include(v);
          }
        });
      }
    });
  }
});
