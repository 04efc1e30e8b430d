// The real kubectl and helm (cached in .cache/tools by hack/fetch-tools.sh) and the chart's manifests
// as a user installs them, for the demo, the e2e tests and the e2e bench.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { API_GROUP, PLURAL } from "../../operator/src/contract/index.js";
import type { KObj } from "../sim/types.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const TOOLS_DIR = process.env["TOOLS_DIR"] ?? join(ROOT, ".cache/tools");
export const KUBECTL = join(TOOLS_DIR, "kubectl/kubectl");
export const HELM = join(TOOLS_DIR, "helm4/helm");
export const CHART_DIR = join(ROOT, "charts/olares-operator");
export const EXAMPLE = join(ROOT, "examples/olares.yaml");
export const OPERATOR_NAMESPACE = "olares-operator";

/** Fetches kubectl and helm once (hack/fetch-tools.sh); throws with the reason when they cannot be had. */
export function ensureTools(): void {
  if (existsSync(KUBECTL) && existsSync(HELM)) return;
  try {
    execFileSync("bash", [join(ROOT, "hack/fetch-tools.sh")], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, TOOLS_DIR } });
  } catch (err) {
    throw new Error(`kubectl/helm are not cached in ${TOOLS_DIR} and hack/fetch-tools.sh failed: ${(err as Error).message}`);
  }
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

function runTool(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 60_000): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * The real kubectl against the simulator (asynchronous: the simulator serves from this process).
 * `attempts` > 1 retries a failed call, for runs with injected API errors.
 */
export async function kubectl(kubeconfig: string, args: string[], opts: { input?: string; attempts?: number } = {}): Promise<CmdResult> {
  let last: CmdResult = { code: 1, stdout: "", stderr: "not run" };
  for (let i = 0; i < (opts.attempts ?? 1); i++) {
    last = await runTool(KUBECTL, args, { KUBECONFIG: kubeconfig }, opts.input);
    if (last.code === 0) return last;
    await sleep(200);
  }
  return last;
}

export async function kubectlOk(kubeconfig: string, args: string[], opts: { input?: string; attempts?: number } = {}): Promise<string> {
  const r = await kubectl(kubeconfig, args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

export interface OperatorManifests {
  /** Multi-document YAML to apply. */
  yaml: string;
  /** What was applied, as Kind/name. */
  applied: string[];
  /** What was left out and why. */
  skipped: Array<{ object: string; why: string }>;
  source: "helm template" | "crds/";
}

const isHook = (o: KObj) => o.metadata?.annotations?.["helm.sh/hook"] !== undefined;

/**
 * `helm template` of charts/olares-operator, minus the operator Deployment (the caller runs the operator
 * process itself) and minus Helm hooks (`helm install` runs and deletes them; they are not release objects).
 * Falls back to crds/ when the chart does not render.
 */
export async function operatorManifests(): Promise<OperatorManifests> {
  const r = existsSync(CHART_DIR)
    ? await runTool(HELM, ["template", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--include-crds"], {
        HELM_CACHE_HOME: join(TOOLS_DIR, "helm-home/cache"),
        HELM_CONFIG_HOME: join(TOOLS_DIR, "helm-home/config"),
        HELM_DATA_HOME: join(TOOLS_DIR, "helm-home/data"),
      })
    : { code: 1, stdout: "", stderr: `${CHART_DIR} does not exist` };
  const namespace: KObj = { apiVersion: "v1", kind: "Namespace", metadata: { name: OPERATOR_NAMESPACE } };
  if (r.code !== 0) {
    const crds = parseAllDocuments(readFileSync(join(ROOT, "crds/olares.com_olaresinstallations.yaml"), "utf8")).map((d) => d.toJS() as KObj);
    const objects = [namespace, ...crds];
    return {
      yaml: objects.map((o) => stringify(o)).join("---\n"),
      applied: objects.map((o) => `${o.kind}/${o.metadata.name}`),
      skipped: [{ object: "charts/olares-operator", why: `helm template failed: ${r.stderr.trim().split("\n")[0]}` }],
      source: "crds/",
    };
  }
  const objects: KObj[] = [namespace];
  const skipped: OperatorManifests["skipped"] = [];
  for (const doc of parseAllDocuments(r.stdout)) {
    const o = doc.toJS() as KObj | null;
    if (!o || typeof o !== "object") continue;
    const id = `${o.kind}/${o.metadata.name}`;
    if (o.kind === "Deployment" && o.metadata.name === "olares-operator") skipped.push({ object: id, why: "replaced by the operator process run locally with --kubeconfig" });
    else if (isHook(o)) skipped.push({ object: id, why: `Helm hook (${o.metadata.annotations!["helm.sh/hook"]}), run and deleted by helm install` });
    else objects.push(o);
  }
  return { yaml: objects.map((o) => stringify(o)).join("---\n"), applied: objects.map((o) => `${o.kind}/${o.metadata.name}`), skipped, source: "helm template" };
}

/** Applies the manifests server-side (field manager "helm", as Helm 4 does) and waits for the CRD. */
export async function installOperatorManifests(kubeconfig: string, manifests: OperatorManifests, attempts = 1): Promise<void> {
  await kubectlOk(kubeconfig, ["apply", "--server-side", "--field-manager=helm", "-f", "-"], { input: manifests.yaml, attempts });
  await kubectlOk(kubeconfig, ["wait", "--for=condition=Established", `crd/${PLURAL}.${API_GROUP}`, "--timeout=30s"], { attempts });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
