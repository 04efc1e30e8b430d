// kind "storageMigration": move <root>/rootfs from one storage type to the other, losing nothing: the
// agent's engine walks Precheck → … → Resume, stopping at Quiesce and Resume until the controller has
// scaled the workloads (the gate on the Node). Applied means Succeeded; verify checks what serves
// <root>/rootfs now.
import type { HostTaskBase } from "../node-config.js";
import { STORAGE_MIGRATION_STEPS, type JuiceFSBackend, type StorageCredentialsRef, type StorageKind } from "../storage-migration.js";
import { describeBackend, isStorageRoot, validateBackend, validateCredentials } from "./storage-backend.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface StorageMigrationTask extends HostTaskBase {
  kind: "storageMigration";
  migrationId: string;
  root: string;
  from: StorageKind;
  to: StorageKind;
  /** primary (default): moves its tree, runs the managed services; worker: merges its tree into the shared volume, or copies the volume onto its disk. */
  role?: "primary" | "worker";
  backend: JuiceFSBackend;
  credentials: StorageCredentialsRef;
  /** Keep the old tree after Swap (rootfs.<type>.bak); false removes a kept local tree once Resume is done (a kept JuiceFS volume is never destroyed by the agent). */
  retainPreviousData: boolean;
}

const TYPES = ["LocalFS", "JuiceFS"];

export const storageMigrationKind: HostTaskKindSpec<StorageMigrationTask> = {
  kind: "storageMigration",
  validate(task, c) {
    if (typeof task.migrationId !== "string" || !/^[a-z0-9][a-z0-9-]{0,62}$/.test(task.migrationId)) c.bad("migrationId", task.migrationId, "must be a lowercase DNS label");
    if (!isStorageRoot(task.root)) c.bad("root", task.root, "must be a plain absolute path other than /");
    if (!TYPES.includes(task.from)) c.bad("from", task.from, "must be LocalFS or JuiceFS");
    if (!TYPES.includes(task.to)) c.bad("to", task.to, "must be LocalFS or JuiceFS");
    if (task.from === task.to) c.bad("to", task.to, "must differ from from");
    if (task.role !== undefined && task.role !== "primary" && task.role !== "worker") c.bad("role", task.role, "must be primary or worker");
    if (task.role === "worker" && (task.backend?.managedRedis || task.backend?.managedMinio)) c.bad("backend", "(managed services)", "must not run managed services on a worker node");
    validateBackend(task.backend, c);
    validateCredentials(task.credentials, c);
    if (typeof task.retainPreviousData !== "boolean") c.bad("retainPreviousData", task.retainPreviousData, "must be a boolean");
  },
  describe: (task) => task.role === "worker" && task.to === "JuiceFS" ? [
    `merge ${task.root}/rootfs into the shared JuiceFS volume ${task.backend.name}: Precheck (its paths must not collide with another node's) → Prepare → Sync → Verify → Swap`,
    `  after the primary's Swap, while the workloads are quiesced; one worker at a time`,
    `  old tree kept at ${task.root}/rootfs.local.bak${task.retainPreviousData ? "" : " until the switch is done, then removed"}`,
    `juicefs.service enabled, started: mount at ${task.root}/rootfs (metadata ${task.backend.metaUrl ?? "(URL from the Secret)"}); K3s drop-in`,
  ] : [
    `migrate ${task.root}/rootfs ${task.from} → ${task.to}: ${STORAGE_MIGRATION_STEPS.join(" → ")}`,
    `  Quiesce/Resume wait for the controller to scale the workloads using ${task.root}/rootfs`,
    `  old tree kept at ${task.root}/rootfs.${task.from === "LocalFS" ? "local" : "juicefs"}.bak${task.retainPreviousData || task.from === "JuiceFS" ? "" : " until Resume, then removed"}`,
    ...(task.to === "JuiceFS" ? describeBackend(task.root, task.backend, task.credentials) : [`juicefs.service stopped and disabled, K3s drop-in removed (volume ${task.backend.name} kept)`]),
  ],
};
