// The install steps of the Olares release, as data render produces and the controller runs in order:
// Helm releases, create-only objects (SystemEnv) and the user-env ConfigMap (created, or given the
// release's missing envs), each step optionally waiting for workloads of the steps before it.
import type { ChartRelease } from "../chart-release.js";
import type { KubeObject, ObjectRef } from "../objects.js";
import type { UserEnvFile } from "./system-env.js";

export interface WorkloadRef {
  kind: "Deployment" | "StatefulSet" | "DaemonSet";
  namespace: string;
  name: string;
}

/**
 * Which workloads an upgrader's enumerating step visits, as data: `kinds` in this order per namespace;
 * `namespaces` (absent: the whole cluster, one list per kind) then, with `userNamespaces`, `<prefix><user>`
 * for every iam.kubesphere.io User not being deleted, prefixes in order per user; a missing namespace is
 * skipped (logged). `labels` must all match; `name`: only that object; `skipHelmManaged`: a workload with
 * `app.kubernetes.io/managed-by: Helm` or a `meta.helm.sh/release-*` annotation is skipped (logged).
 */
export interface WorkloadQuery {
  kinds: Array<WorkloadRef["kind"]>;
  namespaces?: string[];
  userNamespaces?: string[];
  labels?: Record<string, string>;
  name?: string;
  skipHelmManaged?: boolean;
}

/**
 * What an enumerating step changes on each workload it visits (the pure function owning it is
 * render/releases/upgraders.ts): `nodeAffinityRequired` turns preferred node-affinity terms into
 * required ones (only when there is no required term yet), expression keys renamed per `renameKeys`;
 * `priorityClassName` sets the pod template's class where none is set.
 */
export type WorkloadChange = { kind: "nodeAffinityRequired"; renameKeys: Record<string, string> } | { kind: "priorityClassName"; value: string };

export type ReleaseStep =
  /** `context` prefixes a failure, e.g. "upgrading Olares 1.12.1 to 1.12.2". */
  | { kind: "chart"; release: ChartRelease; waitFor?: WorkloadRef[]; context?: string }
  /** Created when absent, never updated (ApplySystemEnv). */
  | { kind: "createOnly"; name: string; objects: KubeObject[] }
  /**
   * A JSON patch of `replace`/`add` ops sent only when the live object differs at one of their paths (as
   * olares-cli's PatchVelero patches the velero Deployment); a missing target waits.
   */
  | { kind: "jsonPatch"; name: string; target: ObjectRef; ops: Array<{ op: "replace" | "add"; path: string; value: unknown }> }
  /**
   * `kubectl set image <target> <container>=<image>` (an upgrader's step), sent only when the container's
   * image differs; `ifPresent`: a missing target is skipped (logged) instead of waited for.
   */
  | { kind: "setImage"; name: string; target: ObjectRef; container: string; image: string; ifPresent?: boolean }
  /**
   * An upgrader's clean-up: deletes every CustomResourceDefinition of `group` whose annotations carry all of
   * `annotations` (olares-cli's DeleteArgoProjV1alpha1CRDs); none left is a no-op (logged).
   */
  | { kind: "deleteCRDs"; name: string; group: string; annotations: Record<string, string> }
  /**
   * An upgrader's strategic-merge patch (olares-cli's client-go Patch), sent only when the live object does
   * not already carry it (containers matched by name; a null means the field is absent); `ifPresent`: a
   * missing target is skipped (logged) instead of waited for.
   */
  | { kind: "strategicPatch"; name: string; target: ObjectRef; patch: Record<string, unknown>; ifPresent?: boolean }
  /**
   * An upgrader's walk over workloads (olares-cli's PatchNodeAffinityToRequired, PatchWorkloadPriorityClassName):
   * each query in order, each workload it selects given `change` as a strategic-merge patch, sent only when
   * the change applies to the live object; none selected or none to change is a no-op (logged).
   */
  | { kind: "patchWorkloads"; name: string; select: WorkloadQuery[]; change: WorkloadChange }
  /** ConfigMap os-framework/user-env: created from the file, or the file's missing envs appended (1.12-era). */
  | { kind: "userEnv"; configMap: KubeObject; file: UserEnvFile }
  /**
   * Last: `helm uninstall` of every release this operator installed (its records carry our input label)
   * in `namespaces` that is not in `keep` (hami once gpu.enabled is false, an app set enabled: false).
   */
  | { kind: "pruneReleases"; namespaces: string[]; keep: Array<{ name: string; namespace: string }> };
