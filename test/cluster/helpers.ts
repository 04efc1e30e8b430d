// Reading the real control plane for the test/cluster tier: the installation, nodes, owned objects,
// polls with a reason on timeout, real helm against it.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { API_GROUP, LABEL_MANAGED_BY, MANAGED_BY, PLURAL } from "../../operator/src/contract/names.js";
import { OWNED_KINDS } from "../../operator/src/render/kinds.js";
import { ROOT, type CmdResult, type ControlPlane } from "../support/controlplane.js";

export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const CR_PATH = `/apis/${API_GROUP}/v1alpha1/${PLURAL}`;
export const CHART_DIR = join(ROOT, "charts/olares-operator");
export const EXAMPLE = join(ROOT, "examples/olares.yaml");
export const OPERATOR_NAMESPACE = "olares-operator";
/** The ServiceAccount the chart's operator has helm impersonate (charts/olares-operator/templates/installer-rbac.yaml). */
export const INSTALLER_SERVICE_ACCOUNT = "olares-operator-installer";
export const INSTALLER_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${INSTALLER_SERVICE_ACCOUNT}`;
export const TOOLS_DIR = process.env["TOOLS_DIR"] ?? join(ROOT, ".cache/tools");
export const HELMS = [
  { label: "Helm 4.1", bin: join(TOOLS_DIR, "helm4/helm") },
  { label: "Helm 3.17", bin: join(TOOLS_DIR, "helm3/helm") },
] as const;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something other than undefined/false; throws `what` (a reason) on timeout. */
export async function until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, what: string | (() => string | Promise<string>), pollMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const reason = typeof what === "function" ? await what() : what;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${reason}${lastError ? ` (last error: ${(lastError as Error).message})` : ""}`);
    }
    await sleep(pollMs);
  }
}

export async function getJson(cp: ControlPlane, path: string): Promise<Json | undefined> {
  const r = await cp.api("GET", path);
  if (r.status === 404) return undefined;
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.text}`);
  return r.json;
}

export const installation = (cp: ControlPlane, name = "olares"): Promise<Json | undefined> => getJson(cp, `${CR_PATH}/${name}`);

export function condition(cr: Json | undefined, type: string): Json | undefined {
  return (cr?.status?.conditions ?? []).find((c: Json) => c.type === type);
}

/** Ready=True for the current generation. */
export function isReady(cr: Json | undefined): boolean {
  const c = condition(cr, "Ready");
  return c?.status === "True" && cr?.status?.observedGeneration === cr?.metadata.generation && c?.observedGeneration === cr?.metadata.generation;
}

export function explainNotReady(cr: Json | undefined): string {
  if (!cr) return "the OlaresInstallation does not exist";
  const bad = (cr.status?.conditions ?? []).filter((c: Json) => (c.type === "Degraded" ? c.status === "True" : c.status !== "True" && c.type !== "Progressing"));
  return `phase ${cr.status?.phase ?? "(none)"} (generation ${cr.metadata.generation}, observed ${cr.status?.observedGeneration ?? "-"}): ${bad.map((c: Json) => `${c.type}=${c.status} ${c.reason}: ${c.message}`).join("; ") || "no status yet"}`;
}

export async function nodes(cp: ControlPlane): Promise<Json[]> {
  return ((await getJson(cp, "/api/v1/nodes"))?.items ?? []) as Json[];
}

/** Every node's agent handshake is Done on its desired config. */
export function nodeDone(n: Json): boolean {
  const a = n.metadata.annotations ?? {};
  return a["olares.com/state"] === "Done" && a["olares.com/current-config"] !== undefined && a["olares.com/current-config"] === a["olares.com/desired-config"];
}

export async function allNodesDone(cp: ControlPlane): Promise<boolean> {
  const list = await nodes(cp);
  return list.length > 0 && list.every(nodeDone);
}

/** Waits for Ready at the current generation with every node Done; the reason on timeout says what is not. */
export async function waitReady(cp: ControlPlane, what: string, timeoutMs = 120_000): Promise<Json> {
  return until(
    async () => {
      const cr = await installation(cp);
      return isReady(cr) && (await allNodesDone(cp)) ? cr : undefined;
    },
    timeoutMs,
    async () => `${what}: ${explainNotReady(await installation(cp))}; nodes: ${(await nodes(cp)).map((n) => `${n.metadata.name} ${JSON.stringify(Object.fromEntries(Object.entries(n.metadata.annotations ?? {}).filter(([k]) => k.startsWith("olares.com/"))))}`).join(" | ")}`,
  );
}

const pathOf = (apiVersion: string, resource: string) => (apiVersion === "v1" ? `/api/v1/${resource}` : `/apis/${apiVersion}/${resource}`);
const plural = (kind: string) => `${kind.toLowerCase()}${kind.endsWith("s") ? "es" : "s"}`;

/** Every object of an owned kind carrying the operator's managed-by label, as "Kind namespace/name". */
export async function managedObjects(cp: ControlPlane): Promise<string[]> {
  const out: string[] = [];
  const selector = encodeURIComponent(`${LABEL_MANAGED_BY}=${MANAGED_BY}`);
  for (const k of OWNED_KINDS) {
    const list = await getJson(cp, `${pathOf(k.apiVersion, plural(k.kind))}?labelSelector=${selector}`);
    for (const o of list?.items ?? []) out.push(`${k.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`);
  }
  return out.sort();
}

/** The real helm against the control plane, with a private helm home. */
export function helm(cp: ControlPlane, bin: string, args: string[], timeoutMs = 300_000): Promise<CmdResult> {
  const home = join(cp.dir, "helm-home");
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        cwd: ROOT,
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        env: { ...process.env, KUBECONFIG: cp.kubeconfig, HELM_CACHE_HOME: join(home, "cache"), HELM_CONFIG_HOME: join(home, "config"), HELM_DATA_HOME: join(home, "data") },
      },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

export function helmsAvailable(): boolean {
  return HELMS.every((h) => existsSync(h.bin));
}
