// The toolchain: mocha runs TypeScript through tsx (ESM, strict), and the operator's modules load that way.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { OPERATOR_VERSION } from "../../operator/src/cli/version.js";

describe("toolchain", () => {
  it("runs TypeScript tests through tsx and loads the operator's ESM modules", () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, "../../package.json"), "utf8")) as { version: string; type: string };
    expect(pkg.type).to.equal("module");
    expect(OPERATOR_VERSION).to.equal(pkg.version);
  });
});
