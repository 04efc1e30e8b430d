// The parallel copier in its own process, so a test can SIGKILL it in the middle of a copy. Usage:
//   tsx copy-child.ts <source> <destination>    (prints one JSON progress line per report, then "done")
import { createExecaExecutor } from "../../../operator/src/agent/host/exec.js";
import { createHost } from "../../../operator/src/agent/host/host.js";
import { syncTree } from "../../../operator/src/agent/storage/index.js";

const [source, destination] = process.argv.slice(2) as [string, string];
const host = createHost({ root: "/", mode: "direct", exec: createExecaExecutor() });
await syncTree(host, source, destination, { delete: true, onProgress: (p) => process.stdout.write(JSON.stringify(p) + "\n") });
process.stdout.write("done\n");
