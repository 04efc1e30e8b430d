// The generated TypeScript types must match the CRD; regenerate with `npm run gen`.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { generateTypes } from "../../hack/lib/crd-types.js";
import { readCrdYaml } from "../../operator/src/api/crd.js";

describe("generated API types", () => {
  it("operator/src/api/types.generated.ts is current (run `npm run gen`)", async () => {
    const onDisk = readFileSync(fileURLToPath(new URL("../../operator/src/api/types.generated.ts", import.meta.url)), "utf8");
    const fresh = await generateTypes(readCrdYaml());
    expect(onDisk === fresh, "types.generated.ts is stale: run `npm run gen`").to.equal(true);
  });

  it("exports the stable names", async () => {
    const code = await generateTypes(readCrdYaml());
    for (const name of ["OlaresInstallation", "OlaresInstallationSpec", "OlaresInstallationStatus", "StorageSpec", "JuiceFSSpec", "ObjectStoreSpec", "GPUSpec", "OSSpec", "NodesSpec", "RolloutSpec", "Condition", "CoreServiceOverride"]) {
      expect(code).to.match(new RegExp(`export interface ${name} \\{`));
    }
    expect(code).to.include("maxUnavailable?: number | string;");
  });

  it("refuses an object without a registered type name", async () => {
    const yaml = readCrdYaml().replace("                    email:\n", "                    extra:\n                      type: object\n                      description: x\n                    email:\n");
    let error: unknown;
    try {
      await generateTypes(yaml);
    } catch (err) {
      error = err;
    }
    expect(String(error)).to.include('no type name for object at "spec.owner.extra"');
  });
});
