// The real Kubernetes control plane for the test/cluster tier: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler and kwok, built from their Go modules and started by
// hack/controlplane.sh (one per suite). Nothing here is a stand-in: requests go to the real apiserver.
import { execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const CONTROLPLANE_SH = join(ROOT, "hack/controlplane.sh");

/**
 * Laptops without Go may set this to skip the real-control-plane tier (the suites show as pending and
 * say why). CI never sets it: there a missing or failed build fails the tier.
 */
export const OPT_OUT_VAR = "OLARES_SKIP_CONTROLPLANE";
export const optedOut = (): boolean => process.env[OPT_OUT_VAR] === "1";

function goModVersion(file: string, module: string): string {
  const text = readFileSync(join(ROOT, "hack/controlplane", file), "utf8");
  const m = new RegExp(`^\\s*(?:require\\s+)?${module.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s+(v\\S+)`, "m").exec(text);
  if (!m) throw new Error(`hack/controlplane/${file}: no version for ${module}`);
  return m[1]!;
}

/** The versions hack/controlplane.sh builds (read from the wrapper modules, so titles can name them). */
export const KUBE_VERSION = goModVersion("kubernetes/go.mod", "k8s.io/kubernetes");
export const ETCD_VERSION = goModVersion("etcd/go.mod", "go.etcd.io/etcd/server/v3");
export const KWOK_VERSION = /^kwok (\S+)/m.exec(readFileSync(join(ROOT, "hack/controlplane/kwok/version"), "utf8"))![1]!;
/** For test titles: "kube-apiserver v1.33.5". */
export const ON_KUBE = `kube-apiserver ${KUBE_VERSION}`;

let built = false;

/**
 * Builds the binaries unless cached (`hack/controlplane.sh build`; a cold build takes many minutes on
 * 2 cores, the cached check well under a second). Throws with the build's own error when it fails.
 */
export function ensureControlPlaneBuilt(): void {
  if (built) return;
  try {
    execFileSync("bash", [CONTROLPLANE_SH, "build"], { stdio: ["ignore", "inherit", "inherit"], cwd: ROOT });
  } catch (err) {
    throw new Error(`the real control plane could not be built (hack/controlplane.sh build): ${(err as Error).message}. Set ${OPT_OUT_VAR}=1 to skip this tier on a machine without Go (CI never does).`);
  }
  built = true;
}

/**
 * For a suite's before(): builds (or finds) the binaries, or skips the suite when opted out. Give the
 * hook a long timeout: the first call on a fresh machine builds Kubernetes.
 */
export function requireControlPlane(ctx: Mocha.Context): void {
  if (optedOut()) {
    process.stderr.write(`  ${OPT_OUT_VAR}=1: skipping the tests on the real control plane\n`);
    ctx.skip();
  }
  ctx.timeout(60 * 60_000);
  ensureControlPlaneBuilt();
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

interface Credentials {
  server: string;
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
}

function credentialsOf(kubeconfigPath: string): Credentials {
  const kc = parse(readFileSync(kubeconfigPath, "utf8")) as any; // eslint-disable-line @typescript-eslint/no-explicit-any
  const ctx = kc.contexts.find((c: any) => c.name === kc["current-context"]).context; // eslint-disable-line @typescript-eslint/no-explicit-any
  const cluster = kc.clusters.find((c: any) => c.name === ctx.cluster).cluster; // eslint-disable-line @typescript-eslint/no-explicit-any
  const user = kc.users.find((u: any) => u.name === ctx.user).user; // eslint-disable-line @typescript-eslint/no-explicit-any
  const b = (s?: string) => (s ? Buffer.from(s, "base64") : undefined);
  return { server: cluster.server, ca: b(cluster["certificate-authority-data"])!, cert: b(user["client-certificate-data"]), key: b(user["client-key-data"]), token: user.token };
}

/** One HTTPS request with a kubeconfig's credentials (raw: the test sees the server's exact answer). */
export function apiRequest(kubeconfigPath: string, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<ApiResponse> {
  const c = credentialsOf(kubeconfigPath);
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      new URL(path, c.server),
      {
        method,
        ca: c.ca,
        ...(c.cert ? { cert: c.cert, key: c.key } : {}),
        headers: {
          Accept: "application/json",
          ...(c.token ? { Authorization: `Bearer ${c.token}` } : {}),
          ...(payload !== undefined ? { "Content-Type": contentType, "Content-Length": String(Buffer.byteLength(payload)) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on("error", reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export interface CmdResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ControlPlane {
  /** Data, logs, certificates and kubeconfigs (removed by stop()). */
  readonly dir: string;
  /** Admin kubeconfig (client certificate in system:masters). */
  readonly kubeconfig: string;
  readonly server: string;
  /** The server's own /version gitVersion, e.g. v1.33.5. */
  readonly version: string;
  /** A request as the admin. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<ApiResponse>;
  /** The real kubectl (the tests' pinned one) against this control plane. */
  kubectl(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<CmdResult>;
  kubectlOk(args: string[], opts?: { input?: string; kubeconfig?: string }): Promise<string>;
  /**
   * A kubeconfig that authenticates as a ServiceAccount with a token from the TokenRequest API (what a
   * pod's projected token is), so the caller has exactly that account's RBAC permissions.
   */
  serviceAccountKubeconfig(namespace: string, name: string, opts?: { durationSeconds?: number; audiences?: string[] }): Promise<string>;
  /** Adds kwok nodes kwok-node-<next>…; the last `gpu` of them carry nvidia.com/gpu capacity. */
  addNodes(count: number, gpu?: number): Promise<void>;
  /** The apiserver's audit log (every request but the control plane's own), completed requests only. */
  audit(): AuditEvent[];
  /** The tail of a component's log (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok). */
  logTail(component: string, lines?: number): string;
  stop(): Promise<void>;
}

export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  /** Set when the request impersonated someone (helm as the installer ServiceAccount). */
  impersonatedUser?: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string; subresource?: string };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestReceivedTimestamp?: string;
  /** e.g. "authorization.k8s.io/decision": "forbid" when RBAC refused the request. */
  annotations?: Record<string, string>;
}

export const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);

/** "verb group/resource[/subresource] namespace/name" for messages. */
export function describeRequest(e: AuditEvent): string {
  const r = e.objectRef ?? {};
  const what = `${r.apiGroup ? `${r.apiGroup}/` : ""}${r.resource ?? e.requestURI}${r.subresource ? `/${r.subresource}` : ""}`;
  return `${e.verb} ${what} ${r.namespace ? `${r.namespace}/` : ""}${r.name ?? ""}`.trim();
}

/** Whose permissions a request used: the impersonated user when there is one, else the authenticated one. */
export const actingUser = (e: AuditEvent): string => e.impersonatedUser?.username ?? e.user.username;

/**
 * Requests acting as `username` that RBAC refused (authorization decision "forbid"; a 403 from admission,
 * e.g. an eviction in a namespace being terminated, is not RBAC's). kubectl's requests are left out: tests
 * use kubectl with the same token to probe what RBAC refuses.
 */
export function forbiddenRequests(events: AuditEvent[], username: string): string[] {
  return events.filter((e) => actingUser(e) === username && e.responseStatus?.code === 403 && e.annotations?.["authorization.k8s.io/decision"] !== "allow" && !(e.userAgent ?? "").startsWith("kubectl")).map((e) => `${describeRequest(e)}: ${e.responseStatus?.message ?? "forbidden"}`);
}

/** Write requests acting as `username` (any outcome): the operator's own, or helm's as the installer. */
export function writeRequests(events: AuditEvent[], username: string): AuditEvent[] {
  return events.filter((e) => actingUser(e) === username && WRITE_VERBS.has(e.verb));
}

export const serviceAccountUser = (namespace: string, name: string): string => `system:serviceaccount:${namespace}:${name}`;

export interface ControlPlaneOptions {
  nodes?: number;
  gpuNodes?: number;
  /** --service-cluster-ip-range (default K3s's 10.43.0.0/16; kubeadm's is 10.96.0.0/12). */
  serviceCidr?: string;
}

const running = new Set<string>();
let exitHookInstalled = false;

function stopSync(dir: string): void {
  try {
    execFileSync("bash", [CONTROLPLANE_SH, "stop", dir], { stdio: "ignore", timeout: 30_000 });
  } catch {
    // best effort at exit
  }
  running.delete(dir);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A suite whose after() never ran (a crash, process.exit) still leaves nothing running.
  process.on("exit", () => {
    for (const dir of [...running]) stopSync(dir);
  });
  // Ctrl-C or a CI timeout's SIGTERM: stop the control planes, then exit as the signal would have.
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      for (const dir of [...running]) stopSync(dir);
      process.exit(code);
    });
  }
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv, input?: string, timeoutMs = 120_000): Promise<CmdResult> {
  return new Promise((resolve) => {
    const child = execFile(bin, args, { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** kubectl from hack/fetch-tools.sh when cached (pinned), else the one on PATH. */
function kubectlBin(): string {
  const pinned = join(process.env["TOOLS_DIR"] ?? join(ROOT, ".cache/tools"), "kubectl/kubectl");
  return existsSync(pinned) ? pinned : "kubectl";
}

let announced = false;

/** Starts a fresh control plane in a temp dir (readiness checked by hack/controlplane.sh); stop() it in after(). */
export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  ensureControlPlaneBuilt();
  installExitHook();
  const dir = mkdtempSync(join(tmpdir(), "olares-cp-"));
  running.add(dir);
  const env = { ...process.env, CONTROLPLANE_NODES: String(opts.nodes ?? 1), CONTROLPLANE_GPU_NODES: String(opts.gpuNodes ?? 0), CONTROLPLANE_OWNER_PID: String(process.pid), ...(opts.serviceCidr ? { CONTROLPLANE_SERVICE_CIDR: opts.serviceCidr } : {}) };
  const started = await new Promise<CmdResult>((resolve) => {
    const child = spawn("bash", [CONTROLPLANE_SH, "start", dir], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
  if (started.code !== 0) {
    running.delete(dir);
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`hack/controlplane.sh start failed (exit ${started.code}):\n${started.stderr.trim()}`);
  }
  const kubeconfig = started.stdout.trim().split("\n").pop()!;
  const server = credentialsOf(kubeconfig).server;
  const api = (method: string, path: string, body?: unknown, contentType?: string) => apiRequest(kubeconfig, method, path, body, contentType);
  const versionRes = await api("GET", "/version");
  const version = String(versionRes.json?.gitVersion ?? "unknown");
  if (!announced) {
    announced = true;
    process.stdout.write(`  real control plane: kube-apiserver ${version} (etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}, kube-controller-manager and kube-scheduler ${KUBE_VERSION})\n`);
  }
  const home = join(dir, "kubectl-home");
  const kubectl = (args: string[], o: { input?: string; kubeconfig?: string } = {}) =>
    run(kubectlBin(), args, { KUBECONFIG: o.kubeconfig ?? kubeconfig, HOME: home, KUBECACHEDIR: join(home, "cache") }, o.input);
  const kubectlOk = async (args: string[], o: { input?: string; kubeconfig?: string } = {}) => {
    const r = await kubectl(args, o);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (exit ${r.code}): ${(r.stderr || r.stdout).trim()}`);
    return r.stdout;
  };
  let saFiles = 0;
  const cp: ControlPlane = {
    dir,
    kubeconfig,
    server,
    version,
    api,
    kubectl,
    kubectlOk,
    async serviceAccountKubeconfig(namespace, name, o = {}) {
      const res = await api("POST", `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: o.durationSeconds ?? 3600 * 24, ...(o.audiences ? { audiences: o.audiences } : {}) },
      });
      if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name} failed (${res.status}): ${res.text}`);
      const token = String(res.json.status.token);
      const file = join(dir, `sa-${namespace}-${name}-${saFiles++}.kubeconfig`);
      const ca = readFileSync(join(dir, "pki/ca.crt")).toString("base64");
      writeFileSync(
        file,
        [
          "apiVersion: v1",
          "kind: Config",
          `clusters: [{name: cp, cluster: {server: "${server}", certificate-authority-data: ${ca}}}]`,
          `users: [{name: "system:serviceaccount:${namespace}:${name}", user: {token: ${token}}}]`,
          `contexts: [{name: sa, context: {cluster: cp, user: "system:serviceaccount:${namespace}:${name}", namespace: ${namespace}}}]`,
          "current-context: sa",
          "",
        ].join("\n"),
        { mode: 0o600 },
      );
      return file;
    },
    async addNodes(count, gpu = 0) {
      const r = await run("bash", [CONTROLPLANE_SH, "nodes", dir, String(count), String(gpu)], {});
      if (r.code !== 0) throw new Error(`adding ${count} kwok nodes failed: ${r.stderr.trim()}`);
    },
    audit() {
      let text = "";
      try {
        text = readFileSync(join(dir, "logs/audit.log"), "utf8");
      } catch {
        return [];
      }
      return text
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as AuditEvent)
        .filter((e) => e.stage === "ResponseComplete");
    },
    logTail(component, lines = 30) {
      try {
        return readFileSync(join(dir, "logs", `${component}.log`), "utf8").trimEnd().split("\n").slice(-lines).join("\n");
      } catch {
        return `(no ${component} log)`;
      }
    },
    async stop() {
      if (!running.has(dir)) return;
      const r = await run("bash", [CONTROLPLANE_SH, "stop", dir], {}, undefined, 60_000);
      running.delete(dir);
      if (r.code !== 0) throw new Error(`hack/controlplane.sh stop ${dir} failed: ${r.stderr.trim()}`);
    },
  };
  return cp;
}

/** A scratch directory under the OS temp dir (for host roots and logs). */
export function scratchDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
