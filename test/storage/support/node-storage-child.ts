// The node agent's storage half — NodeStorage, as NodeAgent runs it — in its own process, talking to
// the cluster simulator's API server like the agent does, so a test can SIGKILL it mid-migration and
// start it again. Usage: tsx node-storage-child.ts <config.json>
//   config: { kubeconfig, nodeName, base, root, killAt? }   killAt: a step name; the process kills itself
//   as soon as the engine's record shows that step started (its first attempt); "<Step>:mid" as soon as
//   the record shows the step's copy or verify under way (some of its files done, not all).
import { readFileSync } from "node:fs";
import { createExecaExecutor } from "../../../operator/src/agent/host/exec.js";
import { createHost } from "../../../operator/src/agent/host/host.js";
import { NodeStorage } from "../../../operator/src/agent/storage/node-storage.js";
import { readMigrationState, storageLayout } from "../../../operator/src/agent/storage/index.js";
import { createClusterClient } from "../../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../../operator/src/kube/kubeconfig.js";
import type { Logger } from "../../../operator/src/contract/index.js";
import { UnitRunner } from "../../support/unit-runner.js";
import path from "node:path";

interface ChildConfig {
  kubeconfig: string;
  nodeName: string;
  /** The node's scratch base (unit files, env files, unit runner state). */
  base: string;
  root: string;
  binaries: { redisServer: string; minio: string; juicefs: string };
  killAt?: string;
}

const cfg = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as ChildConfig;
const line = (level: string) => (msg: string, meta?: Record<string, unknown>) => process.stderr.write(`${level} ${msg} ${meta ? JSON.stringify(meta) : ""}\n`);
const log: Logger = { info: line("info"), warn: line("warn"), error: line("error"), debug: () => {} };
const client = createClusterClient(loadKubeConfig(cfg.kubeconfig), { userAgent: "olares-node-agent" });
const host = createHost({ root: "/", mode: "direct", exec: createExecaExecutor() });
const paths = {
  unitDir: path.join(cfg.base, "etc/systemd/system"),
  k3sDropIn: path.join(cfg.base, "etc/systemd/system/k3s.service.d/10-olares-juicefs.conf"),
  minioEnv: path.join(cfg.base, "etc/default/minio"),
  juicefsEnv: path.join(cfg.base, "etc/olares/juicefs.env"),
};
const runner = new UnitRunner({ unitDir: paths.unitDir, stateDir: path.join(cfg.base, "run/units") });
const signal = new AbortController().signal;
const storage = new NodeStorage({
  client,
  host,
  nodeName: cfg.nodeName,
  log,
  signal,
  environment: { host, services: runner, binaries: cfg.binaries, servicePaths: paths, pollMs: 200 },
  event: (type, reason, message) => process.stderr.write(`event ${type} ${reason} ${message}\n`),
});

if (cfg.killAt) {
  const file = storageLayout(cfg.root).stateFile;
  setInterval(() => {
    void readMigrationState(host, file).then((s) => {
      const last = s?.history.at(-1);
      const [step, when] = cfg.killAt!.split(":");
      // "<Step>:mid": in the middle of the step's copy or verify (its progress recorded, not finished), whatever the attempt.
      const hit = when === "mid"
        ? s && s.phase === "Running" && s.step === step && s.progress.files > 0 && s.progress.files < s.progress.totalFiles
        : s && s.phase === "Running" && s.step === step && last?.step === step && last.attempts === 1;
      if (hit) {
        process.stdout.write(`killed at ${cfg.killAt} (${s!.progress.files} of ${s!.progress.totalFiles} files, ${s!.progress.bytes} bytes)\n`);
        process.kill(process.pid, "SIGKILL");
      }
    }, () => undefined);
  }, 20).unref();
}

// The agent's loop: the Node, read again and again; sync() starts (or resumes) the storage config.
for (;;) {
  const node = await client.get({ apiVersion: "v1", kind: "Node", name: cfg.nodeName }).catch(() => undefined);
  if (node) storage.sync(node);
  await new Promise((r) => setTimeout(r, 300));
}
