// The contract every host task module implements, and what applying a node config returns.
import type { HostTask, Logger } from "../../contract/index.js";
import type { Host } from "../host/types.js";
import type { StorageTaskEnvironment } from "../storage/environment.js";

/** What a task logs through: the operator-wide Logger, info and warnings only. */
export type TaskLog = Pick<Logger, "info" | "warn">;

export interface TaskContext {
  host: Host;
  /** Id of the node config being applied (the rollback backup scope). */
  configId: string;
  log: TaskLog;
  /** Ids of tasks that changed something earlier in this apply (for restartOnChange). */
  changed: ReadonlySet<string>;
  /** Set when the storage handshake runs the storage task kinds (services, secrets, workload gate). */
  storage?: StorageTaskEnvironment;
}

export interface CheckResult {
  upToDate: boolean;
  /** Human summary of what differs (shown in logs and the Degraded reason). */
  diff?: string;
}

/** A file the task owns, for drift detection: its expected sha256. */
export interface ManagedFile {
  path: string;
  sha256: string;
}

/** "original" undoes to the state before Olares (cleanup); a config id undoes one apply (rollback). */
export type UndoScope = string;

export interface TaskModule<T extends HostTask> {
  check(ctx: TaskContext, task: T): Promise<CheckResult>;
  apply(ctx: TaskContext, task: T): Promise<void>;
  /** Throws when the host does not look like the task says after apply. */
  verify(ctx: TaskContext, task: T): Promise<void>;
  undo(ctx: TaskContext, task: T, scope: UndoScope): Promise<void>;
  /** Files whose content the task fully determines, with the expected hash (drift detection). */
  managedFiles(ctx: TaskContext, task: T): Promise<ManagedFile[]>;
}

export interface ApplyOptions {
  allowReboot: boolean;
  log: TaskLog;
  /**
   * The config applied before this one. After a successful apply (and unless a reboot task is held
   * back), its tasks whose ids are gone from the new config are undone back to the pre-Olares state
   * (e.g. swap or mirrors removed from the spec), except what the new config still owns.
   */
  previous?: { id: string; tasks: HostTask[] };
}

export interface ApplyResult {
  /** Ids of tasks that changed the host. */
  changed: string[];
  /** A reboot task is pending: not applied (allowReboot false) or applied and waiting for the reboot. */
  rebootRequired: boolean;
  error?: { taskId: string; message: string };
  /** Ids of tasks undone after the error, in undo order. */
  rolledBack: string[];
  /** Ids of the previous config's tasks that were undone because the new config dropped them. */
  removed?: string[];
  /** Dropped tasks whose undo failed (the new config itself applied). */
  removeErrors?: Array<{ taskId: string; message: string }>;
}

export interface DriftEntry {
  taskId: string;
  path: string;
  message: string;
}
