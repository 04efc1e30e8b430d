// The operator's HTTP endpoints (node:http): /metrics (Prometheus), /healthz (liveness: the process
// and its informers are not stuck) and /readyz (readiness: caches synced). A standby replica is ready
// too — it serves probes and metrics while waiting for the lease. `?verbose` lists every check.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import type { CacheSet } from "./cache.js";
import { silentLogger } from "./log.js";
import type { Logger } from "../contract/index.js";

export interface CheckResult {
  ok: boolean;
  message?: string;
}

export interface HealthCheck {
  name: string;
  check(): CheckResult | Promise<CheckResult>;
}

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  liveness?: HealthCheck[];
  readiness?: HealthCheck[];
  logger?: Logger;
}

export interface HealthServer {
  /** The bound port (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

export const pingCheck: HealthCheck = { name: "ping", check: () => ({ ok: true }) };

/** Liveness: no informer has been silent long past its watchdog (a wedged watch the watchdog could not fix). */
export function informersNotStalledCheck(cache: CacheSet): HealthCheck {
  return {
    name: "informers",
    check: () => {
      const stalled = cache.stalled();
      return stalled.length === 0
        ? { ok: true }
        : { ok: false, message: `stalled: ${stalled.map((i) => `${i.apiVersion}/${i.kind}`).join(", ")}` };
    },
  };
}

/** Readiness: every informer finished its first list. */
export function informersSyncedCheck(cache: CacheSet): HealthCheck {
  return {
    name: "informer-sync",
    check: () => {
      const pending = cache.all().filter((i) => !i.hasSynced());
      return pending.length === 0
        ? { ok: true }
        : { ok: false, message: `not synced: ${pending.map((i) => `${i.apiVersion}/${i.kind}`).join(", ")}` };
    },
  };
}

async function runChecks(checks: HealthCheck[]): Promise<{ ok: boolean; lines: string[] }> {
  const lines: string[] = [];
  let ok = true;
  for (const c of checks) {
    let result: CheckResult;
    try {
      result = await c.check();
    } catch (err) {
      result = { ok: false, message: (err as Error).message };
    }
    ok &&= result.ok;
    lines.push(result.ok ? `[+]${c.name} ok` : `[-]${c.name} failed: ${result.message ?? "not ok"}`);
  }
  return { ok, lines };
}

export async function startHealthServer(opts: HealthServerOptions): Promise<HealthServer> {
  const log = opts.logger ?? silentLogger();
  const liveness = [pingCheck, ...(opts.liveness ?? [])];
  const readiness = [pingCheck, ...(opts.readiness ?? [])];

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    const respond = async (): Promise<void> => {
      if (url.pathname === "/metrics") {
        const body = await opts.registry.metrics();
        res.writeHead(200, { "content-type": opts.registry.contentType }).end(body);
        return;
      }
      const checks = url.pathname === "/healthz" || url.pathname === "/livez" ? liveness : url.pathname === "/readyz" ? readiness : undefined;
      if (!checks) {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
        return;
      }
      const { ok, lines } = await runChecks(checks);
      const verbose = url.searchParams.has("verbose");
      const body = verbose || !ok ? `${lines.join("\n")}\n${url.pathname.slice(1)} ${ok ? "check passed" : "check failed"}\n` : "ok";
      if (!ok) log.warn("health check failed", { path: url.pathname, failed: lines.filter((l) => l.startsWith("[-]")) });
      res.writeHead(ok ? 200 : 500, { "content-type": "text/plain; charset=utf-8" }).end(body);
    };
    respond().catch((err: unknown) => {
      log.error("health endpoint failed", { err });
      if (!res.headersSent) res.writeHead(500).end();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  log.info("serving /metrics, /healthz and /readyz", { port });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
