// `olares-operator validate -f FILE`: exit codes and `field: rule` output, in-process and as a real process.
import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Command } from "commander";
import { registerValidateCommand, validateText } from "../../operator/src/cli/validate.js";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const examples = readdirSync(join(repo, "examples")).filter((f) => /^olares.*\.yaml$/.test(f));

function run(text: string): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = validateText(text, "test.yaml", { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

const HEADER = "apiVersion: olares.com/v1alpha1\nkind: OlaresInstallation\n";

describe("validate CLI", () => {
  it("has the CR examples", () => {
    expect(examples).to.have.members([
      "olares.yaml",
      "olares-juicefs-minio.yaml",
      "olares-juicefs-s3.yaml",
      "olares-juicefs-oss.yaml",
      "olares-juicefs-cos.yaml",
      "olares-juicefs-external-metadata.yaml",
      "olares-gpu.yaml",
    ]);
  });

  for (const example of examples) {
    it(`accepts examples/${example}`, async () => {
      const { readFile } = await import("node:fs/promises");
      const result = run(await readFile(join(repo, "examples", example), "utf8"));
      expect(result).to.deep.equal({ code: 0, out: ["olares: valid"], err: [] });
    });
  }

  it("lists every problem as `field: rule` and exits 1", () => {
    const result = run(`${HEADER}metadata: {name: home}\nspec:\n  version: "1.12"\n  owner: {username: alice}\n  storage: {type: JuiceFS}\n`);
    expect(result.code).to.equal(1);
    expect(result.out).to.deep.equal([]);
    expect(result.err[0]).to.equal("home: invalid (2 problems)");
    expect(result.err[1]).to.match(/^ {2}spec\.version: Invalid value: "1\.12": spec\.version in body should match/);
    expect(result.err[2]).to.equal("  spec.storage.juicefs: Required value: storage.juicefs with an objectStore is required when storage.type is JuiceFS");
  });

  it("validates every document of a multi-document file and skips other kinds", () => {
    const good = `${HEADER}metadata: {name: a}\nspec: {version: "1.12.1", owner: {username: alice}}\n`;
    const bad = `${HEADER}metadata: {name: b}\nspec: {version: "1.12.1", owner: {username: Bob}}\n`;
    const result = run(`${good}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: c}\nspec: {replicas: 1}\n---\n${bad}---\n`);
    expect(result.code).to.equal(1);
    expect(result.out).to.deep.equal(["document 1 (a): valid"]);
    expect(result.err[0]).to.equal("test.yaml: document 2: Deployment is not an OlaresInstallation, skipped");
    expect(result.err[1]).to.equal("document 3 (b): invalid (1 problem)");
  });

  it("checks keys of a referenced Secret in the same file", () => {
    const text = `apiVersion: v1\nkind: Secret\nmetadata: {name: s3, namespace: olares-operator}\nstringData: {AWS_ACCESS_KEY_ID: x}\n---\n${HEADER}metadata: {name: a}\nspec:\n  version: "1.12.1"\n  owner: {username: alice}\n  storage:\n    type: JuiceFS\n    juicefs:\n      objectStore: {type: S3, bucket: olares-data, region: us-east-1, credentialsSecretRef: {name: s3, namespace: olares-operator}}\n`;
    const result = run(text);
    expect(result.code).to.equal(1);
    expect(result.err).to.deep.equal([
      "a: invalid (1 problem)",
      '  spec.storage.juicefs.objectStore.credentialsSecretRef.secretAccessKeyKey: Invalid value: "AWS_SECRET_ACCESS_KEY": Secret s3 in this file has no such key',
    ]);
  });

  it("checks a document without a kind instead of skipping it", () => {
    const result = run(`metadata: {name: nokind}\nspec: {version: "1.12.1", owner: {username: alice}}\n`);
    expect(result.code).to.equal(1);
    expect(result.err).to.deep.equal([
      "nokind: invalid (2 problems)",
      "  apiVersion: Unsupported value: null: supported values: \"olares.com/v1alpha1\"",
      "  kind: Unsupported value: null: supported values: \"OlaresInstallation\"",
    ]);
  });

  it("fails on YAML errors and on files without an OlaresInstallation", () => {
    expect(run("spec: [unclosed\n").code).to.equal(1);
    expect(run("spec: [unclosed\n").err[0]).to.match(/^test\.yaml: document 1: invalid YAML: /);
    expect(run("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n").err.at(-1)).to.equal("test.yaml: no OlaresInstallation found");
  });

  it("reads standard input with -f - through commander", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const program = new Command("olares-operator").exitOverride();
    registerValidateCommand(program, {
      stdout: (l) => out.push(l),
      stderr: (l) => err.push(l),
      readStdin: () => `${HEADER}metadata: {name: piped}\nspec: {version: "1.12.1", owner: {username: alice}}\n`,
    });
    const previous = process.exitCode;
    await program.parseAsync(["node", "olares-operator", "validate", "-f", "-"]);
    expect(process.exitCode).to.equal(previous);
    expect(out).to.deep.equal(["piped: valid"]);
    expect(err).to.deep.equal([]);
  });

  describe("as a process", () => {
    const exec = promisify(execFile);
    const entry = join(repo, "test", "api", "fixtures", "validate-main.ts");
    const tsx = join(repo, "node_modules", ".bin", "tsx");

    it("exits 0 and prints `<name>: valid`", async () => {
      const { stdout } = await exec(tsx, [entry, "validate", "-f", join(repo, "examples", "olares.yaml")]);
      expect(stdout).to.equal("olares: valid\n");
    });

    it("exits 1 with the problems on stderr", async () => {
      const dir = mkdtempSync(join(tmpdir(), "olares-validate-"));
      const file = join(dir, "bad.yaml");
      writeFileSync(file, `${HEADER}metadata: {name: bad}\nspec: {version: "1.12.1", owner: {username: alice}, os: {dns: {nameservers: ["1.1.1.1; rm -rf /"]}}}\n`);
      let failure: { code?: number; stderr?: string } | undefined;
      try {
        await exec(tsx, [entry, "validate", "-f", file]);
      } catch (err) {
        failure = err as { code?: number; stderr?: string };
      }
      expect(failure?.code).to.equal(1);
      expect(failure?.stderr).to.include('spec.os.dns.nameservers[0]: Invalid value: "1.1.1.1; rm -rf /"');
    });
  });
});
