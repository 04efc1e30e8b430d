// `olares-operator` is on PATH the ways the docs use it: `npx olares-operator …` after `npm ci` (npm's
// prepare builds dist/, which the bin points at) and in the image (a symlink beside the ENTRYPOINT);
// NOTES.txt and bootstrap/README.md show commands that work.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

describe("olares-operator on PATH", () => {
  const pkg = JSON.parse(read("package.json")) as { bin: Record<string, string>; scripts: Record<string, string> };

  it("npm ci builds the bin's target (prepare), so npx olares-operator works in a checkout", () => {
    expect(pkg.bin["olares-operator"]).to.equal("dist/operator/src/cli/main.js");
    expect(pkg.scripts.prepare).to.equal("tsc -p tsconfig.build.json");
    expect(read("tsconfig.json")).to.match(/"outDir":\s*"(\.\/)?dist"/);
    expect(read("operator/src/cli/main.ts").startsWith("#!/usr/bin/env node\n")).to.equal(true);
  });

  it("the image puts it on PATH, pointing at the ENTRYPOINT's script", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).to.include("ln -s /app/dist/operator/src/cli/main.js /usr/local/bin/olares-operator");
    expect(dockerfile).to.include('ENTRYPOINT ["node", "/app/dist/operator/src/cli/main.js"]');
  });

  it("NOTES.txt and bootstrap/README.md use a command that exists where they run it", () => {
    const notes = read("charts/olares-operator/templates/NOTES.txt");
    expect(notes).to.match(/kubectl -n \{\{ \.Release\.Namespace \}\} exec -i deploy\/\{\{ include "olares-operator\.fullname" \. \}\} -- olares-operator plan -f - < olares\.yaml/);
    expect(notes).to.not.match(/`olares-operator plan/);
    const readme = read("bootstrap/README.md");
    expect(readme).to.include("exec -i deploy/olares-operator -- olares-operator validate -f -");
    expect(readme).to.include("npx olares-operator validate -f -");
  });
});
