// Storage figures with the real tools (redis-server, MinIO, JuiceFS FUSE, rsync) on one simulated node:
// migration throughput (copy + verify) against plain `rsync -a` of the same tree into the same JuiceFS
// mount, in one run; downtime (Quiesce → Resume) of a LocalFS → JuiceFS switch of 10k files / ~1 GB with
// 1% of the files changed during Sync; and what a no-op resync costs once migrated.
import { execa } from "execa";
import { promises as fs } from "node:fs";
import path from "node:path";
import {
  StorageMigration,
  copyTree,
  formatVolume,
  mountVolume,
  unmountVolume,
  verifyTrees,
  type MigrationState,
} from "../operator/src/agent/storage/index.js";
import { makeDataTree } from "../test/storage/support/data-tree.js";
import { StorageNode } from "../test/storage/support/env.js";
import { WriterWorkloads } from "../test/storage/support/gate.js";
import { invokedDirectly, runSections, type BenchSection, type Figure } from "./bench-report.js";

const FILES = 10_000;
/** ~1 GB in all: the small files (~45 MB) plus big ones. */
const BIG = [512 << 20, 448 << 20];

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const mbps = (bytes: number, ms: number) => (bytes / (1 << 20) / (ms / 1000)).toFixed(1);

async function totalBytes(dir: string): Promise<number> {
  const r = await execa("du", ["-sb", "--apparent-size", dir]);
  return Number(String(r.stdout).split(/\s/)[0]);
}

const throughput: BenchSection = {
  title: "storage: migration copy + verify vs plain rsync -a into the same JuiceFS mount (real JuiceFS 1.3.1 on MinIO + Redis, 1 node)",
  async run(): Promise<Figure[]> {
    const node = await StorageNode.create();
    try {
      const src = path.join(node.base, "src");
      await makeDataTree(src, { files: FILES, bigFiles: BIG });
      const bytes = await totalBytes(src);
      // The volume, services and a mount, exactly as Prepare makes them.
      const plan = node.plan("LocalFS", "JuiceFS");
      const m = new StorageMigration(node.host, plan, node.runner, { quiesce: async () => {}, resume: async () => {} });
      await m.ensureManagedServices();
      await formatVolume(node.host, plan.juicefs);
      const mnt = path.join(node.base, "mnt");
      await mountVolume(node.host, node.root, plan.juicefs, mnt);

      const t0 = performance.now();
      await execa("rsync", ["-a", `${src}/`, `${mnt}/plain/`]);
      const plainMs = performance.now() - t0;
      await fs.rm(path.join(mnt, "plain"), { recursive: true });

      const t1 = performance.now();
      const copied = await copyTree(node.host, src, path.join(mnt, "migrated"), { delete: true });
      const copyMs = performance.now() - t1;
      const t2 = performance.now();
      const v = await verifyTrees(node.host, { hostPath: src, localPath: src }, { hostPath: path.join(mnt, "migrated"), localPath: path.join(mnt, "migrated") });
      const verifyMs = performance.now() - t2;
      if (v.mismatchCount > 0) throw new Error(`verify found ${v.mismatchCount} mismatches`);
      const t3 = performance.now();
      const resync = await copyTree(node.host, src, path.join(mnt, "migrated"), { delete: true });
      const resyncMs = performance.now() - t3;
      await unmountVolume(node.host, plan.juicefs, mnt);
      const ratio = plainMs / (copyMs + verifyMs);
      return [
        { name: "tree", value: v.entries, unit: `entries, ${(bytes / (1 << 20)).toFixed(0)} MiB` },
        { name: "plain rsync -a", value: seconds(plainMs), unit: `s (${mbps(bytes, plainMs)} MiB/s)` },
        { name: "migration copy (rsync -aHAXS --numeric-ids)", value: seconds(copyMs), unit: `s (${copied.filesTransferred} files)` },
        { name: "migration verify (every file hashed, both sides)", value: seconds(verifyMs), unit: "s" },
        { name: "throughput ratio, copy+verify vs plain rsync", value: ratio.toFixed(2), unit: "×", target: "≥ 0.8", ok: ratio >= 0.8 },
        { name: "no-op resync of the migrated tree", value: resync.filesTransferred, unit: `files copied in ${seconds(resyncMs)} s`, target: "0 files", ok: resync.filesTransferred === 0 },
      ];
    } finally {
      await node.cleanup();
    }
  },
};

const downtime: BenchSection = {
  title: "storage: live LocalFS → JuiceFS switch, 10k files / ~1 GB, 1% changed during Sync (real tools, 1 node)",
  async run(): Promise<Figure[]> {
    const node = await StorageNode.create();
    let writers: WriterWorkloads | undefined;
    try {
      const rootfs = path.join(node.root, "rootfs");
      await makeDataTree(rootfs, { files: FILES, bigFiles: BIG });
      writers = new WriterWorkloads(path.join(node.base, "gate"), rootfs, 2);
      await writers.start();
      const all = (await execa("find", [rootfs, "-type", "f", "-name", "f*.bin"])).stdout.split("\n");
      const changed = all.filter((_, i) => i % 100 === 0);
      const plan = node.plan("LocalFS", "JuiceFS");
      const t0 = performance.now();
      const m = new StorageMigration(node.host, plan, node.runner, writers, {
        // Changes made while Sync ran and after it passed those files: the delta FinalSync must carry.
        onStep: async (step) => {
          if (step === "Quiesce") for (const f of changed) await fs.appendFile(f, "changed during sync\n");
        },
      });
      const s: MigrationState = await m.run();
      const totalMs = performance.now() - t0;
      if (s.phase !== "Succeeded") throw new Error(`migration ${s.phase}: ${s.message}`);
      const down = Date.parse(s.resumedAt!) - Date.parse(s.quiescedAt!);
      const stepMs = (name: string) => {
        const h = s.history.find((x) => x.step === name);
        return h?.finishedAt ? Date.parse(h.finishedAt) - Date.parse(h.startedAt) : 0;
      };
      // No-op resync: the same migration again is recognised as done; an rsync pass over the migrated tree copies nothing.
      const t1 = performance.now();
      const again = await new StorageMigration(node.host, plan, node.runner, writers).run();
      const rerunMs = performance.now() - t1;
      return [
        { name: "files changed during Sync", value: changed.length, unit: `of ${all.length} (1%)` },
        { name: "whole migration", value: seconds(totalMs), unit: "s" },
        { name: "Sync (online)", value: seconds(stepMs("Sync")), unit: "s" },
        { name: "FinalSync (offline)", value: seconds(stepMs("FinalSync")), unit: "s" },
        { name: "Verify (offline)", value: seconds(stepMs("Verify")), unit: "s" },
        { name: "Swap (offline)", value: seconds(stepMs("Swap")), unit: "s" },
        { name: "downtime, Quiesce → Resume", value: seconds(down), unit: "s" },
        { name: "no-op: the same migration again", value: rerunMs.toFixed(0), unit: `ms (phase ${again.phase}, nothing copied)`, target: "no copy", ok: again.phase === "Succeeded" },
      ];
    } finally {
      await writers?.stop();
      await node.cleanup();
    }
  },
};

export const STORAGE_SECTIONS: BenchSection[] = [throughput, downtime];

if (invokedDirectly(import.meta.url)) {
  const missed = await runSections(STORAGE_SECTIONS);
  process.exit(missed > 0 ? 1 : 0);
}
