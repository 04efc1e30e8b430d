// The order `npm test` runs the test files in (.mocharc.cjs): the tiers that need no Go-built tool first,
// while hack/setup.sh builds those tools in the background; then each tool tier, in setup's build order,
// led by its build-wait file in test/tools/.
const fs = require("node:fs");
const path = require("node:path");

/** Tool tiers, in setup's build order: a test file is in the tier of the last-built tool whose module it
 * imports (directly or through support modules). */
const TOOL_TIERS = [
  { tool: "velero-tools", module: "hack/fixture-release/build.ts" },
  { tool: "storage-tools", module: "test/storage/support/tools.ts" },
  { tool: "controlplane", module: "test/support/controlplane.ts" },
  { tool: "containerd-tools", module: "test/release/containerd.ts" },
];

function testFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return testFiles(p);
    return e.name.endsWith(".test.ts") ? [p] : [];
  });
}

/** Every test-side module (test/, hack/) a file reaches through relative imports; operator sources are not followed. */
function reachable(file, seen = new Set()) {
  if (seen.has(file) || !(file.startsWith("test" + path.sep) || file.startsWith("hack" + path.sep)) || !fs.existsSync(file)) return seen;
  seen.add(file);
  for (const m of fs.readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
    reachable(path.normalize(path.join(path.dirname(file), m[1].replace(/\.js$/, ".ts"))), seen);
  }
  return seen;
}

function tierOf(file) {
  const modules = reachable(file);
  // the last-built tool it needs: a file waits for all of its tools
  return TOOL_TIERS.reduce((tier, t, i) => (modules.has(path.normalize(t.module)) ? i + 1 : tier), 0);
}

/** A test file's tier by name: "no Go-built tool" or the tool it waits for. */
const tierOfFile = (file) => { const t = tierOf(file); return t === 0 ? "no Go-built tool" : TOOL_TIERS[t - 1].tool; };

/** Files ordered by tier, then the tier's build-wait file (test/tools/) first, then by path. */
function orderedSpec() {
  return testFiles("test")
    .map((file) => ({ file, tier: tierOf(file), waits: file.startsWith(path.join("test", "tools") + path.sep) }))
    .sort((a, b) => a.tier - b.tier || Number(b.waits) - Number(a.waits) || a.file.localeCompare(b.file))
    .map((f) => f.file);
}

/** Whether mocha's positional arguments name files, directories or globs ("run these"). */
function namesFiles(argv) {
  return argv.some((a) => !a.startsWith("-") && (/[*?{]/.test(a) || /\.[cm]?[jt]s$/.test(a) || fs.existsSync(a)));
}

module.exports = { orderedSpec, namesFiles, tierOfFile, TOOL_TIERS };
