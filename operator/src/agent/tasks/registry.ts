// Task kind → module.
import type { HostTask, HostTaskKind } from "../../contract/index.js";
import { binaryTask } from "./binary.js";
import { containerdMirrorsTask } from "./containerd-mirrors.js";
import { containerdNvidiaRuntimeTask } from "./containerd-nvidia.js";
import { dropinTask } from "./dropin.js";
import { fileTask } from "./file.js";
import { nvidiaDriverTask } from "./nvidia-driver.js";
import { nvidiaToolkitTask } from "./nvidia-toolkit.js";
import { packagesTask } from "./packages.js";
import { packagesAbsentTask } from "./packages-absent.js";
import { resolvConfTask } from "./resolv-conf.js";
import { sshdTask } from "./sshd.js";
import { swapTask } from "./swap.js";
import { sysctlTask } from "./sysctl.js";
import { timesyncTask } from "./timesync.js";
import { timezoneTask } from "./timezone.js";
import type { TaskModule } from "./types.js";
import { unitTask } from "./unit.js";
import { juicefsRootfsTask } from "./juicefs-rootfs.js";
import { storageMigrationTask } from "./storage-migration.js";
import { releaseComponentTask } from "./release-component.js";
import { imageImportTask } from "./image-import.js";

type ModuleMap = { [K in HostTaskKind]: TaskModule<Extract<HostTask, { kind: K }>> };

export const TASK_MODULES: ModuleMap = {
  file: fileTask,
  dropin: dropinTask,
  unit: unitTask,
  packages: packagesTask,
  packagesAbsent: packagesAbsentTask,
  resolvConf: resolvConfTask,
  timesync: timesyncTask,
  sshd: sshdTask,
  sysctl: sysctlTask,
  swap: swapTask,
  timezone: timezoneTask,
  containerdMirrors: containerdMirrorsTask,
  containerdNvidiaRuntime: containerdNvidiaRuntimeTask,
  binary: binaryTask,
  nvidiaDriver: nvidiaDriverTask,
  nvidiaToolkit: nvidiaToolkitTask,
  juicefsRootfs: juicefsRootfsTask,
  storageMigration: storageMigrationTask,
  releaseComponent: releaseComponentTask,
  imageImport: imageImportTask,
};

export function moduleFor<T extends HostTask>(task: T): TaskModule<T> {
  const mod = (TASK_MODULES as Record<string, TaskModule<HostTask> | undefined>)[task.kind];
  if (!mod) throw new Error(`${task.id}: unknown task kind ${JSON.stringify(task.kind)}`);
  return mod as TaskModule<T>;
}
