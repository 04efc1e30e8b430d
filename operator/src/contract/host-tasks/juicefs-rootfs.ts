// kind "juicefsRootfs": <root>/rootfs is a JuiceFS mount (fresh install, or the steady state after a
// migration): the managed Redis/MinIO units on the primary node, the volume formatted once, the
// juicefs unit and K3s's drop-in. Secrets come from the credentials Secret, never from the task.
import type { HostTaskBase } from "../node-config.js";
import type { JuiceFSBackend, StorageCredentialsRef } from "../storage-migration.js";
import { describeBackend, isStorageRoot, validateBackend, validateCredentials } from "./storage-backend.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface JuiceFSRootfsTask extends HostTaskBase {
  kind: "juicefsRootfs";
  root: string;
  /** primary formats the volume and runs the managed services; worker only mounts it. */
  role: "primary" | "worker";
  backend: JuiceFSBackend;
  credentials: StorageCredentialsRef;
}

export const juicefsRootfsKind: HostTaskKindSpec<JuiceFSRootfsTask> = {
  kind: "juicefsRootfs",
  validate(task, c) {
    if (!isStorageRoot(task.root)) c.bad("root", task.root, "must be a plain absolute path other than /");
    if (task.role !== "primary" && task.role !== "worker") c.bad("role", task.role, "must be primary or worker");
    validateBackend(task.backend, c);
    if (task.role === "worker" && (task.backend?.managedRedis || task.backend?.managedMinio)) c.bad("backend", "(managed services)", "must not run managed services on a worker node");
    validateCredentials(task.credentials, c);
  },
  describe: (task) => [`${task.root}/rootfs on JuiceFS (${task.role} node)`, ...describeBackend(task.root, task.backend, task.credentials)],
};
