// velero as Olares 1.12.1 installs it, after the apps (InstallVeleroModule, cli/pkg/terminus/velero.go@074882dd,
// cli/pkg/phase/cluster/linux.go@f5810a44): the manifest's `velero` CLI runs `velero install` with the
// installer's flags (create-only: CRDs first, then the rest; "already exists, proceeding"), then
// `velero backup-location create terminus-cloud` unless one labelled name=terminus-cloud exists, then
// PatchVelero's JSON patch of the Deployment (a hostPath for the backups, privileged). The operator runs
// the same CLI with --dry-run / -o yaml (it never reaches the API server) and applies what it prints
// with these steps. Pure: the CLI's output comes in as facts.
import type { DefaultedSpec } from "../../api/index.js";
import type { KubeObject, ReleaseStep, ReleaseVeleroFacts, WorkloadRef } from "../../contract/index.js";
import { rootOf } from "../stages/storage-plan.js";

export const VELERO_NAMESPACE = "os-framework";
export const VELERO_IMAGE = "beclab/velero:v1.11.3";
export const VELERO_PLUGIN_IMAGE = "beclab/velero-plugin-for-terminus:v1.0.2";
export const VELERO_BACKUP_LOCATION = "terminus-cloud";
export const VELERO_PROVIDER = "terminus";
/** The manifest's component id (Manifest.Get(common.CommandVelero)). */
export const VELERO_COMPONENT = "velero";
export const VELERO_DEPLOYMENT: WorkloadRef = { kind: "Deployment", namespace: VELERO_NAMESPACE, name: "velero" };

/** InstallVeleroPlugin's `velero install` flags (without --wait: the operator checks readiness itself). */
export function veleroInstallArgs(): string[] {
  return [
    "install",
    "--no-default-backup-location",
    "--namespace", VELERO_NAMESPACE,
    "--image", VELERO_IMAGE,
    "--use-volume-snapshots=false",
    "--no-secret",
    "--plugins", VELERO_PLUGIN_IMAGE,
    "--velero-pod-cpu-request=10m",
    "--velero-pod-cpu-limit=200m",
    "--node-agent-pod-cpu-request=10m",
    "--node-agent-pod-cpu-limit=200m",
  ];
}

/** CreateBackupLocation's `velero backup-location create` flags. */
export function veleroBackupLocationArgs(): string[] {
  return [
    "backup-location", "create", VELERO_BACKUP_LOCATION,
    "--provider", VELERO_PROVIDER,
    "--namespace", VELERO_NAMESPACE,
    "--prefix", "",
    "--bucket", VELERO_BACKUP_LOCATION,
    "--labels", `name=${VELERO_BACKUP_LOCATION}`,
  ];
}

/** Where the backups land on the host: the installer's /olares/rootfs/k8s-backup, under spec.storage.rootPath. */
export function veleroBackupHostPath(spec: DefaultedSpec): string {
  const root = rootOf(spec);
  return `${root === "/" ? "" : root}/rootfs/k8s-backup`;
}

/** PatchVelero's ops, in its order. */
export function veleroPatchOps(spec: DefaultedSpec): Array<{ op: "replace" | "add"; path: string; value: unknown }> {
  return [
    {
      op: "replace",
      path: "/spec/template/spec/volumes",
      value: [
        { name: "plugins", emptyDir: {} },
        { name: "scratch", emptyDir: {} },
        { name: VELERO_BACKUP_LOCATION, hostPath: { path: veleroBackupHostPath(spec), type: "DirectoryOrCreate" } },
      ],
    },
    {
      op: "replace",
      path: "/spec/template/spec/containers/0/volumeMounts",
      value: [
        { name: "plugins", mountPath: "/plugins" },
        { name: "scratch", mountPath: "/scratch" },
        { mountPath: "/data", name: VELERO_BACKUP_LOCATION },
      ],
    },
    // The installer's op is a replace, which velero's Deployment (no securityContext) rejects, failing the
    // whole patch (it only logs that): an add sets the same value and lets the hostPath land.
    { op: "add", path: "/spec/template/spec/containers/0/securityContext", value: { privileged: true, runAsNonRoot: false, runAsUser: 0 } },
  ];
}

const isCrd = (o: KubeObject) => o.apiVersion === "apiextensions.k8s.io/v1" && o.kind === "CustomResourceDefinition";

/** Drops what a client-side printer adds that the API server owns (creationTimestamp: null, an empty status). */
function clean(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o as KubeObject & { status?: unknown };
  const { creationTimestamp: _ts, ...meta } = rest.metadata as KubeObject["metadata"] & { creationTimestamp?: unknown };
  return { ...rest, metadata: meta } as KubeObject;
}

/**
 * The installer's velero steps, in its order: `velero install`'s objects create-only (CRDs, then the
 * rest), the backup location create-only, then PatchVelero (only when the Deployment differs).
 */
export function veleroSteps(spec: DefaultedSpec, velero: ReleaseVeleroFacts): ReleaseStep[] {
  const objects = velero.install.map(clean);
  const deployment = objects.find((o) => o.apiVersion === "apps/v1" && o.kind === "Deployment" && o.metadata.name === VELERO_DEPLOYMENT.name);
  if (!deployment) throw new Error(`velero install (${velero.component}) printed no Deployment ${VELERO_DEPLOYMENT.namespace}/${VELERO_DEPLOYMENT.name}`);
  return [
    { kind: "createOnly", name: "velero CRDs", objects: objects.filter(isCrd) },
    { kind: "createOnly", name: "velero", objects: objects.filter((o) => !isCrd(o)) },
    { kind: "createOnly", name: `velero backup location ${VELERO_BACKUP_LOCATION}`, objects: [clean(velero.backupLocation)] },
    { kind: "jsonPatch", name: "PatchVelero", target: { apiVersion: "apps/v1", kind: "Deployment", namespace: VELERO_DEPLOYMENT.namespace, name: VELERO_DEPLOYMENT.name }, ops: veleroPatchOps(spec) },
  ];
}

/** Whether the installer installs velero: always on Linux (not on macOS); spec.coreServices.velero.enabled: false leaves it out. */
export function veleroWanted(spec: DefaultedSpec): boolean {
  const o = (spec.coreServices as Record<string, { enabled?: boolean } | undefined> | undefined)?.velero;
  return o?.enabled !== false;
}
