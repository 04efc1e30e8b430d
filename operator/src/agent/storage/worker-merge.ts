// A worker's part of LocalFS → JuiceFS on a cluster with more than one node. JuiceFS is one volume
// shared by every node, so each worker's own <root>/rootfs tree is merged into it — never over another
// node's data: the claims (entries at MERGE_CLAIM_DEPTH, non-directories above it) were checked for
// collisions across nodes at Precheck, and are checked again against the live volume before copying.
// Walk: Precheck → (Merge gate: the primary has swapped, workloads are quiesced, one worker at a time)
// Prepare (mount the volume at the staging path) → Sync (rsync -aHAX --numeric-ids of the claims, no
// deletions) → Verify (rsync --checksum dry run: nothing left to change) → (Swap gate: every worker has
// merged) → Swap (old tree kept as rootfs.local.bak, juicefs.service mounts the volume at rootfs, K3s
// drop-in). Recorded step by step in <root>/.storage-merge.json; an Abort before Swap leaves the node on
// its untouched local tree, a failure in Swap puts the local tree back.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Host } from "../host/types.js";
import { MERGE_CLAIM_DEPTH, WORKER_MERGE_STEPS, type StorageMigrationStep } from "../../contract/index.js";
import { formattedVolumeName, mountVolume, summary, unmountVolume, type JuiceFSVolume } from "./juicefs.js";
import { backupPath, storageLayout, type StorageLayout } from "./layout.js";
import { isJuiceFSMount, mountedFsType } from "./mounts.js";
import type { MigrationHooks, MigrationPlan, ServiceControl } from "./migration.js";
import { planHash } from "./migration.js";
import { probeRedis, parseRedisUrl } from "./redis-probe.js";
import { probeObjectStore } from "./s3.js";
import { readMigrationState, writeMigrationState, type MigrationState } from "./state.js";
import { treeTotals } from "./tree.js";
import { DEFAULT_BINARIES, DEFAULT_SERVICE_PATHS, JUICEFS_UNIT, renderJuiceFSEnv, renderJuiceFSUnit, renderK3sDropIn, type RenderedFile } from "./units.js";

/** The controller's answers at the worker's two gates. */
export interface MergeGate {
  /** Resolves "passed" when it is this worker's turn to merge, "abort" when the migration is called off. */
  merge(): Promise<"passed" | "abort">;
  /** Resolves "passed" once every worker has merged, "abort" when another node failed. */
  swap(): Promise<"passed" | "abort">;
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function mergeStateFile(root: string): string {
  return `${root}/.storage-merge.json`;
}

/** The tree's claims: entries at MERGE_CLAIM_DEPTH and non-directories above it (directories above it are shared namespace). */
export async function treeClaims(localRoot: string, depth = MERGE_CLAIM_DEPTH): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string, level: number): Promise<void> => {
    const entries = await fs.readdir(rel ? path.join(localRoot, rel) : localRoot, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (level === depth || !e.isDirectory()) out.push(p);
      else await walk(p, level + 1);
    }
  };
  await walk("", 1);
  return out;
}

export class WorkerMerge {
  readonly layout: StorageLayout;
  private state!: MigrationState;
  private readonly file: string;

  constructor(
    private readonly host: Host,
    private readonly plan: MigrationPlan,
    private readonly services: ServiceControl,
    private readonly gate: MergeGate,
    private readonly hooks: MigrationHooks = {},
  ) {
    if (plan.from !== "LocalFS" || plan.to !== "JuiceFS") throw new Error("a worker merges its tree only on the way to JuiceFS");
    this.layout = storageLayout(plan.root);
    this.file = mergeStateFile(plan.root);
  }

  private get volume(): JuiceFSVolume {
    return this.plan.juicefs;
  }

  private log(m: string): void {
    this.hooks.log?.(m);
  }

  private async save(): Promise<void> {
    await writeMigrationState(this.host, this.file, this.state);
  }

  /** Runs or resumes the walk to Succeeded, RolledBack or Failed. */
  async run(): Promise<MigrationState> {
    const existing = await readMigrationState(this.host, this.file);
    const hash = planHash(this.plan);
    if (existing && existing.id === this.plan.id && existing.planHash === hash) {
      this.state = existing;
      if (existing.phase !== "Running" && existing.phase !== "RollingBack") return existing;
      this.log(`resuming the merge into the shared volume at ${existing.step}`);
    } else {
      const now = new Date().toISOString();
      this.state = {
        version: 1, id: this.plan.id, from: "LocalFS", to: "JuiceFS", planHash: hash, phase: "Running", step: "Precheck",
        startedAt: now, updatedAt: now, progress: { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 }, swapDone: [], quiesced: false, history: [],
      };
      await this.host.mkdir(this.layout.root, 0o755);
      await this.save();
    }
    if (this.state.phase === "RollingBack") return this.rollback();
    const steps = WORKER_MERGE_STEPS;
    for (let i = steps.indexOf(this.state.step); i < steps.length; i++) {
      const step = steps[i]!;
      this.state.step = step;
      const last = this.state.history.at(-1);
      if (last && last.step === step && !last.finishedAt) last.attempts++;
      else this.state.history.push({ step, startedAt: new Date().toISOString(), attempts: 1 });
      await this.save();
      await this.hooks.onStep?.(step, this.state);
      try {
        const go = await this.runStep(step);
        if (go === "abort") {
          this.state.message = "another node failed; the migration was called off before this node switched";
          this.state.phase = "RollingBack";
          await this.save();
          return this.rollback();
        }
      } catch (e) {
        const message = `${step} failed: ${errMessage(e)}`;
        this.log(message);
        this.state.message = message;
        this.state.failedStep = step;
        this.state.history.at(-1)!.message = message;
        if (step === "Precheck") {
          this.state.phase = "Failed";
          this.state.finishedAt = new Date().toISOString();
          await this.save();
          return this.state;
        }
        this.state.phase = "RollingBack";
        await this.save();
        return this.rollback();
      }
      this.state.history.at(-1)!.finishedAt = new Date().toISOString();
      if (i + 1 < steps.length) this.state.step = steps[i + 1]!;
      await this.save();
    }
    this.state.phase = "Succeeded";
    this.state.finishedAt = new Date().toISOString();
    this.state.message = `merged ${this.state.progress.totalFiles} entries (${this.state.progress.totalBytes} bytes) into the shared volume; previous data kept at ${this.state.previous?.path ?? "-"}`;
    await this.save();
    return this.state;
  }

  private async runStep(step: StorageMigrationStep): Promise<"passed" | "abort"> {
    switch (step) {
      case "Precheck":
        await this.precheck();
        return "passed";
      case "Prepare":
        // Waits for its turn: the primary has swapped and the workloads are down.
        if ((await this.gate.merge()) === "abort") return "abort";
        await this.prepare();
        return "passed";
      case "Sync":
        await this.sync();
        return "passed";
      case "Verify":
        await this.verify();
        return "passed";
      case "Swap":
        if (!this.state.swapDone.length && (await this.gate.swap()) === "abort") return "abort";
        await this.swap();
        return "passed";
      default:
        throw new Error(`a worker merge has no step ${step}`);
    }
  }

  private async precheck(): Promise<void> {
    const l = this.layout;
    const st = await this.host.stat(l.rootfs);
    if (st && st.type !== "directory") throw new Error(`${l.rootfs} is not a directory`);
    if (!st) await this.host.mkdir(l.rootfs, 0o755);
    const fstype = await mountedFsType(this.host, l.rootfs);
    if (fstype === "fuse.juicefs") throw new Error(`${l.rootfs} is a JuiceFS mount already, not LocalFS`);
    const t = await treeTotals(this.host.hostPath(l.rootfs));
    this.state.progress = { files: 0, bytes: 0, totalFiles: t.files, totalBytes: t.bytes };
  }

  private async prepare(): Promise<void> {
    const l = this.layout;
    const meta = parseRedisUrl(this.volume.metaUrl);
    await probeRedis({ ...meta, password: this.volume.metaPassword ?? meta.password });
    await probeObjectStore(this.plan.objectStore);
    const name = await formattedVolumeName(this.host, this.volume);
    if (name !== this.volume.name) throw new Error(`the shared volume ${this.volume.name} is not formatted at ${this.volume.metaUrl} (found ${name ?? "none"}); the primary formats it`);
    await this.host.mkdir(l.juicefsDir, 0o700);
    await this.host.mkdir(this.volume.cacheDir ?? l.jfscache, 0o700);
    await this.writeFile(renderJuiceFSEnv(this.volume, this.plan.servicePaths ?? DEFAULT_SERVICE_PATHS));
    await mountVolume(this.host, this.plan.root, this.volume, l.staging);
  }

  /** The claims, checked against what the volume holds now (another node's data is never overwritten). */
  private async claims(): Promise<string[]> {
    const claims = await treeClaims(this.host.hostPath(this.layout.rootfs));
    return claims;
  }

  private async collisions(claims: readonly string[]): Promise<string[]> {
    const taken: string[] = [];
    for (const c of claims) {
      const parts = c.split("/");
      for (let i = 1; i <= parts.length; i++) {
        const p = parts.slice(0, i).join("/");
        const st = await this.host.stat(`${this.layout.staging}/${p}`);
        // Shared namespace directories above the claims are fine; anything at a claim, or a file on the way, collides.
        if (st && (i === parts.length || st.type !== "directory")) {
          taken.push(p);
          break;
        }
      }
    }
    return taken;
  }

  private rsync(extra: string[], list: string): string[] {
    return ["rsync", "-aHAX", "--numeric-ids", "-r", "--no-implied-dirs", `--files-from=${list}`, "--from0", ...extra, `${this.layout.rootfs}/`, `${this.layout.staging}/`];
  }

  private async writeList(claims: readonly string[]): Promise<string> {
    const list = `${this.layout.juicefsDir}/merge-claims.list`;
    await this.host.writeFile(list, claims.map((c) => `${c}\0`).join(""), { mode: 0o600, owner: { uid: 0, gid: 0 } });
    return list;
  }

  private async sync(): Promise<void> {
    const l = this.layout;
    if (!(await isJuiceFSMount(this.host, l.staging))) await mountVolume(this.host, this.plan.root, this.volume, l.staging);
    const claims = await this.claims();
    // A rerun after a crash finds its own copies: only claims recorded as copied may exist already.
    const own = new Set((this.state as { mergedClaims?: string[] }).mergedClaims ?? []);
    const taken = (await this.collisions(claims)).filter((p) => !own.has(p));
    if (taken.length) throw new Error(`path${taken.length > 1 ? "s" : ""} ${taken.slice(0, 5).map((p) => `${l.rootfs}/${p}`).join(", ")} already exist${taken.length > 1 ? "" : "s"} in the shared volume (another node's data); refusing to overwrite`);
    (this.state as { mergedClaims?: string[] }).mergedClaims = claims;
    await this.save();
    // Parents of the claims that the volume lacks, with this node's ownership and mode.
    for (const c of claims) {
      const parts = c.split("/");
      for (let i = 1; i < parts.length; i++) {
        const p = parts.slice(0, i).join("/");
        if (!(await this.host.exists(`${l.staging}/${p}`))) {
          const st = await fs.stat(this.host.hostPath(`${l.rootfs}/${p}`));
          await fs.mkdir(this.host.hostPath(`${l.staging}/${p}`), { mode: st.mode & 0o7777 });
          await fs.chown(this.host.hostPath(`${l.staging}/${p}`), st.uid, st.gid);
        }
      }
    }
    const list = await this.writeList(claims);
    const started = Date.now();
    await this.host.runChecked(this.rsync([], list), { timeoutMs: 24 * 60 * 60_000 });
    this.state.progress.files = this.state.progress.totalFiles;
    this.state.progress.bytes = this.state.progress.totalBytes;
    this.state.history.at(-1)!.message = `${claims.length} claims merged in ${Date.now() - started} ms`;
  }

  /** rsync's own comparison (content by checksum, mode, owner, times, links, ACLs, xattrs): nothing may be left to change. */
  private async differences(list: string): Promise<string[]> {
    const r = await this.host.runChecked(this.rsync(["--dry-run", "--checksum", "--itemize-changes", "--out-format=%i %n"], list), { timeoutMs: 24 * 60 * 60_000 });
    return r.stdout.split("\n").filter((line) => line.trim() !== "");
  }

  private async verify(): Promise<void> {
    const l = this.layout;
    if (!(await isJuiceFSMount(this.host, l.staging))) await mountVolume(this.host, this.plan.root, this.volume, l.staging);
    const claims = (this.state as { mergedClaims?: string[] }).mergedClaims ?? (await this.claims());
    const list = await this.writeList(claims);
    let diffs = await this.differences(list);
    if (diffs.length && diffs.every((d) => /^\.d\.\.t/.test(d))) {
      // FUSE can show a directory mtime from before rsync's last touch-up: apply metadata once more.
      await this.host.runChecked(this.rsync([], list));
      diffs = await this.differences(list);
    }
    if (diffs.length) throw new Error(`${diffs.length} entr${diffs.length === 1 ? "y differs" : "ies differ"} between ${l.rootfs} and the shared volume: ${diffs.slice(0, 5).join("; ")}`);
    const t = await treeTotals(this.host.hostPath(l.rootfs));
    this.state.progress = { files: t.files, bytes: t.bytes, totalFiles: t.files, totalBytes: t.bytes };
    this.state.history.at(-1)!.message = `${claims.length} claims (${t.files} entries, ${t.bytes} bytes) identical in the shared volume`;
  }

  private async writeFile(f: RenderedFile): Promise<boolean> {
    const current = await this.host.read(f.path);
    const st = await this.host.stat(f.path);
    if (current && current.equals(Buffer.from(f.content)) && st && st.mode === f.mode) return false;
    await this.host.writeFile(f.path, f.content, { mode: f.mode, owner: { uid: 0, gid: 0 } });
    return true;
  }

  private async swapStep(name: string, fn: () => Promise<void>): Promise<void> {
    if (this.state.swapDone.includes(name)) return;
    await fn();
    this.state.swapDone.push(name);
    await this.save();
    await this.hooks.onSwapStep?.(name, this.state);
  }

  private async swap(): Promise<void> {
    const l = this.layout;
    const bins = this.plan.binaries ?? { ...DEFAULT_BINARIES, juicefs: this.volume.binary };
    const paths = this.plan.servicePaths ?? DEFAULT_SERVICE_PATHS;
    const bak = backupPath(l.root, "LocalFS");
    await this.swapStep("unmount-staging", async () => {
      await unmountVolume(this.host, this.volume, l.staging);
      await this.host.removeEmptyDir(l.staging);
    });
    await this.swapStep("keep-old", async () => {
      if (await this.host.exists(bak)) await fs.rename(this.host.hostPath(bak), this.host.hostPath(`${bak}.${Date.now()}`));
      await fs.rename(this.host.hostPath(l.rootfs), this.host.hostPath(bak));
      await this.host.mkdir(l.rootfs, 0o755);
      const t = await treeTotals(this.host.hostPath(bak));
      this.state.previous = { type: "LocalFS", path: bak, bytes: t.bytes, files: t.files };
    });
    await this.swapStep("units", async () => {
      const changed = [
        await this.writeFile(renderJuiceFSEnv(this.volume, paths)),
        await this.writeFile(renderJuiceFSUnit(l.root, this.volume, bins, paths)),
        await this.writeFile(renderK3sDropIn(l.root, bins, paths)),
      ];
      if (changed.some(Boolean)) await this.services.daemonReload();
      await this.services.enable(JUICEFS_UNIT);
    });
    await this.swapStep("mount", async () => {
      if (!(await isJuiceFSMount(this.host, l.rootfs))) {
        if (await this.services.isActive(JUICEFS_UNIT)) await this.services.stop(JUICEFS_UNIT);
        await this.services.start(JUICEFS_UNIT);
      }
      for (let i = 0; !(await isJuiceFSMount(this.host, l.rootfs)); i++) {
        if (i > 120) throw new Error(`${JUICEFS_UNIT} did not mount ${l.rootfs} within 60 s`);
        await sleep(500);
      }
      await summary(this.host, this.volume, l.rootfs);
    });
  }

  /** Before Swap: unmount the staging path (the local tree was never touched). In Swap: the local tree back at rootfs. */
  private async rollback(): Promise<MigrationState> {
    const l = this.layout;
    this.state.history.push({ step: "Rollback", startedAt: new Date().toISOString(), attempts: 1 });
    await this.save();
    await this.hooks.onStep?.("Rollback", this.state);
    try {
      const paths = this.plan.servicePaths ?? DEFAULT_SERVICE_PATHS;
      if (this.state.swapDone.length) {
        const bak = backupPath(l.root, "LocalFS");
        await this.services.stop(JUICEFS_UNIT);
        await this.services.disable(JUICEFS_UNIT);
        await unmountVolume(this.host, this.volume, l.rootfs);
        await this.host.remove(paths.k3sDropIn);
        await this.services.daemonReload();
        if (this.state.swapDone.includes("keep-old")) {
          await this.host.removeEmptyDir(l.rootfs);
          if (await this.host.exists(l.rootfs)) throw new Error(`${l.rootfs} is not empty after unmounting JuiceFS; ${bak} left in place`);
          await fs.rename(this.host.hostPath(bak), this.host.hostPath(l.rootfs));
        }
        this.state.previous = undefined;
      }
      await unmountVolume(this.host, this.volume, l.staging);
      await this.host.removeEmptyDir(l.staging);
      this.state.swapDone = [];
      this.state.phase = "RolledBack";
      this.state.message = `rolled back to LocalFS: ${this.state.message ?? "no reason recorded"}`;
    } catch (e) {
      this.state.phase = "Failed";
      this.state.message = `rollback failed (${errMessage(e)}) after: ${this.state.message ?? ""}`;
    }
    this.state.history.at(-1)!.finishedAt = new Date().toISOString();
    this.state.finishedAt = new Date().toISOString();
    await this.save();
    return this.state;
  }
}
