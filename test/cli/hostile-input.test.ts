// `validate` and `plan` on hostile files: one line `file: rule`, exit 1, never a stack trace; messages
// that name the wrong sysctl key, report each problem once and drop the "rules not checked" noise when
// another problem explains the failure; -f/--filename on both commands.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validateText } from "../../operator/src/cli/validate.js";

const ROOT = join(import.meta.dirname, "../..");
const TSX = join(ROOT, "node_modules/.bin/tsx");
const HEADER = "apiVersion: olares.com/v1alpha1\nkind: OlaresInstallation\nmetadata: {name: olares}\n";

function run(text: string) {
  const out: string[] = [];
  const err: string[] = [];
  const code = validateText(text, "f.yaml", { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

const selfAnchor = `${HEADER}spec: &s\n  version: "1.12.1"\n  owner: {username: alice}\n  os: {packages: *s}\n`;
const aliasBomb = ["a: &a [x,x,x,x,x,x,x,x,x]", ..."bcdefgh".split("").map((c, i) => `${c}: &${c} [${Array(9).fill(`*${"abcdefgh"[i]}`).join(",")}]`), "kind: OlaresInstallation"].join("\n");

describe("validate and plan on hostile YAML", () => {
  it("a self-referencing anchor: one line, exit 1", () => {
    const r = run(selfAnchor);
    expect(r.code).to.equal(1);
    expect(r.err).to.deep.equal(["f.yaml: document 1: a YAML alias refers to its own anchor (the document would be infinite)"]);
  });

  it("an alias bomb: one line, exit 1", () => {
    const r = run(aliasBomb);
    expect(r.code).to.equal(1);
    expect(r.err).to.have.length(1);
    expect(r.err[0]).to.match(/^f\.yaml: document 1: too many YAML aliases/);
  });

  for (const [name, text] of [["self-anchor", selfAnchor], ["alias bomb", aliasBomb], ["binary junk", "\u0000\u0001\u0002: ["]] as const) {
    it(`${name} through the real CLI (validate and plan): no stack trace, exit 1`, () => {
      const dir = mkdtempSync(join(tmpdir(), "hostile-"));
      try {
        const file = join(dir, "x.yaml");
        writeFileSync(file, text);
        for (const args of [["validate", "-f", file], ["plan", "-f", file], ["plan", "--filename", file]]) {
          const r = spawnSync(TSX, ["operator/src/cli/main.ts", ...args], { cwd: ROOT, encoding: "utf8" });
          expect(r.status, `${args.join(" ")}: ${r.stderr}`).to.equal(1);
          expect(r.stderr).to.not.match(/\n\s+at |TypeError|ReferenceError|RangeError/);
          expect(r.stderr.trim().split("\n").length, r.stderr).to.be.at.most(2);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it("names the wrong sysctl key, not only the map", () => {
    const r = run(`${HEADER}spec:\n  version: "1.12.1"\n  owner: {username: alice}\n  os: {sysctl: {"foo.bar": "1"}}\n`);
    expect(r.err.join("\n")).to.include('spec.os.sysctl["foo.bar"]');
  });

  it("no 'rules were not checked' noise when another problem explains it, and each problem once", () => {
    const r = run(`${HEADER}spec:\n  version: 1.12\n  owner: {username: alice}\n`);
    expect(r.code).to.equal(1);
    expect(r.err.join("\n")).to.not.include("some validation rules were not checked");
    const lines = r.err.filter((l) => l.startsWith("  "));
    expect(new Set(lines).size).to.equal(lines.length);
  });
});
