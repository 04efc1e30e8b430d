// `npm run demo -- --scenario storage-switch`: the live storage switch on one node with the real tools
// (redis-server from Debian, MinIO and JuiceFS built from their Go modules on first use, a real FUSE
// mount, rsync). Installs on LocalFS, writes data while writer processes keep writing, switches to
// JuiceFS, checks, switches back, checks, and ends with one line saying what was kept. This drives
// the node agent's storage engine directly: no Kubernetes here (systemd's part is played by the unit
// runner, which runs the ExecStartPre/ExecStart lines of the unit files the engine wrote).
import path from "node:path";
import {
  StorageMigration,
  backupPath,
  migrationPercent,
  verifyTrees,
  type MigrationHooks,
  type StorageType,
} from "../../operator/src/agent/storage/index.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { StorageNode } from "./support/env.js";
import { WriterWorkloads } from "./support/gate.js";
import { storageTools } from "./support/tools.js";

export async function runStorageSwitchDemo(opts: { files?: number; bigMiB?: number } = {}): Promise<number> {
  const t0 = Date.now();
  const say = (m: string) => process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${m}\n`);
  say("storage tools: building or reusing JuiceFS and MinIO (first time only: several minutes on 2 cores)…");
  const tools = storageTools();
  say(`juicefs ${tools.juicefs}, minio ${tools.minio}, redis-server ${tools.redisServer}`);
  const node = await StorageNode.create();
  const rootfs = path.join(node.root, "rootfs");
  let writers: WriterWorkloads | undefined;
  try {
    say(`node root ${node.root} on LocalFS; writing a data tree (symlinks, hard links, sparse files, xattrs, ACLs, odd names, a big file)…`);
    const made = await makeDataTree(rootfs, { files: opts.files ?? 10_000, bigFiles: [(opts.bigMiB ?? 110) << 20] });
    say(`${made.entries} entries, ${made.bytes} bytes written`);
    writers = new WriterWorkloads(path.join(node.base, "gate"), rootfs, 2);
    await writers.start();
    say("2 writer workloads running against the rootfs");
    const original = await (async () => {
      await writers.quiesce();
      const sums = await treeChecksums(rootfs);
      await writers.resume();
      return sums;
    })();

    const hooks = (label: string): MigrationHooks => {
      let last = -1;
      return {
        onStep: (step, s) => {
          say(`${label}: ${step}${step === "Rollback" ? `: ${s.message}` : ""}`);
        },
        onProgress: (s) => {
          const p = migrationPercent(s);
          if (p >= last + 10) {
            last = p;
            say(`${label}: Migrating ${p}% (${s.step}: ${s.progress.bytes} of ${s.progress.totalBytes} bytes)`);
          }
        },
        onSwapStep: (name) => {
          say(`${label}: Swap: ${name} done`);
        },
      };
    };
    const migrate = async (from: StorageType, to: StorageType) => {
      const s = await new StorageMigration(node.host, node.plan(from, to), node.runner, writers!, hooks(`${from}→${to}`)).run();
      if (s.phase !== "Succeeded") throw new Error(`${from} → ${to} ${s.phase}: ${s.message}`);
      const down = (Date.parse(s.resumedAt!) - Date.parse(s.quiescedAt!)) / 1000;
      say(`${from}→${to}: Succeeded; workloads were paused ${down.toFixed(1)} s; previous data kept at ${s.previous?.path}`);
      return s;
    };

    await migrate("LocalFS", "JuiceFS");
    await writers.quiesce();
    const bak = backupPath(node.root, "LocalFS");
    const check1 = await verifyTrees(node.host, { hostPath: bak, localPath: bak }, { hostPath: rootfs, localPath: rootfs });
    const diff1 = check1.mismatches.filter((m) => !m.path.startsWith("apps/writer-"));
    say(`check on JuiceFS: ${check1.entries} entries compared with the kept LocalFS tree, ${diff1.length} differ (writer files excluded: they kept writing)`);
    await writers.resume();
    say(`writers running: ${writers.running()} of 2`);

    await migrate("JuiceFS", "LocalFS");
    await writers.quiesce();
    const final = await treeChecksums(rootfs);
    let lost = 0;
    let files = 0;
    let bytes: number;
    for (const [rel, sum] of original) {
      if (rel.startsWith("apps/writer-")) continue;
      files++;
      if (final.get(rel) !== sum) lost++;
    }
    bytes = made.bytes;
    say(`check on LocalFS: ${files} original entries compared by checksum, ${lost} lost or changed; writers running ${writers.running() === 0 ? "paused for the check" : writers.running()}`);
    await writers.resume();
    console.log(`storage switch LocalFS→JuiceFS→LocalFS: ${files} files, ${bytes} bytes, ${lost} lost`);
    return lost === 0 && diff1.length === 0 ? 0 : 1;
  } finally {
    await writers?.stop();
    await node.cleanup();
  }
}
