// `npm run gen`: regenerates operator/src/api/types.generated.ts from the CRD.
// `npm run gen -- --check`: exits 1 when the file is stale, without writing it.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateTypes } from "./lib/crd-types.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const crdFile = join(root, "crds", "olares.com_olaresinstallations.yaml");
const typesFile = join(root, "operator", "src", "api", "types.generated.ts");

const code = await generateTypes(readFileSync(crdFile, "utf8"));
if (process.argv.includes("--check")) {
  const current = readFileSync(typesFile, "utf8");
  if (current !== code) {
    console.error(`${typesFile} is stale: run \`npm run gen\``);
    process.exitCode = 1;
  } else {
    console.log(`${typesFile} is current`);
  }
} else {
  writeFileSync(typesFile, code);
  console.log(`wrote ${typesFile}`);
}
