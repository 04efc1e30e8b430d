// The migration's record on the host: a root-owned 0600 JSON file next to the data, rewritten
// atomically at every step and progress tick, so an agent crash or a reboot resumes at the recorded step.
import type { Host } from "../host/types.js";
import type { StorageType } from "./layout.js";

import { STORAGE_MIGRATION_STEPS, type StorageMigrationPhase, type StorageMigrationStep } from "../../contract/index.js";

/** The steps as the layers share them (contract/storage-migration.ts). */
export const MIGRATION_STEPS = STORAGE_MIGRATION_STEPS;
export type MigrationStep = StorageMigrationStep;

/** Running: walking the steps; RollingBack: undoing; then one of the three ends. */
export type MigrationPhase = StorageMigrationPhase;

export interface MigrationProgress {
  files: number;
  bytes: number;
  totalFiles: number;
  totalBytes: number;
}

export interface StepRecord {
  step: MigrationStep | "Rollback";
  startedAt: string;
  finishedAt?: string;
  /** Attempts of this step (a resumed step counts again). */
  attempts: number;
  message?: string;
}

export interface MigrationState {
  version: 1;
  id: string;
  from: StorageType;
  to: StorageType;
  /** Hash of the non-secret plan; a different plan never resumes this record. */
  planHash: string;
  phase: MigrationPhase;
  step: MigrationStep;
  startedAt: string;
  updatedAt: string;
  finishedAt?: string;
  progress: MigrationProgress;
  /** pid of the copier (rsync) while it runs; a resumed agent stops an orphan before copying again. */
  copierPid?: number;
  /** Sub-steps of Swap already done (Swap resumes mid-way after a crash or reboot). */
  swapDone: string[];
  /** Whether the target filesystem shows holes (st_blocks), so the verifier can compare sparseness. */
  targetKeepsHoles?: boolean;
  /** Set when Quiesce ran and Resume has not: workloads are down. */
  quiesced: boolean;
  quiescedAt?: string;
  resumedAt?: string;
  /** Where the previous data is kept after Swap, and its size. */
  previous?: { type: StorageType; path: string; bytes: number; files: number };
  /** Why the migration stopped or is rolling back (never holds a secret). */
  message?: string;
  failedStep?: MigrationStep;
  history: StepRecord[];
}

export async function readMigrationState(host: Host, file: string): Promise<MigrationState | undefined> {
  const raw = await host.readText(file);
  if (raw === undefined) return undefined;
  const s = JSON.parse(raw) as MigrationState;
  if (s.version !== 1) throw new Error(`${file}: unknown migration state version ${String(s.version)}`);
  return s;
}

export async function writeMigrationState(host: Host, file: string, s: MigrationState): Promise<void> {
  s.updatedAt = new Date().toISOString();
  await host.writeFile(file, JSON.stringify(s, null, 2) + "\n", { mode: 0o600, owner: { uid: 0, gid: 0 } });
}

/** Percentage shown in status and `kubectl get olares`: steps weighted, copy progress inside Sync. */
export function migrationPercent(s: Pick<MigrationState, "step" | "phase" | "progress">): number {
  if (s.phase === "Succeeded") return 100;
  const weights: Record<MigrationStep, number> = { Precheck: 2, Prepare: 3, Sync: 60, Quiesce: 2, FinalSync: 10, Verify: 18, Swap: 3, Resume: 2 };
  let done = 0;
  for (const step of Object.keys(weights) as MigrationStep[]) {
    if (step === s.step) {
      const p = s.progress.totalBytes > 0 ? Math.min(1, s.progress.bytes / s.progress.totalBytes) : 0;
      if (step === "Sync" || step === "Verify") done += weights[step] * p;
      break;
    }
    done += weights[step];
  }
  return Math.min(99, Math.floor(done));
}
