// The typed host tasks a node config is made of: the union of every kind, its validation and its
// `plan` lines. To add a kind: a new file here (interface + HostTaskKindSpec), one line in HostTask
// and in HOST_TASK_KINDS below, and its agent module in agent/tasks/ (the registry there must cover
// every kind, or it does not compile).
import { DISRUPTIONS, type Disruption, type NodeConfig } from "../node-config.js";
import { binaryKind, type BinaryTask } from "./binary.js";
import { containerdMirrorsKind, type ContainerdMirrorsTask } from "./containerd-mirrors.js";
import { containerdNvidiaRuntimeKind, type ContainerdNvidiaRuntimeTask } from "./containerd-nvidia-runtime.js";
import { dropinKind, type DropinTask } from "./dropin.js";
import { fileKind, type FileTask } from "./file.js";
import { nvidiaDriverKind, type NvidiaDriverTask } from "./nvidia-driver.js";
import { nvidiaToolkitKind, type NvidiaToolkitTask } from "./nvidia-toolkit.js";
import { packagesAbsentKind, type PackagesAbsentTask } from "./packages-absent.js";
import { packagesKind, type PackagesTask } from "./packages.js";
import { resolvConfKind, type ResolvConfTask } from "./resolv-conf.js";
import { TASK_ID, type HostTaskKindSpec, type TaskChecker } from "./rules.js";
import { sshdKind, type SshdTask } from "./sshd.js";
import { swapKind, type SwapTask } from "./swap.js";
import { sysctlKind, type SysctlTask } from "./sysctl.js";
import { timesyncKind, type TimesyncTask } from "./timesync.js";
import { timezoneKind, type TimezoneTask } from "./timezone.js";
import { unitKind, type UnitTask } from "./unit.js";
import { juicefsRootfsKind, type JuiceFSRootfsTask } from "./juicefs-rootfs.js";
import { storageMigrationKind, type StorageMigrationTask } from "./storage-migration.js";
import { releaseComponentKind, type ReleaseComponentTask } from "./release-component.js";
import { imageImportKind, type ImageImportTask } from "./image-import.js";

export type HostTask =
  | FileTask
  | DropinTask
  | UnitTask
  | PackagesTask
  | PackagesAbsentTask
  | ResolvConfTask
  | TimesyncTask
  | SshdTask
  | SysctlTask
  | SwapTask
  | TimezoneTask
  | ContainerdMirrorsTask
  | ContainerdNvidiaRuntimeTask
  | BinaryTask
  | NvidiaDriverTask
  | NvidiaToolkitTask
  | JuiceFSRootfsTask
  | StorageMigrationTask
  | ReleaseComponentTask
  | ImageImportTask;

export type HostTaskKind = HostTask["kind"];

/** A NodeConfig whose tasks are the typed union. */
export type TypedNodeConfig = NodeConfig<HostTask>;

type KindMap = { [K in HostTaskKind]: HostTaskKindSpec<Extract<HostTask, { kind: K }>> };

/** Every kind, in the order `plan` documents them. */
export const HOST_TASK_KIND_SPECS: KindMap = {
  file: fileKind,
  dropin: dropinKind,
  unit: unitKind,
  packages: packagesKind,
  packagesAbsent: packagesAbsentKind,
  resolvConf: resolvConfKind,
  timesync: timesyncKind,
  sshd: sshdKind,
  sysctl: sysctlKind,
  swap: swapKind,
  timezone: timezoneKind,
  containerdMirrors: containerdMirrorsKind,
  containerdNvidiaRuntime: containerdNvidiaRuntimeKind,
  binary: binaryKind,
  nvidiaDriver: nvidiaDriverKind,
  nvidiaToolkit: nvidiaToolkitKind,
  juicefsRootfs: juicefsRootfsKind,
  storageMigration: storageMigrationKind,
  releaseComponent: releaseComponentKind,
  imageImport: imageImportKind,
};

export const HOST_TASK_KINDS: readonly HostTaskKind[] = Object.keys(HOST_TASK_KIND_SPECS) as HostTaskKind[];

function specFor(kind: unknown): HostTaskKindSpec<HostTask> | undefined {
  return typeof kind === "string" && Object.hasOwn(HOST_TASK_KIND_SPECS, kind)
    ? (HOST_TASK_KIND_SPECS[kind as HostTaskKind] as HostTaskKindSpec<HostTask>)
    : undefined;
}

function show(v: unknown): string {
  if (v === undefined) return "(unset)";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return JSON.stringify((s ?? String(v)).slice(0, 80));
}

/**
 * Every rule the agent relies on before a value reaches a command line or a file.
 * Returns one message per violation ("<task id>.<field>: <value> <rule>"); empty means valid.
 */
export function validateHostTask(task: HostTask): string[] {
  const errors: string[] = [];
  const t = task as unknown as Record<string, unknown>;
  const id = typeof t.id === "string" && TASK_ID.test(t.id) ? t.id : "task";
  const check: TaskChecker = {
    bad: (field, value, rule) => errors.push(`${id}.${field}: ${show(value)} ${rule}`),
    list(field, value, ok, rule, min, max) {
      if (!Array.isArray(value) || value.length < min || value.length > max) {
        this.bad(field, value, `must be a list of ${min} to ${max} entries`);
        return;
      }
      value.forEach((v, i) => {
        if (typeof v !== "string" || !ok(v)) this.bad(`${field}[${i}]`, v, rule);
      });
    },
  };

  if (typeof t.id !== "string" || !TASK_ID.test(t.id)) check.bad("id", t.id, "must match ^[a-z0-9][a-z0-9._/-]*$");
  if (typeof t.description !== "string" || /[\r\n]/.test(t.description)) check.bad("description", t.description, "must be one line of text");
  if (!DISRUPTIONS.includes(t.disruption as Disruption)) check.bad("disruption", t.disruption, `must be one of ${DISRUPTIONS.join(", ")}`);

  const spec = specFor(t.kind);
  if (spec) spec.validate(task, check);
  else check.bad("kind", t.kind, `must be one of ${HOST_TASK_KINDS.join(", ")}`);
  return errors;
}

/** Validates a whole task list: per-task rules plus unique ids and restartOnChange references. */
export function validateHostTasks(tasks: readonly HostTask[]): string[] {
  const errors = tasks.flatMap((t) => validateHostTask(t));
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) errors.push(`${t.id}.id: duplicate task id`);
    ids.add(t.id);
  }
  const installedBy = new Map<string, string>();
  for (const t of tasks) if (t.kind === "packages" && Array.isArray(t.names)) for (const n of t.names) installedBy.set(n.split("=")[0]!, t.id);
  for (const t of tasks) {
    if (t.kind !== "packagesAbsent" || !Array.isArray(t.names)) continue;
    for (const n of t.names) {
      const owner = installedBy.get(n);
      if (owner) errors.push(`${t.id}.names: ${JSON.stringify(n)} must not also be installed by task ${owner}`);
    }
  }
  for (const t of tasks) {
    if (t.kind !== "unit") continue;
    for (const ref of t.restartOnChange ?? []) {
      if (!ids.has(ref)) errors.push(`${t.id}.restartOnChange: ${JSON.stringify(ref)} is not a task id of this config`);
    }
  }
  return errors;
}

const DISRUPTION_NOTE: Record<Disruption, string> = {
  none: "",
  "restart-service": " [restarts a service]",
  drain: " [drains the node]",
  reboot: " [reboots the node]",
};

/** Human lines for `plan` and the agent's log: every file, unit, package, restart, drain and reboot a task causes. */
export function describeTask(task: HostTask): string[] {
  const head = `${task.id}: ${task.description}${DISRUPTION_NOTE[task.disruption] ?? ""}`;
  const lines = specFor(task.kind)?.describe(task) ?? [];
  return [head, ...lines.map((l) => `  ${l}`)];
}

export function describeNodeConfig(config: Omit<NodeConfig, "tasks"> & { tasks: HostTask[] }): string[] {
  const worst = config.tasks.some((t) => t.disruption === "reboot")
    ? "reboot"
    : config.tasks.some((t) => t.disruption === "drain")
      ? "drain"
      : config.tasks.some((t) => t.disruption === "restart-service")
        ? "restart-service"
        : "none";
  return [`node config ${config.id} (group ${config.group}, most disruptive change: ${worst})`, ...config.tasks.flatMap((t) => describeTask(t))];
}

export type { HostTaskKindSpec, TaskChecker } from "./rules.js";
export { ALLOWED_PATH_ROOTS, AGENT_STATE_DIR, HOST_PATHS, isAllowedPath } from "./paths.js";
export { ARCH_PLACEHOLDER, isUnpinnedDownloadUrl, type BinaryTask } from "./binary.js";
export { isNvidiaDriverVersion, type NvidiaDriverTask } from "./nvidia-driver.js";
export { isNvidiaToolkitVersion, type NvidiaToolkitTask } from "./nvidia-toolkit.js";
export type { FileOwner, FileTask } from "./file.js";
export type { DropinTask } from "./dropin.js";
export type { UnitTask } from "./unit.js";
export type { PackagesTask } from "./packages.js";
export type { PackagesAbsentTask } from "./packages-absent.js";
export type { ResolvConfTask } from "./resolv-conf.js";
export type { TimesyncTask } from "./timesync.js";
export type { SshdTask } from "./sshd.js";
export type { SysctlTask } from "./sysctl.js";
export type { SwapTask } from "./swap.js";
export type { TimezoneTask } from "./timezone.js";
export type { RegistryMirror, ContainerdMirrorsTask } from "./containerd-mirrors.js";
export type { ContainerdNvidiaRuntimeTask } from "./containerd-nvidia-runtime.js";
export type { JuiceFSRootfsTask } from "./juicefs-rootfs.js";
export type { StorageMigrationTask } from "./storage-migration.js";
export type { ReleaseComponentTask, ReleaseComponentInstall } from "./release-component.js";
export type { ImageImportTask, ReleaseImage } from "./image-import.js";
export { isMd5, type ReleaseFile, type ReleaseFileSource } from "./release-file.js";
