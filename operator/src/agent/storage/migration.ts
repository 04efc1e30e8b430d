// The live storage switch on one node, LocalFS ⇄ JuiceFS: an explicit state machine
// Precheck → Prepare → Sync → Quiesce → FinalSync → Verify → Swap → Resume, recorded step by step in a
// root-owned state file so a crash or reboot resumes where it stopped. A failure before Swap returns to
// the old type (workloads resumed); a failure in or after Swap rolls back to the kept tree.
import { createHash } from "node:crypto";
import { promises as fs, statSync } from "node:fs";
import type { Host } from "../host/types.js";
import { copyTree, CopyError, syncTree, type CopyProgress, type CopyResult, type SourceHashes } from "./copier.js";
import { FileAttrs } from "./file-attrs.js";
import { formatVolume, mountVolume, rebindLoopbackBucket, summary, unmountVolume, type JuiceFSVolume } from "./juicefs.js";
import { backupPath, storageLayout, type StorageLayout, type StorageType } from "./layout.js";
import { isJuiceFSMount, mountedFsType } from "./mounts.js";
import { probeRedis, parseRedisUrl, type RedisTarget } from "./redis-probe.js";
import { probeObjectStore, type S3Target } from "./s3.js";
import { MIGRATION_STEPS, migrationPercent, readMigrationState, writeMigrationState, type MigrationState, type MigrationStep } from "./state.js";
import { SETTLE_NS, treeTotals } from "./tree.js";
import {
  DEFAULT_BINARIES,
  DEFAULT_SERVICE_PATHS,
  JUICEFS_UNIT,
  MINIO_UNIT,
  REDIS_UNIT,
  renderJuiceFSEnv,
  renderJuiceFSUnit,
  renderK3sDropIn,
  renderMinioEnv,
  renderMinioUnit,
  renderRedisConf,
  renderRedisUnit,
  type Binaries,
  type MinioConfig,
  type RedisConfig,
  type RenderedFile,
  type ServicePaths,
} from "./units.js";
import { describeMismatches, supportsHoles, verifyTrees, type VerifyBaseline, type VerifyReport } from "./verifier.js";

/** Starts and stops host units: systemd on a real host, the unit-file runner in tests. */
export interface ServiceControl {
  daemonReload(): Promise<void>;
  enable(unit: string): Promise<void>;
  disable(unit: string): Promise<void>;
  start(unit: string): Promise<void>;
  stop(unit: string): Promise<void>;
  isActive(unit: string): Promise<boolean>;
}

export function systemdServices(host: Host): ServiceControl {
  const s = host.systemd;
  return {
    daemonReload: () => s.daemonReload(),
    enable: (u) => s.enable(u),
    disable: (u) => s.disable(u),
    start: (u) => s.start(u),
    stop: (u) => s.stop(u),
    isActive: (u) => s.isActive(u),
  };
}

/** Scales the workloads using <root>/rootfs down and back up (the controller does it; tests use real writers). */
export interface WorkloadGate {
  quiesce(): Promise<void>;
  resume(): Promise<void>;
}

export interface MigrationHooks {
  /** Before each step runs (also on resume); Events are emitted from here. */
  onStep?(step: MigrationStep | "Rollback", state: Readonly<MigrationState>): void | Promise<void>;
  /** Copy or verify progress (throttled to about once a second). */
  onProgress?(state: Readonly<MigrationState>): void;
  /** After each Swap sub-step is recorded (unmount-staging, keep-old, units, mount, …). */
  onSwapStep?(name: string, state: Readonly<MigrationState>): void | Promise<void>;
  log?(message: string): void;
}

export interface ManagedServices {
  redis?: RedisConfig;
  minio?: MinioConfig & { bucket: string };
}

export interface MigrationPlan {
  /** Identifies this migration (e.g. from the installation's generation); a record with another id never resumes. */
  id: string;
  root: string;
  from: StorageType;
  to: StorageType;
  /** The JuiceFS side (target when to is JuiceFS, source when from is). */
  juicefs: JuiceFSVolume;
  /** Redis and/or MinIO the node runs for JuiceFS (absent parts are external). */
  managed: ManagedServices;
  /** The object store to probe (external, or the managed MinIO once up). */
  objectStore: S3Target;
  binaries?: Binaries;
  servicePaths?: ServicePaths;
  /** Free space needed on the local side as a multiple of the data (1.1, as olares-cli checks). */
  freeSpaceFactor?: number;
  /**
   * The copier: "parallel" (ours: many files in flight, hashes taken while copying, an online verify
   * at the end of Sync so the offline Verify re-reads only what changed since) or "rsync"
   * (rsync -aHAXS --numeric-ids, one file at a time, every file hashed offline). Default parallel;
   * rsync when the parallel copier cannot run here (no perl, an unknown architecture, a file name
   * that is not UTF-8).
   */
  copier?: "parallel" | "rsync";
  /** Sync attempts before giving up (a store that is briefly away). */
  syncAttempts?: number;
  retryDelayMs?: number;
}

export class MigrationError extends Error {
  constructor(
    readonly step: MigrationStep,
    message: string,
  ) {
    super(message);
    this.name = "MigrationError";
  }
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Hash of what defines the migration, secrets left out (they may rotate; the record never holds them). */
export function planHash(p: MigrationPlan): string {
  const { juicefs: j } = p;
  const shape = { root: p.root, from: p.from, to: p.to, name: j.name, meta: j.metaUrl, bucket: j.bucketUrl, storage: j.storage };
  return createHash("sha256").update(JSON.stringify(shape)).digest("hex").slice(0, 16);
}

export class StorageMigration {
  readonly layout: StorageLayout;
  private readonly bins: Binaries;
  private readonly paths: ServicePaths;
  private state!: MigrationState;
  private lastProgressWrite = 0;
  /** The last Verify report (tests and the bench read it). */
  lastVerify?: VerifyReport;
  /** The online verify at the end of Sync (parallel copier only). */
  lastOnlineVerify?: VerifyReport;
  /** The copier each copying step used. */
  readonly copiers: Partial<Record<"Sync" | "FinalSync", "parallel" | "rsync">> = {};
  /** Hashes of source files taken while copying (parallel copier). */
  private readonly sourceHashes: SourceHashes = new Map();
  /** Files the online verify found equal, with both fingerprints (in memory: a resumed agent verifies in full). */
  private baseline?: VerifyBaseline;
  private useRsync = false;
  /** When the online verify ended: FinalSync writes the destination no sooner than SETTLE_NS after. */
  private onlineVerifiedAt?: number;

  constructor(
    private readonly host: Host,
    private readonly plan: MigrationPlan,
    private readonly services: ServiceControl,
    private readonly gate: WorkloadGate,
    private readonly hooks: MigrationHooks = {},
  ) {
    if (plan.from === plan.to) throw new Error(`storage migration from ${plan.from} to ${plan.to}: nothing to migrate`);
    this.layout = storageLayout(plan.root);
    this.bins = plan.binaries ?? { ...DEFAULT_BINARIES, juicefs: plan.juicefs.binary };
    this.paths = plan.servicePaths ?? DEFAULT_SERVICE_PATHS;
  }

  private log(m: string): void {
    this.hooks.log?.(m);
  }

  /** The JuiceFS side is the target (LocalFS → JuiceFS) or the source (JuiceFS → LocalFS). */
  private get toJuiceFS(): boolean {
    return this.plan.to === "JuiceFS";
  }

  /**
   * Records the state. Step transitions must be recorded (`required`), or a resumed run could repeat
   * or skip work; progress ticks and the writes of a failure path are best effort (a full disk must
   * not stop the rollback that frees it).
   */
  private async save(required = true): Promise<void> {
    try {
      await writeMigrationState(this.host, this.layout.stateFile, this.state);
    } catch (e) {
      if (required) throw e;
      this.log(`could not record the migration state (${errMessage(e)}); continuing`);
    }
  }

  /** Runs (or resumes) the migration to its end: Succeeded, RolledBack or Failed. Never throws for a step failure. */
  async run(): Promise<MigrationState> {
    const existing = await readMigrationState(this.host, this.layout.stateFile);
    const hash = planHash(this.plan);
    const active = existing && (existing.phase === "Running" || existing.phase === "RollingBack");
    if (active && (existing.id !== this.plan.id || existing.planHash !== hash)) {
      throw new Error(
        `another storage migration (${existing.id}: ${existing.from} → ${existing.to}) is at step ${existing.step} on this node; it must finish or roll back first`,
      );
    }
    if (existing && existing.id === this.plan.id && existing.planHash === hash) {
      this.state = existing;
      if (!active) return existing;
      this.log(`resuming storage migration ${existing.id} at ${existing.phase === "RollingBack" ? "rollback" : existing.step}`);
    } else {
      const now = new Date().toISOString();
      this.state = {
        version: 1,
        id: this.plan.id,
        from: this.plan.from,
        to: this.plan.to,
        planHash: hash,
        phase: "Running",
        step: "Precheck",
        startedAt: now,
        updatedAt: now,
        progress: { files: 0, bytes: 0, totalFiles: 0, totalBytes: 0 },
        swapDone: [],
        quiesced: false,
        history: [],
      };
      await this.host.mkdir(this.layout.root, 0o755);
      await this.save();
    }
    if (this.state.phase === "RollingBack") return this.rollback();

    for (let i = MIGRATION_STEPS.indexOf(this.state.step); i < MIGRATION_STEPS.length; i++) {
      const step = MIGRATION_STEPS[i]!;
      this.state.step = step;
      const last = this.state.history.at(-1);
      if (last && last.step === step && !last.finishedAt) last.attempts++;
      else this.state.history.push({ step, startedAt: new Date().toISOString(), attempts: 1 });
      // A copying or verifying step counts from zero (not the previous step's totals) in what onStep reports.
      if (step === "Sync" || step === "FinalSync" || step === "Verify") this.state.progress = { ...this.state.progress, files: 0, bytes: 0 };
      await this.save();
      await this.hooks.onStep?.(step, this.state);
      try {
        await this.runStep(step);
      } catch (e) {
        const message = `${step} failed: ${errMessage(e)}`;
        this.log(message);
        this.state.history.at(-1)!.message = message;
        this.state.message = message;
        this.state.failedStep = step;
        if (step === "Precheck") {
          // Nothing has changed yet: stop here.
          this.state.phase = "Failed";
          this.state.finishedAt = new Date().toISOString();
          await this.save(false);
          return this.state;
        }
        this.state.phase = "RollingBack";
        await this.save(false);
        return this.rollback();
      }
      this.state.history.at(-1)!.finishedAt = new Date().toISOString();
      if (i + 1 < MIGRATION_STEPS.length) this.state.step = MIGRATION_STEPS[i + 1]!;
      await this.save();
    }
    this.state.phase = "Succeeded";
    this.state.finishedAt = new Date().toISOString();
    this.state.message = `${this.plan.from} → ${this.plan.to} done: ${this.state.progress.totalFiles} entries, ${this.state.progress.totalBytes} bytes; previous data kept at ${this.state.previous?.path ?? "-"}`;
    await this.save();
    return this.state;
  }

  private runStep(step: MigrationStep): Promise<void> {
    switch (step) {
      case "Precheck":
        return this.precheck();
      case "Prepare":
        return this.prepare();
      case "Sync":
        return this.sync(false);
      case "Quiesce":
        return this.quiesce();
      case "FinalSync":
        return this.sync(true);
      case "Verify":
        return this.verify();
      case "Swap":
        return this.swap();
      case "Resume":
        return this.resume();
    }
  }

  // Paths: the source is always <root>/rootfs; the new tree is built at the staging path.
  private get source(): string {
    return this.layout.rootfs;
  }
  private get target(): string {
    return this.layout.staging;
  }

  private async precheck(): Promise<void> {
    const l = this.layout;
    const st = await this.host.stat(l.rootfs);
    if (!st || st.type !== "directory") throw new MigrationError("Precheck", `${l.rootfs} is not a directory`);
    const fstype = await mountedFsType(this.host, l.rootfs);
    if (this.plan.from === "JuiceFS" && fstype !== "fuse.juicefs") {
      throw new MigrationError("Precheck", `${l.rootfs} should be a JuiceFS mount (storage is JuiceFS) but is ${fstype ?? "a plain directory"}`);
    }
    if (this.plan.from === "LocalFS" && fstype === "fuse.juicefs") throw new MigrationError("Precheck", `${l.rootfs} is a JuiceFS mount, not LocalFS`);
    if (this.toJuiceFS && (await isJuiceFSMount(this.host, l.staging)) === false && (await this.host.stat(l.staging))?.type === "file") {
      throw new MigrationError("Precheck", `${l.staging} exists and is not a directory`);
    }
    const totals = await treeTotals(this.host.hostPath(l.rootfs));
    this.state.progress = { files: 0, bytes: 0, totalFiles: totals.files, totalBytes: totals.bytes };

    // Free space on the local disk: the new tree (LocalFS target) or MinIO's volume (managed MinIO target).
    const needsLocalSpace = !this.toJuiceFS || this.plan.managed.minio !== undefined;
    if (needsLocalSpace) {
      const need = Math.ceil(Math.max(totals.allocatedBytes, this.toJuiceFS ? totals.allocatedBytes : totals.bytes) * (this.plan.freeSpaceFactor ?? 1.1));
      const where = this.toJuiceFS ? l.root : l.root;
      const sf = await fs.statfs(this.host.hostPath(where));
      const free = Number(sf.bavail) * Number(sf.bsize);
      if (free < need) {
        throw new MigrationError(
          "Precheck",
          `not enough free space on ${where}: ${free} bytes free, ${need} needed (${this.plan.freeSpaceFactor ?? 1.1}× the ${totals.allocatedBytes} bytes of ${l.rootfs})`,
        );
      }
    }
    // External services must answer before anything changes; managed ones are probed once Prepare starts them.
    // Both are probed and both failures reported at once.
    const failures: string[] = [];
    if (!this.plan.managed.redis || this.plan.from === "JuiceFS") await probeRedis(this.metaTarget()).catch((e: unknown) => failures.push(errMessage(e)));
    if (!this.plan.managed.minio || this.plan.from === "JuiceFS") await probeObjectStore(this.plan.objectStore).catch((e: unknown) => failures.push(errMessage(e)));
    if (failures.length > 0) throw new MigrationError("Precheck", failures.join("; "));
  }

  private metaTarget(): RedisTarget {
    const t = parseRedisUrl(this.plan.juicefs.metaUrl);
    return { ...t, password: this.plan.juicefs.metaPassword ?? t.password };
  }

  private async writeFile(f: RenderedFile, owner = { uid: 0, gid: 0 }): Promise<boolean> {
    const current = await this.host.read(f.path);
    const st = await this.host.stat(f.path);
    if (current && current.equals(Buffer.from(f.content)) && st && st.mode === f.mode) return false;
    await this.host.writeFile(f.path, f.content, { mode: f.mode, owner });
    return true;
  }

  /** Redis and MinIO as host units, started and probed; idempotent. */
  async ensureManagedServices(): Promise<void> {
    const { redis, minio } = this.plan.managed;
    const changed = { [REDIS_UNIT]: false, [MINIO_UNIT]: false };
    if (redis) {
      await this.host.mkdir(`${this.layout.redisDir}/etc`, 0o700);
      changed[REDIS_UNIT] = (await this.writeFile(renderRedisConf(this.plan.root, redis))) || changed[REDIS_UNIT];
      changed[REDIS_UNIT] = (await this.writeFile(renderRedisUnit(this.plan.root, this.bins, this.paths))) || changed[REDIS_UNIT];
    }
    if (minio) {
      await this.host.mkdir(this.layout.minioVolume, 0o700);
      changed[MINIO_UNIT] = (await this.writeFile(renderMinioEnv(this.plan.root, minio, this.paths))) || changed[MINIO_UNIT];
      changed[MINIO_UNIT] = (await this.writeFile(renderMinioUnit(this.bins, this.paths))) || changed[MINIO_UNIT];
    }
    if (changed[REDIS_UNIT] || changed[MINIO_UNIT]) await this.services.daemonReload();
    for (const [unit, on] of [
      [REDIS_UNIT, !!redis],
      [MINIO_UNIT, !!minio],
    ] as const) {
      if (!on) continue;
      await this.services.enable(unit);
      if (!(await this.services.isActive(unit))) await this.services.start(unit);
      else if (changed[unit]) {
        // A running service reads its config only at start: a new bind address (workers joining) needs a restart.
        this.log(`${unit}: its configuration changed; restarting it`);
        await this.services.stop(unit);
        await this.services.start(unit);
      }
    }
    if (redis) await this.retry("metadata engine", () => probeRedis(this.metaTarget()), 30);
    if (minio) await this.retry("object store", () => probeObjectStore(this.plan.objectStore, { createBucket: true }), 30);
  }

  private async retry(what: string, fn: () => Promise<void>, seconds: number): Promise<void> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      try {
        return await fn();
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`${what} did not come up within ${seconds}s: ${errMessage(e)}`);
        await sleep(500);
      }
    }
  }

  private async prepare(): Promise<void> {
    const l = this.layout;
    if (this.toJuiceFS) {
      await this.ensureManagedServices();
      await this.host.mkdir(`${l.root}/data/juicefs`, 0o700);
      await this.host.mkdir(l.jfscache, 0o700);
      await this.writeFile(renderJuiceFSEnv(this.plan.juicefs, this.paths));
      const r = await formatVolume(this.host, this.plan.juicefs);
      this.log(`JuiceFS volume ${this.plan.juicefs.name}: ${r}`);
      await mountVolume(this.host, this.plan.root, this.plan.juicefs, l.staging);
    } else {
      if (await isJuiceFSMount(this.host, l.staging)) await unmountVolume(this.host, this.plan.juicefs, l.staging);
      await this.host.mkdir(l.staging, 0o755);
    }
    // Probed before Sync, which then sets the staging root's mtime like the source's.
    this.state.targetKeepsHoles = await supportsHoles(this.host.hostPath(l.staging));
  }

  /** Stops an rsync a crashed agent left behind, so two copies never write one tree. */
  private async stopOrphanCopier(): Promise<void> {
    const pid = this.state.copierPid;
    if (!pid) return;
    const cmdline = (await this.host.read(`/proc/${pid}/cmdline`))?.toString("utf8") ?? "";
    if (cmdline.includes("rsync") && cmdline.includes(this.layout.staging)) {
      this.log(`stopping the copier left by an earlier run (pid ${pid})`);
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone already
      }
      for (let i = 0; i < 50 && (await this.host.exists(`/proc/${pid}/cmdline`)); i++) await sleep(100);
    }
    this.state.copierPid = undefined;
  }

  private async sync(final: boolean): Promise<void> {
    const step: MigrationStep = final ? "FinalSync" : "Sync";
    // The baseline trusts destination fingerprints however fresh their ctime: no write to the destination
    // may fall in the same clock tick as the online verify's reads (verifier: destinationQuietAfter).
    // (Sync already waited this out before handing over; this only guards a quicker path.)
    if (final && this.onlineVerifiedAt !== undefined) await sleep(Math.max(0, this.onlineVerifiedAt + Number(SETTLE_NS / 1_000_000n) - Date.now()));
    await this.stopOrphanCopier();
    await this.ensureTargetMounted();
    const attempts = final ? 2 : (this.plan.syncAttempts ?? 3);
    const totals = await treeTotals(this.host.hostPath(this.source));
    this.state.progress = { files: 0, bytes: 0, totalFiles: totals.files, totalBytes: totals.bytes };
    for (let attempt = 1; ; attempt++) {
      try {
        const { r, copier } = await this.copyOnce(final);
        this.copiers[step] = copier;
        this.state.copierPid = undefined;
        this.state.progress.files = this.state.progress.totalFiles;
        this.state.progress.bytes = this.state.progress.totalBytes;
        let note = `${r.filesTransferred} files, ${r.bytesTransferred} bytes copied; ${r.deleted} deleted; ${r.durationMs} ms (${copier})`;
        this.log(`${step}: ${r.filesTransferred} files (${r.bytesTransferred} bytes) copied, ${r.deleted} deleted in ${r.durationMs} ms by the ${copier} copier${r.vanished ? " (some files vanished while copying)" : ""}`);
        if (!final && copier === "parallel") note += `; ${await this.onlineVerify()}`;
        this.state.history.at(-1)!.message = note;
        return;
      } catch (e) {
        this.state.copierPid = undefined;
        const full = e instanceof CopyError && /No space left on device|Disk quota exceeded/.test(e.stderr);
        if (full) throw new MigrationError(step, `target ${this.target} is full: ${errMessage(e)}`);
        if (attempt >= attempts) throw e;
        this.log(`${step} attempt ${attempt} of ${attempts} failed (${errMessage(e)}); retrying`);
        await sleep((this.plan.retryDelayMs ?? 2000) * attempt);
      }
    }
  }

  /** One copy of the source into the target, by the parallel copier or rsync. */
  private async copyOnce(final: boolean): Promise<{ r: CopyResult; copier: "parallel" | "rsync" }> {
    if (this.plan.copier !== "rsync" && !this.useRsync) {
      let attrs: FileAttrs | undefined;
      try {
        attrs = await FileAttrs.start(8);
      } catch (e) {
        this.useRsync = true;
        this.log(`the parallel copier cannot run here (${errMessage(e)}); copying with rsync`);
      }
      if (attrs) {
        try {
          const r = await syncTree(this.host, this.source, this.target, { delete: true, attrs, hashes: this.sourceHashes, onProgress: (p) => this.progress(p) });
          return { r, copier: "parallel" };
        } catch (e) {
          if (!(e instanceof CopyError && /not valid UTF-8/.test(e.stderr))) throw e;
          this.useRsync = true;
          this.log(`${errMessage(e)}; copying with rsync`);
        } finally {
          await attrs.close();
        }
      }
    }
    const r = await copyTree(this.host, this.source, this.target, {
      delete: true,
      metadataPass: final,
      onStart: (pid) => {
        this.state.copierPid = pid;
        void this.save(false);
      },
      onProgress: (p) => this.progress(p),
    });
    return { r, copier: "rsync" };
  }

  /**
   * While Olares still runs: both trees compared in full, the source's hashes reused from the copy.
   * Files still changing differ here; that is expected (FinalSync carries them). What matched, with
   * both sides' fingerprints, is the baseline the offline Verify starts from.
   */
  private async onlineVerify(): Promise<string> {
    const src = { hostPath: this.source, localPath: this.host.hostPath(this.source) };
    const dst = { hostPath: this.target, localPath: this.host.hostPath(this.target) };
    const r = await verifyTrees(this.host, src, dst, { checkSparse: this.state.targetKeepsHoles ?? false, sourceHashes: this.sourceHashes, maxReported: 20, destinationQuietAfter: true });
    this.onlineVerifiedAt = Date.now();
    this.lastOnlineVerify = r;
    this.baseline = r.baseline;
    // Wait out SETTLE_NS here, while Olares still runs, rather than at the start of FinalSync, in the downtime.
    await sleep(Number(SETTLE_NS / 1_000_000n));
    const msg = `online verify: ${r.baseline?.size ?? 0} of ${r.files} files equal by content (${r.reusedSourceHashes ?? 0} source hashes reused), ${r.mismatchCount} difference(s) left for FinalSync, ${r.durationMs} ms`;
    this.log(`Sync: ${msg}`);
    return msg;
  }

  /** After a reboot the staging mount (or, on the way back, the rootfs mount) is gone: bring it back. */
  private async ensureTargetMounted(): Promise<void> {
    if (this.toJuiceFS && !(await isJuiceFSMount(this.host, this.target))) {
      await this.ensureManagedServices();
      await mountVolume(this.host, this.plan.root, this.plan.juicefs, this.target);
    }
    if (!this.toJuiceFS && !(await isJuiceFSMount(this.host, this.source))) await this.startRootfsMount();
  }

  private progress(p: CopyProgress): void {
    this.state.progress.bytes = Math.min(p.bytes, this.state.progress.totalBytes);
    if (p.total !== undefined && p.toCheck !== undefined) this.state.progress.files = p.total - p.toCheck;
    const now = Date.now();
    if (now - this.lastProgressWrite >= 1000) {
      this.lastProgressWrite = now;
      void this.save(false);
      this.hooks.onProgress?.(this.state);
    }
  }

  private async quiesce(): Promise<void> {
    this.state.quiesced = true;
    this.state.quiescedAt ??= new Date().toISOString();
    await this.save();
    await this.gate.quiesce();
  }

  private async verify(): Promise<void> {
    await this.ensureTargetMounted();
    // Sparseness is compared only where the target shows holes (JuiceFS keeps them but reports whole blocks).
    const targetHoles = this.state.targetKeepsHoles ?? false;
    const src = { hostPath: this.source, localPath: this.host.hostPath(this.source) };
    const dst = { hostPath: this.target, localPath: this.host.hostPath(this.target) };
    this.state.progress.files = 0;
    this.state.progress.bytes = 0;
    let report = await this.verifyOnce(src, dst, targetHoles);
    // A FUSE side can show a directory's mtime from before rsync's last touch-up (attribute caches):
    // when directory mtimes are all that differ, re-apply metadata once and compare again.
    const onlyDirMtimes = (r: VerifyReport) => r.mismatchCount > 0 && r.mismatchCount === r.mismatches.length && r.mismatches.every((m) => m.field === "mtime" && this.isDirectory(dst.localPath, m.path));
    if (onlyDirMtimes(report)) {
      this.log(`Verify: ${report.mismatchCount} directory mtime(s) differ; setting them from the source and comparing again`);
      for (const m of report.mismatches) {
        const rel = m.path === "." ? "" : `/${m.path}`;
        const ns = BigInt(m.source!);
        const stamp = `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, "0")}`;
        await this.host.runChecked(["touch", "--no-dereference", "-m", "-d", stamp, `${this.target}${rel}`]);
      }
      report = await this.verifyOnce(src, dst, targetHoles);
    }
    this.state.progress = { files: report.entries, bytes: report.bytes, totalFiles: report.entries, totalBytes: report.bytes };
    this.lastVerify = report;
    if (report.mismatchCount > 0) throw new MigrationError("Verify", describeMismatches(report));
    const reread = this.baseline ? `; content re-read for ${report.hashed ?? 0} file(s) changed since the online verify, ${report.unchangedSinceBaseline ?? 0} unchanged on both sides` : "; every file's content read";
    this.state.history.at(-1)!.message = `${report.entries} entries (${report.files} files, ${report.bytes} bytes) identical${reread}; ${report.durationMs} ms`;
  }

  private isDirectory(root: string, rel: string): boolean {
    try {
      return statSync(rel === "." ? root : `${root}/${rel}`).isDirectory();
    } catch {
      return false;
    }
  }

  private async verifyOnce(src: { hostPath: string; localPath: string }, dst: { hostPath: string; localPath: string }, targetHoles: boolean): Promise<VerifyReport> {
    this.state.progress.files = 0;
    this.state.progress.bytes = 0;
    return verifyTrees(this.host, src, dst, {
      checkSparse: targetHoles,
      // Every entry's metadata compared; content re-read only where a side changed since the online verify.
      baseline: this.baseline,
      sourceHashes: this.sourceHashes,
      onProgress: (p) => {
        this.state.progress.files = p.files;
        this.state.progress.bytes = p.bytes;
        const now = Date.now();
        if (now - this.lastProgressWrite >= 1000) {
          this.lastProgressWrite = now;
          void this.save(false);
          this.hooks.onProgress?.(this.state);
        }
      },
    });
  }

  private async swapStep(name: string, fn: () => Promise<void>): Promise<void> {
    if (this.state.swapDone.includes(name)) return;
    await fn();
    this.state.swapDone.push(name);
    await this.save();
    await this.hooks.onSwapStep?.(name, this.state);
  }

  private async juicefsUnits(): Promise<void> {
    const changed = [
      await this.writeFile(renderJuiceFSEnv(this.plan.juicefs, this.paths)),
      await this.writeFile(renderJuiceFSUnit(this.plan.root, this.plan.juicefs, this.bins, this.paths)),
      await this.writeFile(renderK3sDropIn(this.plan.root, this.bins, this.paths)),
    ];
    if (changed.some(Boolean)) await this.services.daemonReload();
    await this.services.enable(JUICEFS_UNIT);
  }

  private async startRootfsMount(): Promise<void> {
    if (!(await isJuiceFSMount(this.host, this.layout.rootfs))) {
      await this.ensureManagedServices();
      if (await this.services.isActive(JUICEFS_UNIT)) await this.services.stop(JUICEFS_UNIT);
      await this.services.start(JUICEFS_UNIT);
    }
    await this.retry(`${JUICEFS_UNIT} mount at ${this.layout.rootfs}`, async () => {
      if (!(await isJuiceFSMount(this.host, this.layout.rootfs))) throw new Error("not mounted yet");
    }, 60);
    await summary(this.host, this.plan.juicefs, this.layout.rootfs);
  }

  private async stopRootfsMount(): Promise<void> {
    await this.services.stop(JUICEFS_UNIT);
    await this.services.disable(JUICEFS_UNIT);
    await unmountVolume(this.host, this.plan.juicefs, this.layout.rootfs);
  }

  /** Moves an older kept tree aside (never deleted silently) so this swap can keep the current one. */
  private async keepAside(bak: string): Promise<void> {
    if (!(await this.host.exists(bak))) return;
    const aside = `${bak}.${Date.now()}`;
    this.log(`an older ${bak} exists: kept as ${aside}`);
    await fs.rename(this.host.hostPath(bak), this.host.hostPath(aside));
  }

  private async swap(): Promise<void> {
    const l = this.layout;
    if (this.toJuiceFS) {
      const bak = backupPath(l.root, "LocalFS");
      await this.swapStep("unmount-staging", () => unmountVolume(this.host, this.plan.juicefs, l.staging));
      await this.swapStep("keep-old", async () => {
        await this.keepAside(bak);
        await fs.rename(this.host.hostPath(l.rootfs), this.host.hostPath(bak));
        await this.host.mkdir(l.rootfs, 0o755);
        const t = await treeTotals(this.host.hostPath(bak));
        this.state.previous = { type: "LocalFS", path: bak, bytes: t.bytes, files: t.files };
      });
      await this.swapStep("units", () => this.juicefsUnits());
      await this.swapStep("mount", () => this.startRootfsMount());
    } else {
      await this.swapStep("stop-mount", () => this.stopRootfsMount());
      await this.swapStep("units", async () => {
        await this.host.remove(this.paths.k3sDropIn);
        await this.services.daemonReload();
      });
      await this.swapStep("keep-old", async () => {
        // The JuiceFS volume itself is the kept data; its empty mount point is renamed to say so.
        const bak = backupPath(l.root, "JuiceFS");
        await this.keepAside(bak);
        await fs.rename(this.host.hostPath(l.rootfs), this.host.hostPath(bak));
        const meta = this.plan.juicefs.metaUrl;
        this.state.previous = { type: "JuiceFS", path: `${bak} (mount point of JuiceFS volume ${this.plan.juicefs.name} at ${meta})`, bytes: this.state.progress.totalBytes, files: this.state.progress.totalFiles };
      });
      await this.swapStep("move-new", () => fs.rename(this.host.hostPath(l.staging), this.host.hostPath(l.rootfs)));
    }
    await this.swapStep("check", async () => {
      const t = await treeTotals(this.host.hostPath(l.rootfs));
      if (t.files + 1 !== this.state.progress.totalFiles) {
        throw new MigrationError("Swap", `${l.rootfs} holds ${t.files} entries after the swap, ${this.state.progress.totalFiles} were verified`);
      }
    });
  }

  private async resume(): Promise<void> {
    await this.gate.resume();
    this.state.quiesced = false;
    this.state.resumedAt = new Date().toISOString();
  }

  /** Back to the old type: before Swap by dropping the new tree; in/after Swap by restoring the kept one. */
  private async rollback(): Promise<MigrationState> {
    const l = this.layout;
    this.state.history.push({ step: "Rollback", startedAt: new Date().toISOString(), attempts: 1 });
    await this.save(false);
    await this.hooks.onStep?.("Rollback", this.state);
    try {
      await this.stopOrphanCopier();
      const swapped = this.state.swapDone.length > 0;
      if (this.toJuiceFS) {
        if (swapped) {
          const bak = backupPath(l.root, "LocalFS");
          await this.services.stop(JUICEFS_UNIT);
          await this.services.disable(JUICEFS_UNIT);
          await unmountVolume(this.host, this.plan.juicefs, l.rootfs);
          await this.host.remove(this.paths.k3sDropIn);
          await this.services.daemonReload();
          if (this.state.swapDone.includes("keep-old") || ((await this.host.exists(bak)) && !(await this.hasEntries(l.rootfs)))) {
            await this.host.removeEmptyDir(l.rootfs);
            if (await this.host.exists(l.rootfs)) throw new Error(`${l.rootfs} is not empty after unmounting JuiceFS; ${bak} left in place`);
            await fs.rename(this.host.hostPath(bak), this.host.hostPath(l.rootfs));
          }
          this.state.previous = undefined;
        }
        await unmountVolume(this.host, this.plan.juicefs, l.staging);
        await this.host.removeEmptyDir(l.staging);
      } else {
        if (swapped) {
          const bak = backupPath(l.root, "JuiceFS");
          if (this.state.swapDone.includes("move-new")) await fs.rename(this.host.hostPath(l.rootfs), this.host.hostPath(l.staging));
          if (this.state.swapDone.includes("keep-old")) await fs.rename(this.host.hostPath(bak), this.host.hostPath(l.rootfs));
          await this.host.mkdir(l.rootfs, 0o755);
          await this.juicefsUnits();
          await this.startRootfsMount();
          this.state.previous = undefined;
        }
        await this.host.runChecked(["rm", "-rf", "--one-file-system", l.staging], { timeoutMs: 60 * 60_000 });
      }
      this.state.swapDone = [];
      if (this.state.quiesced) {
        await this.gate.resume();
        this.state.quiesced = false;
        this.state.resumedAt = new Date().toISOString();
      }
      this.state.phase = "RolledBack";
      this.state.message = `rolled back to ${this.plan.from}: ${this.state.message ?? "no reason recorded"}`;
    } catch (e) {
      this.state.phase = "Failed";
      this.state.message = `rollback failed (${errMessage(e)}) after: ${this.state.message ?? ""}`;
    }
    this.state.history.at(-1)!.finishedAt = new Date().toISOString();
    this.state.finishedAt = new Date().toISOString();
    await this.save();
    return this.state;
  }

  private async hasEntries(dir: string): Promise<boolean> {
    try {
      return (await fs.readdir(this.host.hostPath(dir))).length > 0;
    } catch {
      return false;
    }
  }

  /**
   * A fresh install on JuiceFS (no data to move): probes, services, format, units and the rootfs mount,
   * in olares-cli's order. Refuses when <root>/rootfs already holds data (that is a migration).
   */
  async install(): Promise<void> {
    if (!this.toJuiceFS) throw new Error("install(): only a JuiceFS rootfs is installed this way");
    const l = this.layout;
    await this.host.mkdir(l.root, 0o755);
    if (!(await isJuiceFSMount(this.host, l.rootfs)) && (await this.hasEntries(l.rootfs))) {
      throw new Error(`${l.rootfs} already holds data on the local disk; switching it to JuiceFS is a migration, not an install`);
    }
    if (!this.plan.managed.redis) await probeRedis(this.metaTarget());
    if (!this.plan.managed.minio) await probeObjectStore(this.plan.objectStore);
    await this.ensureManagedServices();
    await this.host.mkdir(`${l.root}/data/juicefs`, 0o700);
    await this.host.mkdir(l.jfscache, 0o700);
    await this.host.mkdir(l.rootfs, 0o755);
    await this.writeFile(renderJuiceFSEnv(this.plan.juicefs, this.paths));
    if ((await formatVolume(this.host, this.plan.juicefs)) === "existing") {
      const old = await rebindLoopbackBucket(this.host, this.plan.juicefs);
      if (old) this.log(`volume ${this.plan.juicefs.name}: bucket ${old} → ${this.plan.juicefs.bucketUrl} (every node reaches the managed MinIO there)`);
    }
    await this.juicefsUnits();
    await this.startRootfsMount();
  }

  percent(): number {
    return migrationPercent(this.state);
  }
}

/** bucket URL http(s)://host[:port]/bucket → the probe's target. */
export function objectStoreFromBucketUrl(bucketUrl: string, credentials: S3Target["credentials"], region?: string): S3Target {
  const u = new URL(bucketUrl);
  const bucket = u.pathname.split("/").filter(Boolean)[0];
  if (bucket) return { endpoint: `${u.protocol}//${u.host}`, bucket, region, credentials };
  // Virtual-hosted style: bucket.s3.region.amazonaws.com
  const [first, ...rest] = u.hostname.split(".");
  return { endpoint: `${u.protocol}//${rest.join(".")}${u.port ? `:${u.port}` : ""}`, bucket: first!, region, credentials };
}
