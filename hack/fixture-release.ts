// Builds the fixture Olares release (see hack/fixture-release/build.ts) into the cache and prints its paths.
//   npx tsx hack/fixture-release.ts [--version 1.12.1] [--out DIR] [--force]
import { homedir } from "node:os";
import { join } from "node:path";
import { buildFixtureRelease } from "./fixture-release/build.js";
import { DEFAULT_FIXTURE_VERSION } from "./fixture-release/version.js";

const args = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const version = opt("--version") ?? DEFAULT_FIXTURE_VERSION;
const out = opt("--out") ?? process.env.OLARES_FIXTURE_DIR ?? join(homedir(), ".cache/olares-operator/fixture-release");
const rel = buildFixtureRelease(version, out, { force: args.includes("--force") });
process.stdout.write(
  [
    `fixture release v${rel.version}: ${rel.root}`,
    `  wizard   ${rel.tarball} (md5 ${rel.tarballMd5})`,
    `  cdn      ${rel.cdnDir}`,
    `  manifest ${rel.manifest.length} items (${rel.images.length} images)`,
    `  cluster  ${rel.kubesphereCrds}`,
  ].join("\n") + "\n",
);
