// What the storage task kinds need beyond the host: the service manager, where the tools are, the
// secrets (read from the one named Secret when a task runs, never stored in a task or a file of ours
// other than the 0600 ones the units read), the workload gate and a progress sink.
import type { StorageCredentialsRef } from "../../contract/index.js";
import type { MigrationHooks, ServiceControl, WorkloadGate } from "./migration.js";
import type { Binaries, ServicePaths } from "./units.js";
import type { MergeGate } from "./worker-merge.js";

export interface StorageCredentials {
  metaPassword?: string;
  /** Whole external metadata URL (may carry a password). */
  metaUrl?: string;
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  minioRootPassword?: string;
}

export interface StorageTaskEnvironment {
  services: ServiceControl;
  binaries: Binaries;
  servicePaths: ServicePaths;
  credentials(ref: StorageCredentialsRef): Promise<StorageCredentials>;
  /** The controller's half of Quiesce/Resume for the running config. */
  gate: WorkloadGate;
  /** A worker's turn to merge its tree into the shared volume, and to switch (LocalFS → JuiceFS with workers). */
  mergeGate: MergeGate;
  hooks: MigrationHooks;
}
