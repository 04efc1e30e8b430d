// Olaresd: the cluster side only — a ConfigMap telling node agents which olaresd to install and with
// which environment. Installing the binary and olaresd.service is host work (node configs).
import type { KubeObject, Stage } from "../../contract/index.js";
import { makeObject, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { sortedEntries } from "../../contract/index.js";
import { OLARES_RELEASE_BASE, SYSTEM_NAMESPACE } from "../../contract/index.js";
import { rootPathOf } from "./storage.js";

const STAGE = "Olaresd" as const;
export const OLARESD_CONFIGMAP = "olaresd-config";
export const OLARESD_RELEASE_BASE = OLARES_RELEASE_BASE;

export function olaresdEnabled(ctx: RenderContext): boolean {
  return ctx.spec.olaresd?.enabled ?? true;
}

export function olaresdVersion(ctx: RenderContext): string {
  return (ctx.spec.olaresd?.version ?? ctx.spec.version).replace(/^v/, "");
}

/** The environment olaresd reads (same names olares-cli writes into /etc/olares/release). */
export function olaresdEnv(ctx: RenderContext): Record<string, string> {
  const domain = ctx.spec.owner?.domain ?? "olares.com";
  return {
    OLARES_BASE_DIR: rootPathOf(ctx),
    OLARES_NAME: `${ctx.spec.owner.username}@${domain}`,
    OLARES_VERSION: ctx.spec.version.replace(/^v/, ""),
    OLARESD_VERSION: olaresdVersion(ctx),
    STORAGE_TYPE: ctx.spec.storage?.type ?? "LocalFS",
  };
}

/** The olaresd release archive; `{arch}` is filled in by the node agent. */
export const OLARESD_DEFAULT_URL_PATTERN = `${OLARESD_RELEASE_BASE}/olaresd-v{version}-linux-{arch}.tar.gz`;

/** Where olaresd is downloaded from: spec.olaresd.url, or the release host for its version. */
export function olaresdUrl(ctx: RenderContext): string {
  return ctx.spec.olaresd?.url ?? OLARESD_DEFAULT_URL_PATTERN.replace("{version}", olaresdVersion(ctx));
}

/** olaresdEnv as an env file (also written as /etc/olares/release). */
export function olaresdEnvFile(ctx: RenderContext): string {
  return sortedEntries(olaresdEnv(ctx)).map(([k, v]) => `${k}=${v}\n`).join("");
}

/** `url` may hold `{arch}` (amd64/arm64), filled in by the node agent. */
export function renderOlaresd(ctx: RenderContext): Stage | undefined {
  if (!olaresdEnabled(ctx)) return undefined;
  const version = olaresdVersion(ctx);
  const data: Record<string, string> = {
    "olaresd.env": olaresdEnvFile(ctx),
    url: olaresdUrl(ctx),
    version,
  };
  if (ctx.spec.olaresd?.sha256) data.sha256 = ctx.spec.olaresd.sha256;
  const objects: KubeObject[] = [
    makeObject(ctx, STAGE, {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: OLARESD_CONFIGMAP,
      namespace: SYSTEM_NAMESPACE,
      component: "olaresd",
      body: { data },
    }),
  ];
  return { name: STAGE, objects, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
