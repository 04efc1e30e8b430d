// A loopback HTTPS proxy in front of the real kube-apiserver that injects faults: a fraction of requests
// answered 500/503/429 (apiserver-shaped Status bodies, Retry-After on 429) and watches cut after a few
// seconds. It serves with the apiserver's own certificate (SAN 127.0.0.1, signed by the control plane's
// CA), so clients keep verifying TLS; bearer tokens pass through (client certificates cannot).
import { readFileSync, writeFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type { ControlPlane } from "../support/controlplane.js";

export interface FaultProxy {
  readonly url: string;
  errorRate: number;
  /**
   * Error rate for impersonating requests (helm as the installer ServiceAccount); undefined: errorRate.
   * helm retries nothing, so at 10% nearly every helm run fails: tests set this apart.
   */
  impersonatedErrorRate: number | undefined;
  /** Cut every watch after this many seconds (0: never). */
  dropWatchesAfterSeconds: number;
  readonly injected: { errors: number; impersonatedErrors: number; watchDrops: number; requests: number };
  /** A copy of `kubeconfig` whose server is this proxy. */
  kubeconfigFor(kubeconfig: string, file: string): string;
  reset(): void;
  stop(): Promise<void>;
}

const FAULTS = [
  { code: 500, reason: "InternalError", message: "Internal error occurred: injected by the fault proxy" },
  { code: 503, reason: "ServiceUnavailable", message: "the server is currently unable to handle the request (injected)" },
  { code: 429, reason: "TooManyRequests", message: "the server has received too many requests and has asked us to try again later (injected)" },
];

export async function startFaultProxy(cp: ControlPlane, opts: { errorRate?: number; dropWatchesAfterSeconds?: number } = {}): Promise<FaultProxy> {
  const target = new URL(cp.server);
  const ca = readFileSync(join(cp.dir, "pki/ca.crt"));
  const injected = { errors: 0, impersonatedErrors: 0, watchDrops: 0, requests: 0 };
  const sockets = new Set<Socket>();
  const state: { errorRate: number; impersonatedErrorRate: number | undefined; dropWatchesAfterSeconds: number } = { errorRate: opts.errorRate ?? 0, impersonatedErrorRate: undefined, dropWatchesAfterSeconds: opts.dropWatchesAfterSeconds ?? 0 };

  const server: Server = createServer({ cert: readFileSync(join(cp.dir, "pki/apiserver.crt")), key: readFileSync(join(cp.dir, "pki/apiserver.key")) }, (req, res) => {
    injected.requests++;
    const url = new URL(req.url ?? "/", "https://proxy");
    const isWatch = url.searchParams.get("watch") === "true" || url.searchParams.get("watch") === "1";
    const rate = req.headers["impersonate-user"] !== undefined ? (state.impersonatedErrorRate ?? state.errorRate) : state.errorRate;
    if (rate > 0 && Math.random() < rate) {
      injected.errors++;
      if (req.headers["impersonate-user"] !== undefined) injected.impersonatedErrors++;
      const f = FAULTS[Math.floor(Math.random() * FAULTS.length)]!;
      req.resume();
      res.writeHead(f.code, { "Content-Type": "application/json", ...(f.code === 429 ? { "Retry-After": "1" } : {}) });
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: f.message, reason: f.reason, code: f.code }));
      return;
    }
    const headers = { ...req.headers, host: target.host };
    const upstream = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers, ca }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
      if (isWatch && state.dropWatchesAfterSeconds > 0) {
        const timer = setTimeout(() => {
          injected.watchDrops++;
          up.destroy();
          res.destroy();
        }, state.dropWatchesAfterSeconds * 1000);
        res.once("close", () => clearTimeout(timer));
      }
    });
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
    res.once("close", () => upstream.destroy());
  });
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.once("close", () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    get errorRate() {
      return state.errorRate;
    },
    set errorRate(v: number) {
      state.errorRate = v;
    },
    get impersonatedErrorRate() {
      return state.impersonatedErrorRate;
    },
    set impersonatedErrorRate(v: number | undefined) {
      state.impersonatedErrorRate = v;
    },
    get dropWatchesAfterSeconds() {
      return state.dropWatchesAfterSeconds;
    },
    set dropWatchesAfterSeconds(v: number) {
      state.dropWatchesAfterSeconds = v;
    },
    injected,
    kubeconfigFor(kubeconfig, file) {
      const kc = parse(readFileSync(kubeconfig, "utf8"));
      for (const c of kc.clusters) c.cluster.server = url;
      writeFileSync(file, stringify(kc), { mode: 0o600 });
      return file;
    },
    reset() {
      state.errorRate = 0;
      state.impersonatedErrorRate = undefined;
      state.dropWatchesAfterSeconds = 0;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
