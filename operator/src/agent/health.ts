// The agent's health endpoint for the DaemonSet readiness probe: /healthz answers while the process
// runs; /readyz once a sync has completed and the last one is not older than `staleMs`.
import { createServer, type Server } from "node:http";

export interface AgentHealth {
  markSynced(): void;
  ready(): boolean;
}

export function agentHealth(staleMs: number, now: () => number = Date.now): AgentHealth {
  let last = 0;
  return {
    markSynced: () => {
      last = now();
    },
    ready: () => last !== 0 && now() - last <= staleMs,
  };
}

/** Parses ":18099" or "127.0.0.1:18099" (port 0: any free port, for tests). */
export function parseListenAddress(addr: string): { host?: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(addr.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--health-addr: "${addr}" must be [host]:port with port 0..65535`);
  return { ...(m[1] ? { host: m[1].replace(/^\[|\]$/g, "") } : {}), port };
}

export async function serveHealth(addr: string, health: AgentHealth): Promise<Server> {
  const { host, port } = parseListenAddress(addr);
  const server = createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0];
    const ok = path === "/healthz" || (path === "/readyz" && health.ready());
    const known = path === "/healthz" || path === "/readyz";
    res.writeHead(known ? (ok ? 200 : 503) : 404, { "content-type": "text/plain" });
    res.end(known ? (ok ? "ok\n" : "not ready\n") : "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
