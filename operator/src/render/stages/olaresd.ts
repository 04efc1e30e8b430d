// olaresd, as olares-cli's prepare phase installs it (cli/pkg/daemon/task.go@93b117a4): the binary from
// the release manifest's `olaresd` component (MD5 checked; spec.olaresd.url/sha256 still override it),
// /etc/systemd/system/olaresd.service and its olaresd.service.env with the installer's keys, and
// /etc/olares/release. All of it is host work in each node's config (no cluster object: nothing in the
// cluster reads one); the NodeConfig rollout verifies the unit runs. Before it, the manifest's images
// are imported into containerd (PreloadImages). Pure.
import type { HostTask } from "../../contract/index.js";
import { OLARES_RELEASE_BASE } from "../../contract/index.js";
import type { RenderContext } from "../context.js";
import { componentTask, imageImportTask, OLARESD_BINARY_PATH, OLARESD_ENV_PATH, OLARESD_UNIT, olaresdEnvFile, RELEASE_HOST_BASE_DIR } from "../releases/index.js";
import { rootPathOf } from "./storage.js";

export const OLARESD_RELEASE_BASE = OLARES_RELEASE_BASE;
export const OLARES_RELEASE_FILE = "/etc/olares/release";

export const OLARESD_TASK_IDS = {
  images: "release/images",
  binary: "olaresd/binary",
  serviceEnv: "olaresd/service-env",
  release: "olaresd/release",
  unit: "olaresd/unit",
} as const;

export function olaresdEnabled(ctx: RenderContext): boolean {
  return ctx.spec.olaresd.enabled;
}

export function olaresdVersion(ctx: RenderContext): string {
  return ctx.spec.olaresd.version.replace(/^v/, "");
}

/** The olaresd release archive when the manifest is not at hand; `{arch}` is filled in by the node agent. */
export const OLARESD_DEFAULT_URL_PATTERN = `${OLARESD_RELEASE_BASE}/olaresd-v{version}-linux-{arch}.tar.gz`;

/** /etc/olares/release as SaveReleaseInfo writes it (kube_runtime.go@090e562c). */
export function olaresReleaseFile(ctx: RenderContext): string {
  return [`OLARES_BASE_DIR=${rootPathOf(ctx)}`, `OLARES_VERSION=${ctx.spec.version.replace(/^v/, "")}`, `OLARES_NAME=${ctx.spec.owner.username}@${ctx.spec.owner.domain}`].join("\n") + "\n";
}

/** The release's files are reachable by the nodes only from an HTTP(S) origin (not from an airgap directory). */
function manifestOf(ctx: RenderContext) {
  const rf = ctx.facts.release;
  return rf?.manifest && rf.filesBase ? { manifest: rf.manifest, base: rf.filesBase } : undefined;
}

function binaryTask(ctx: RenderContext): HostTask {
  const spec = ctx.spec;
  const m = manifestOf(ctx);
  const fromManifest = !spec.olaresd.url && m ? componentTask(m.manifest, m.base, { id: OLARESD_TASK_IDS.binary, component: "olaresd", install: [{ member: "olaresd", path: OLARESD_BINARY_PATH, mode: 0o755 }] }) : undefined;
  if (fromManifest) return { ...fromManifest, disruption: "restart-service" };
  return {
    kind: "binary",
    id: OLARESD_TASK_IDS.binary,
    // Offline (plan) or from an airgap directory there is no manifest the nodes can fetch from.
    description: `olaresd ${olaresdVersion(ctx)} at ${OLARESD_BINARY_PATH} (${spec.olaresd.url ? "spec.olaresd.url" : "the release host's archive: no installation.manifest the nodes can fetch from"})`,
    disruption: "restart-service",
    path: OLARESD_BINARY_PATH,
    url: spec.olaresd.url ?? OLARESD_DEFAULT_URL_PATTERN.replace("{version}", olaresdVersion(ctx)),
    ...(spec.olaresd.sha256 ? { sha256: spec.olaresd.sha256 } : {}),
    mode: 0o755,
  };
}

/** The manifest's images, imported before olaresd (prepare's PreloadImages); none without a reachable manifest. */
export function releaseImageTasks(ctx: RenderContext): HostTask[] {
  const m = manifestOf(ctx);
  const t = m ? imageImportTask(m.manifest, m.base, OLARESD_TASK_IDS.images) : undefined;
  return t ? [t] : [];
}

export function olaresdTasks(ctx: RenderContext): HostTask[] {
  if (!olaresdEnabled(ctx)) return [];
  const env = olaresdEnvFile({ spec: ctx.spec, baseDir: RELEASE_HOST_BASE_DIR, gpu: ctx.spec.gpu.enabled !== "false" });
  return [
    binaryTask(ctx),
    { kind: "file", id: OLARESD_TASK_IDS.serviceEnv, description: `olaresd environment ${OLARESD_ENV_PATH}`, disruption: "none", path: OLARESD_ENV_PATH, content: env, mode: 0o644 },
    { kind: "file", id: OLARESD_TASK_IDS.release, description: `Olares release record ${OLARES_RELEASE_FILE}`, disruption: "none", path: OLARES_RELEASE_FILE, content: olaresReleaseFile(ctx), mode: 0o644 },
    {
      kind: "unit",
      id: OLARESD_TASK_IDS.unit,
      description: "olaresd.service enabled and running",
      disruption: "restart-service",
      name: "olaresd.service",
      content: OLARESD_UNIT,
      enable: true,
      state: "started",
      restartOnChange: [OLARESD_TASK_IDS.binary, OLARESD_TASK_IDS.serviceEnv],
    },
  ];
}
