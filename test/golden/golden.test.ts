// Golden files: `plan -o yaml` of every example and every input here. Regenerate deliberately with
// UPDATE_GOLDEN=1 npx mocha test/golden/golden.test.ts, then review the diff.
import { expect } from "chai";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { runPlan } from "../../operator/src/cli/plan.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";

const root = join(import.meta.dirname, "../..");
const inputs = [
  ...readdirSync(join(root, "examples")).filter((f) => f.endsWith(".yaml")).map((f) => join(root, "examples", f)),
  ...readdirSync(join(import.meta.dirname, "inputs")).filter((f) => f.endsWith(".yaml")).map((f) => join(import.meta.dirname, "inputs", f)),
];
const update = process.env.UPDATE_GOLDEN === "1";

function planYaml(file: string): string {
  let out = "";
  let err = "";
  const code = runPlan(
    { file, output: "yaml", nodes: 1, gpuNodes: 0, image: DEFAULT_OPERATOR_IMAGE },
    { stdout: (t) => (out += t), stderr: (t) => (err += t), readFile: (p) => readFileSync(p, "utf8") },
  );
  if (code !== 0) throw new Error(`plan ${file} failed: ${err}`);
  return out;
}

describe("golden plans", () => {
  for (const input of inputs) {
    const golden = join(import.meta.dirname, `${basename(input, ".yaml")}.yaml`);
    it(`${basename(input)} renders as ${basename(golden)}`, () => {
      const actual = planYaml(input);
      if (update) writeFileSync(golden, actual);
      expect(existsSync(golden), `${golden} missing: run with UPDATE_GOLDEN=1`).to.equal(true);
      expect(actual).to.equal(readFileSync(golden, "utf8"));
    });
  }
});
