// HTTP to the API server: credentials from a KubeConfig, client-side rate limit (QPS/burst like
// client-go), a request counter by verb and code, and typed errors. Bodies are never logged.
import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { realClock, type Clock } from "./clock.js";
import { ApiError, apiErrorFromResponse } from "./errors.js";
import { TokenBucket } from "./ratelimit.js";
import type { OperatorMetrics } from "./metrics.js";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "apply" | "delete" | "evict" | "discovery";

export interface TransportOptions {
  /** Sustained requests per second (default DEFAULT_QPS). 0 disables limiting. */
  qps?: number;
  /** Requests allowed at once above the sustained rate (default DEFAULT_BURST). */
  burst?: number;
  clock?: Clock;
  metrics?: OperatorMetrics;
  userAgent?: string;
  /** Per-request timeout for non-watch requests (default 30 s). */
  timeoutMs?: number;
  /**
   * Retries of a request the server refused with Retry-After (429, 5xx), like client-go's rest client
   * (default 5; evictions are never retried here: a PodDisruptionBudget refusal goes back to the caller).
   */
  maxRetries?: number;
  /** Longest Retry-After honoured, seconds (default 10). */
  maxRetryAfterSeconds?: number;
  /**
   * Connections open at once for requests (default 128); idle ones are kept alive. Watches each get a
   * connection of their own outside this pool: a watch holds its connection for minutes, so pooled
   * watches beyond maxSockets would leave every other request queued behind them forever.
   */
  maxSockets?: number;
  /**
   * Act as this user (the Impersonate-User header, as `kubectl --as`): the operator writes the release's
   * own objects as the installer ServiceAccount helm runs as, keeping its own ClusterRole least-privilege.
   */
  impersonateUser?: string;
}

/**
 * Client-side limit defaults. client-go's bare default (5/10) is for ad-hoc tools; its controllers run
 * higher (kube-controller-manager and controller-runtime managers commonly 20–50 / 30–100). A first
 * install sends ~objects + status + node handshake writes in a couple of seconds, so 50/100 lets it
 * finish well within 2 s, while a runaway loop is still held to 50 requests/s — the apiserver's
 * priority-and-fairness queues are the server-side guard beyond that.
 */
export const DEFAULT_QPS = 50;
export const DEFAULT_BURST = 100;

export interface HttpRequest {
  verb: Verb;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  body: string;
}

export interface HttpStream {
  response: http.IncomingMessage;
  abort(): void;
}

export class Transport {
  private readonly limiter?: TokenBucket;
  private readonly counts = new Map<string, number>();
  private agent?: http.Agent;
  private streamAgent?: http.Agent;
  private readonly server: string;
  private readonly timeoutMs: number;
  private readonly userAgent: string;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: TransportOptions = {},
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig: no current cluster (current-context missing or invalid)");
    this.server = cluster.server.replace(/\/+$/, "");
    const qps = opts.qps ?? DEFAULT_QPS;
    if (qps > 0) this.limiter = new TokenBucket(qps, opts.burst ?? DEFAULT_BURST, opts.clock ?? realClock);
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.userAgent = opts.userAgent ?? "olares-operator";
  }

  /** Requests sent so far, by verb (what the benchmark reads). */
  requestCounts(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }

  url(path: string, query: HttpRequest["query"] = {}): URL {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    return url;
  }

  private count(verb: Verb, code: number): void {
    this.counts.set(verb, (this.counts.get(verb) ?? 0) + 1);
    this.opts.metrics?.apiRequests.inc({ verb, code: String(code) });
  }

  private async prepare(req: HttpRequest, stream = false): Promise<{ url: URL; options: http.RequestOptions; payload?: string }> {
    if (this.limiter) await this.limiter.wait(req.signal);
    // Headers (token, exec and auth-provider credentials) are fresh per request; `tls` receives the TLS material.
    const tls: https.RequestOptions = {};
    const init = await this.kc.applyToFetchOptions(tls);
    this.agent ??= this.keepAliveAgent(tls, init.agent as http.Agent | undefined);
    if (stream) this.streamAgent ??= this.watchAgent(tls, init.agent as http.Agent | undefined);
    const agent = stream ? this.streamAgent : this.agent;
    const headers: Record<string, string> = {};
    const source = init.headers as { forEach?: (cb: (v: string, k: string) => void) => void } | undefined;
    source?.forEach?.((v, k) => (headers[k] = v));
    headers["accept"] = "application/json";
    headers["user-agent"] = this.userAgent;
    if (this.opts.impersonateUser) headers["impersonate-user"] = this.opts.impersonateUser;
    let payload: string | undefined;
    if (req.body !== undefined) {
      payload = JSON.stringify(req.body);
      headers["content-type"] = req.contentType ?? "application/json";
      headers["content-length"] = String(Buffer.byteLength(payload));
    }
    const options: http.RequestOptions = { method: req.method, headers, ...(agent ? { agent } : {}) };
    return { url: this.url(req.path, req.query), options, ...(payload !== undefined ? { payload } : {}) };
  }

  /**
   * One agent per client, keeping connections alive: client-node builds a new agent per call without
   * keepAlive, which costs a TLS handshake per request. A proxy keeps client-node's proxy agent.
   */
  private keepAliveAgent(tls: https.RequestOptions, clientNodeAgent: http.Agent | undefined): http.Agent | undefined {
    return this.makeAgent(tls, clientNodeAgent, { keepAlive: true, maxSockets: this.opts.maxSockets ?? 128 });
  }

  /** Watches: one connection each, unbounded in number (one per informer), not kept for reuse. */
  private watchAgent(tls: https.RequestOptions, clientNodeAgent: http.Agent | undefined): http.Agent | undefined {
    return this.makeAgent(tls, clientNodeAgent, { keepAlive: false, maxSockets: Infinity });
  }

  private makeAgent(tls: https.RequestOptions, clientNodeAgent: http.Agent | undefined, pool: { keepAlive: boolean; maxSockets: number }): http.Agent | undefined {
    if (this.kc.getCurrentCluster()?.proxyUrl) return clientNodeAgent;
    if (this.server.startsWith("http:")) return new http.Agent(pool);
    return new https.Agent({
      ...pool,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.pfx !== undefined ? { pfx: tls.pfx } : {}),
      ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
      ...(tls.servername !== undefined ? { servername: tls.servername } : {}),
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
    });
  }

  /** Closes idle kept-alive connections (shutdown, tests). */
  close(): void {
    this.agent?.destroy();
    this.streamAgent?.destroy();
  }

  private open(url: URL, options: http.RequestOptions, payload: string | undefined, signal?: AbortSignal): Promise<{ res: http.IncomingMessage; req: http.ClientRequest }> {
    return new Promise((resolve, reject) => {
      const mod = url.protocol === "https:" ? https : http;
      const req = mod.request(url, { ...options, ...(signal ? { signal } : {}) }, (res) => {
        // Errors before the reader attaches would be uncaught; readers still see them via `errored`.
        res.on("error", () => undefined);
        resolve({ res, req });
      });
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private describe(req: HttpRequest): string {
    return `${req.method} ${req.path}`;
  }

  /** One request/response; throws ApiError for HTTP >= 400 and for requests that got no answer. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const maxRetries = req.verb === "evict" ? 0 : (this.opts.maxRetries ?? 5);
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(req);
      } catch (err) {
        const wait = err instanceof ApiError ? err.retryAfterSeconds : undefined;
        if (wait === undefined || attempt >= maxRetries) throw err;
        const seconds = Math.min(Math.max(wait, 0), this.opts.maxRetryAfterSeconds ?? 10);
        await (this.opts.clock ?? realClock).sleep(seconds * 1000, req.signal);
      }
    }
  }

  private async requestOnce(req: HttpRequest): Promise<HttpResponse> {
    const { url, options, payload } = await this.prepare(req);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    let status = 0;
    try {
      const { res } = await this.open(url, options, payload, signal);
      status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks).toString("utf8");
      this.count(req.verb, status);
      if (status >= 400) {
        const err = apiErrorFromResponse(status, body, this.describe(req));
        const retryAfter = Number(res.headers["retry-after"]);
        if ((status === 429 || status >= 500) && res.headers["retry-after"] !== undefined && Number.isFinite(retryAfter)) {
          err.retryAfterSeconds = retryAfter;
        }
        throw err;
      }
      return { status, body };
    } catch (err) {
      if (err instanceof ApiError) throw err;
      if (status === 0) this.count(req.verb, 0);
      const reason = timeout.aborted ? "Timeout" : "ServiceUnavailable";
      throw new ApiError(0, reason, `${this.describe(req)}: ${(err as Error).message}`, [], this.describe(req));
    }
  }

  /** A streaming GET (watch). Non-200 answers become ApiError. */
  async stream(req: HttpRequest): Promise<HttpStream> {
    const { url, options, payload } = await this.prepare(req, true);
    const controller = new AbortController();
    const signal = req.signal ? AbortSignal.any([req.signal, controller.signal]) : controller.signal;
    let res: http.IncomingMessage;
    try {
      ({ res } = await this.open(url, options, payload, signal));
    } catch (err) {
      this.count(req.verb, 0);
      throw new ApiError(0, "ServiceUnavailable", `${this.describe(req)}: ${(err as Error).message}`, [], this.describe(req));
    }
    const status = res.statusCode ?? 0;
    this.count(req.verb, status);
    if (status !== 200) {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      throw apiErrorFromResponse(status, Buffer.concat(chunks).toString("utf8"), this.describe(req));
    }
    // Aborting after a complete response would destroy a keep-alive socket already reused by another request.
    return { response: res, abort: () => void (res.complete || controller.abort()) };
  }
}
