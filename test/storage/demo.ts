// `npm run demo -- --scenario storage-switch`: the live storage switch driven the way an admin does it,
// through the OlaresInstallation, on the cluster simulator: the chart's manifests, the real operator
// and node agent; the agent's storage engine works on this machine for real (redis-server from Debian,
// MinIO and JuiceFS built from their Go modules on first use, a real FUSE mount, rsync; systemd's part
// played by the unit runner from the unit files the agent wrote). Installs on LocalFS, writes data,
// `kubectl patch`es storage.type to JuiceFS, follows status.storage.migration, checks, patches back,
// checks, and ends with one line saying what was kept.
import { verifyTrees } from "../../operator/src/agent/storage/index.js";
import { explainNotReady, isReady, kubectlOk } from "../e2e/cluster.js";
import type { KObj } from "../sim/types.js";
import { StorageCluster } from "./support/cluster.js";
import { makeDataTree, treeChecksums } from "./support/data-tree.js";
import { storageTools } from "./support/tools.js";
import { applyWorkloads, workloadState } from "./support/workloads.js";

const JUICEFS = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { sizeMiB: 1024 } } };

export async function runStorageSwitchDemo(opts: { files?: number; bigMiB?: number } = {}): Promise<number> {
  const t0 = Date.now();
  const say = (m: string) => process.stdout.write(`${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s  ${m}\n`);
  say("storage tools: building or reusing JuiceFS and MinIO (first time only: several minutes on 2 cores)…");
  const tools = storageTools();
  say(`juicefs ${tools.juicefs}, minio ${tools.minio}, redis-server ${tools.redisServer}`);
  say("cluster simulator, the chart's manifests, the operator and one node agent…");
  const c = await StorageCluster.start();
  let follow: NodeJS.Timeout | undefined;
  try {
    await c.apply({ type: "LocalFS" });
    await c.waitFor(() => isReady(c.cr()), 180_000, () => `Ready on LocalFS: ${explainNotReady(c.cr())}`);
    say(`OlaresInstallation Ready on LocalFS (rootPath ${c.node.root})`);
    say("writing a data tree into <rootPath>/rootfs (symlinks, hard links, sparse files, xattrs, ACLs, odd names, a big file)…");
    const made = await makeDataTree(c.rootfs, { files: opts.files ?? 10_000, bigFiles: [(opts.bigMiB ?? 110) << 20] });
    say(`${made.entries} entries, ${made.bytes} bytes written`);
    const workloads = await applyWorkloads(c, c.rootfs);
    const replicas = workloadState(c, workloads);
    say(`workloads: ${[...replicas].map(([w, s]) => `${w}=${s.replicas}`).join(", ")} (the first two use the rootfs)`);
    const original = await treeChecksums(c.rootfs);

    let last = "";
    follow = setInterval(() => {
      const cr = c.cr();
      const m = cr?.status?.storage?.migration;
      const line = m ? `${cr!.status.phase}: ${m.from}→${m.to} ${m.phase} ${m.step ?? ""} ${m.progress ?? `${m.progressPercent}%`}` : String(cr?.status?.phase);
      const coarse = line.replace(/(\d+)%$/, (_, p: string) => `${Math.floor(Number(p) / 10) * 10}%`);
      if (coarse !== last) {
        last = coarse;
        say(line);
      }
    }, 100);
    follow.unref();

    const switchTo = async (storage: Record<string, unknown>, type: string): Promise<KObj> => {
      say(`kubectl patch olaresinstallation olares: spec.storage.type=${type}`);
      await c.patchStorage(storage);
      const cr = await c.waitFor(() => {
        const x = c.cr();
        const ready = (x?.status?.conditions as Array<{ type: string; status: string; observedGeneration?: number }> | undefined)?.find((k) => k.type === "StorageReady");
        return ready?.status === "True" && ready.observedGeneration === x!.metadata.generation && x!.status.storage?.activeType === type ? x : undefined;
      }, 20 * 60_000, () => `storage ${type}: ${explainNotReady(c.cr())}`);
      say(`storage is ${type}; previous data kept at ${cr.status.storage.previousData?.path} (${cr.status.storage.previousData?.bytes} bytes)`);
      const after = workloadState(c, workloads);
      say(`workloads: ${[...after].map(([w, s]) => `${w}=${s.replicas}`).join(", ")}`);
      return cr;
    };

    await switchTo(JUICEFS, "JuiceFS");
    const bak = `${c.node.root}/rootfs.local.bak`;
    const check1 = await verifyTrees(c.node.host, { hostPath: bak, localPath: bak }, { hostPath: c.rootfs, localPath: c.rootfs });
    say(`check on JuiceFS: ${check1.entries} entries compared with the kept LocalFS tree, ${check1.mismatchCount} differ`);
    process.stdout.write(await kubectlOk(c.kubeconfig, ["get", "olares"]));

    await switchTo({ type: "LocalFS" }, "LocalFS");
    const final = await treeChecksums(c.rootfs);
    let lost = 0;
    for (const [rel, sum] of original) if (final.get(rel) !== sum) lost++;
    say(`check on LocalFS: ${original.size} original entries compared by checksum, ${lost} lost or changed`);
    const events = c.events().filter((e) => String(e.reason).startsWith("StorageMigration")).length;
    say(`${events} storage migration Events recorded`);
    console.log(`storage switch LocalFS→JuiceFS→LocalFS: ${original.size} files, ${made.bytes} bytes, ${lost} lost`);
    return lost === 0 && check1.mismatchCount === 0 ? 0 : 1;
  } finally {
    if (follow) clearInterval(follow);
    await c.stop();
  }
}
