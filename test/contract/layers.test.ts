// The import rules that keep the layers apart: contract/ depends on nothing, render/ never reaches the
// host or the API server, the controller never reaches into the agent, kube/ never into render/, and no
// layer imports another layer's internals (only its public entry file).
import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../operator/src");

type Layer = "contract" | "api" | "render" | "controller" | "kube" | "agent" | "cli" | "helm";

/** Which layers each layer may import, and through which files ("*" = any file of that layer). */
const ALLOWED: Record<Layer, Partial<Record<Layer, readonly string[]>>> = {
  contract: {},
  api: { contract: ["*"] },
  render: { contract: ["*"], api: ["api/index.ts"] },
  kube: { contract: ["*"] },
  helm: { contract: ["*"], kube: ["*"] },
  controller: { contract: ["*"], api: ["api/index.ts"], render: ["render/index.ts"], kube: ["*"], helm: ["*"] },
  agent: { contract: ["*"], kube: ["*"] },
  cli: { contract: ["*"], api: ["*"], render: ["*"], controller: ["*"], kube: ["*"], agent: ["*"], helm: ["*"] },
};

/** npm packages a layer may use: contract/ none (dependency-free), render/ only pure data libraries. */
const PACKAGES: Partial<Record<Layer, readonly string[]>> = {
  contract: [],
  render: ["ts-deepmerge", "yaml"],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith(".ts") ? [path] : [];
  });
}

function specifiers(source: string): string[] {
  const out: string[] = [];
  const re = /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g;
  for (const m of source.matchAll(re)) out.push((m[1] ?? m[2] ?? m[3])!);
  return out;
}

function layerOf(path: string): Layer | undefined {
  const top = relative(SRC, path).split("/")[0] as Layer;
  return top in ALLOWED ? top : undefined;
}

interface Violation {
  file: string;
  imports: string;
  rule: string;
}

function violations(): Violation[] {
  const out: Violation[] = [];
  for (const file of files(SRC)) {
    const from = layerOf(file);
    if (!from) continue;
    const rel = relative(SRC, file);
    for (const spec of specifiers(readFileSync(file, "utf8"))) {
      if (spec.startsWith(".")) {
        const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
        const to = layerOf(target);
        const targetRel = relative(SRC, target);
        if (!to) {
          out.push({ file: rel, imports: spec, rule: "imports outside operator/src's layers" });
          continue;
        }
        if (to === from) continue;
        const allowed = ALLOWED[from][to];
        if (!allowed) out.push({ file: rel, imports: targetRel, rule: `${from}/ must not import ${to}/` });
        else if (!allowed.includes("*") && !allowed.includes(targetRel)) {
          out.push({ file: rel, imports: targetRel, rule: `${from}/ may import ${to}/ only through ${allowed.join(", ")} (not its internals)` });
        }
      } else if (!spec.startsWith("node:")) {
        const pkgs = PACKAGES[from];
        const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
        if (pkgs && !pkgs.includes(pkg)) out.push({ file: rel, imports: spec, rule: `${from}/ may use only ${pkgs.length ? pkgs.join(", ") : "Node built-ins"}` });
      }
    }
  }
  return out;
}

describe("layer import rules (operator/src)", () => {
  it("finds the imports it checks (the scanner is not blind)", () => {
    const all = files(SRC).flatMap((f) => specifiers(readFileSync(f, "utf8")));
    expect(all.length).to.be.greaterThan(300);
    expect(specifiers(`import { a } from "./x.js";\nimport type { B } from "../y.js";\nexport * from "./z.js";\nconst m = await import("./w.js");`)).to.deep.equal([
      "./x.js",
      "../y.js",
      "./z.js",
      "./w.js",
    ]);
  });

  it("every layer imports only what its rules allow", () => {
    const found = violations().map((v) => `${v.file} imports ${v.imports}: ${v.rule}`);
    expect(found).to.deep.equal([]);
  });

  it("contract/ is dependency-free: Node built-ins and its own files only", () => {
    for (const file of files(join(SRC, "contract"))) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const ok = spec.startsWith("node:") || (spec.startsWith(".") && resolve(dirname(file), spec).startsWith(join(SRC, "contract")));
        expect(ok, `${relative(SRC, file)} imports ${spec}`).to.equal(true);
      }
    }
  });
});
