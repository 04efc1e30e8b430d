// The real operator for the demo, the e2e tests and the bench: `olares-operator run` as a child process
// (through tsx, or bundled once by esbuild for fast restarts) or its runOperator() code path in-process.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fixtureAirgapDir } from "../support/template-helm.js";
import { createServer } from "node:net";
import { join } from "node:path";
import { runOperator, type RunDeps, type RunOptions } from "../../operator/src/controller/run.js";
import { createClusterClient, type HttpClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { silentLogger, type Logger } from "../../operator/src/kube/log.js";
import { DEFAULT_OPERATOR_IMAGE } from "../../operator/src/render/images.js";
import { HELM, OPERATOR_NAMESPACE, ROOT, sleep } from "./tools.js";

export const OPERATOR_USER_AGENT = "olares-operator";

let releaseCache: string | undefined;

/**
 * How the e2e operator installs the Olares release: the pinned helm (hack/fetch-tools.sh), a release
 * cache shared by the run, and the fixture release (hack/fixture-release.ts) as the mirror that stands in
 * for the official CDN (no network here).
 */
export function releaseRunOptions(): { helm: string; releaseCache: string; mirror: string } {
  releaseCache ??= mkdtempSync(join(tmpdir(), "olares-e2e-release-"));
  return { helm: HELM, releaseCache, mirror: fixtureAirgapDir() };
}

process.once("exit", () => {
  if (releaseCache) rmSync(releaseCache, { recursive: true, force: true });
});

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface OperatorProcess {
  child: ChildProcess;
  pid: number;
  logFile: string;
  metricsUrl: string;
  identity: string;
  /** Settles with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  /** SIGTERM (graceful: the Lease is released) and wait. */
  stop(): Promise<number | string>;
  /** SIGKILL and wait: a crash, the Lease is not released. */
  kill(): Promise<number | string>;
}

export interface OperatorProcessOptions {
  kubeconfig: string;
  /** The program run by node: default operator/src/cli/main.ts through tsx; or a bundle from operatorBundle(). */
  entry?: string;
  /** Node options before the entry (e.g. ["--import", "tsx"] for a .ts entry). */
  nodeOptions?: string[];
  logFile: string;
  leaderElect?: boolean;
  identity?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * `olares-operator run --kubeconfig …` as a child process: `node --import tsx operator/src/cli/main.ts`
 * (one process, so a kill hits the operator itself, not a tsx wrapper). Logs go to `logFile`.
 */
export async function startOperatorProcess(opts: OperatorProcessOptions): Promise<OperatorProcess> {
  const port = await freePort();
  const identity = opts.identity ?? `operator-${port}`;
  const fd = openSync(opts.logFile, "a");
  const program = opts.entry ? [...(opts.nodeOptions ?? []), opts.entry] : ["--import", "tsx", join(ROOT, "operator/src/cli/main.ts")];
  const args = [...program, "run", "--kubeconfig", opts.kubeconfig, "--metrics-addr", `127.0.0.1:${port}`, "--namespace", OPERATOR_NAMESPACE];
  if (opts.leaderElect) args.push("--leader-elect");
  const release = releaseRunOptions();
  const releaseEnv = { OLARES_HELM: release.helm, OLARES_RELEASE_CACHE: release.releaseCache, OLARES_RELEASE_MIRROR: release.mirror };
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ["ignore", fd, fd], env: { ...process.env, ...releaseEnv, POD_NAME: identity, ...opts.env } });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const end = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return { child, pid: child.pid!, logFile: opts.logFile, metricsUrl: `http://127.0.0.1:${port}/metrics`, identity, exited, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
}

/** Polls the operator's /readyz until its caches are synced. */
export async function waitOperatorReady(op: { metricsUrl: string; exited?: Promise<unknown> }, timeoutMs = 30_000): Promise<void> {
  const url = op.metricsUrl.replace(/\/metrics$/, "/readyz");
  let exited = false;
  void op.exited?.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new Error("the operator process exited before it became ready");
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`the operator was not ready within ${timeoutMs} ms (${url})`);
}

/**
 * operator/src/cli/main.ts bundled once into .cache/e2e/olares-operator.mjs by esbuild (dependencies
 * stay in node_modules): the same code, without tsx's per-start transform, so a restart costs ~1 s.
 * Used where the operator is started many times (the kill test). Lives under the repo so that the
 * operator still finds crds/ by walking up from its own file.
 */
export function operatorBundle(): string {
  const out = join(ROOT, ".cache/e2e/olares-operator.mjs");
  execFileSync(join(ROOT, "node_modules/.bin/esbuild"), [join(ROOT, "operator/src/cli/main.ts"), "--bundle", "--platform=node", "--format=esm", "--packages=external", `--outfile=${out}`, "--log-level=warning"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  return out;
}

export interface InProcessOperator {
  client: HttpClusterClient;
  metricsUrl: string;
  /** Settles when runOperator returns (rejects on lost leadership). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real `olares-operator run` code path (runOperator) inside this process: faster to start than a
 * child process, and its client's request counts are readable. Logs are silent unless a logger is given.
 */
export async function startOperatorInProcess(
  kubeconfig: string,
  opts: { leaderElect?: boolean; identity?: string; logger?: Logger; qps?: number; burst?: number; helmAs?: string; release?: Pick<RunOptions, "mirror" | "releaseFilesUrl" | "releaseFilesAddr" | "releaseCache"> } = {},
): Promise<InProcessOperator> {
  const port = await freePort();
  const controller = new AbortController();
  let client: HttpClusterClient | undefined;
  const runOpts: RunOptions = {
    kubeconfig,
    metricsAddr: `127.0.0.1:${port}`,
    leaderElect: opts.leaderElect ?? false,
    namespace: OPERATOR_NAMESPACE,
    image: DEFAULT_OPERATOR_IMAGE,
    identity: opts.identity ?? `in-process-${port}`,
    ...(opts.qps !== undefined ? { qps: opts.qps } : {}),
    ...(opts.burst !== undefined ? { burst: opts.burst } : {}),
    ...releaseRunOptions(),
    ...opts.release,
    ...(opts.helmAs ? { helmAs: opts.helmAs } : {}),
  };
  const deps: RunDeps = {
    connect: (o, metrics) => {
      const connected = createClusterClient(loadKubeConfig(o.kubeconfig), {
        metrics,
        userAgent: OPERATOR_USER_AGENT,
        ...(o.impersonate ? { impersonateUser: o.impersonate } : {}),
        ...(o.qps !== undefined ? { qps: o.qps } : {}),
        ...(o.burst !== undefined ? { burst: o.burst } : {}),
      });
      // the operator's own client (the release's installer client impersonates helm's identity)
      if (!o.impersonate) client = connected;
      return connected;
    },
    logger: () => opts.logger ?? silentLogger(),
    stopSignal: () => controller.signal,
  };
  const done = runOperator(runOpts, deps);
  done.catch(() => undefined);
  const metricsUrl = `http://127.0.0.1:${port}/metrics`;
  await waitOperatorReady({ metricsUrl, exited: done.then(() => undefined, () => undefined) });
  return {
    client: client!,
    metricsUrl,
    done,
    async stop() {
      controller.abort(new Error("test stop"));
      await done.catch(() => undefined);
    },
  };
}
