import { expect } from "chai";
import { CacheSet } from "../../operator/src/kube/cache.js";
import { FakeClock } from "../../operator/src/kube/clock.js";
import { startHealthServer, informersNotStalledCheck, informersSyncedCheck, type HealthServer } from "../../operator/src/kube/health.js";
import { createInformer } from "../../operator/src/kube/informer.js";
import { createMetrics } from "../../operator/src/kube/metrics.js";
import type { ListerWatcher } from "../../operator/src/kube/types.js";

describe("health and metrics server", () => {
  let server: HealthServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const get = async (path: string) => {
    const res = await fetch(`http://127.0.0.1:${server!.port}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get("content-type") };
  };

  it("serves Prometheus metrics including reconcile, queue and API request series", async () => {
    const metrics = createMetrics();
    metrics.reconcileTotal.inc({ stage: "Prerequisites", result: "ready" });
    metrics.reconcileDuration.observe({ stage: "Prerequisites" }, 0.02);
    metrics.apiRequests.inc({ verb: "apply", code: "200" });
    metrics.queueDepth.set({ queue: "olares" }, 1);
    server = await startHealthServer({ port: 0, host: "127.0.0.1", registry: metrics.registry });
    const res = await get("/metrics");
    expect(res.status).to.equal(200);
    expect(res.type).to.match(/^text\/plain/);
    expect(res.body).to.include('olares_operator_reconcile_total{stage="Prerequisites",result="ready"} 1');
    expect(res.body).to.include('olares_operator_reconcile_duration_seconds_bucket{le="0.025",stage="Prerequisites"} 1');
    expect(res.body).to.include('olares_operator_api_requests_total{verb="apply",code="200"} 1');
    expect(res.body).to.include('olares_operator_workqueue_depth{queue="olares"} 1');
  });

  it("is ready only when informers synced, and unhealthy when an informer stalls", async () => {
    const clock = new FakeClock();
    let listCalls = 0;
    const source: ListerWatcher = {
      listWithVersion: async () => {
        if (++listCalls > 1) throw new Error("apiserver down");
        return { items: [], resourceVersion: "1" };
      },
      watch: async () => ({ stop: () => undefined }),
    };
    const informer = createInformer({ source, apiVersion: "v1", kind: "Node", clock, watchdogMs: 1_000, minRelistIntervalMs: 0, resyncPeriodMs: 0 });
    const cache = new CacheSet([informer]);
    server = await startHealthServer({
      port: 0,
      host: "127.0.0.1",
      registry: createMetrics().registry,
      liveness: [informersNotStalledCheck(cache)],
      readiness: [informersSyncedCheck(cache)],
    });
    const notReady = await get("/readyz");
    expect(notReady.status).to.equal(500);
    expect(notReady.body).to.include("[-]informer-sync failed: not synced: v1/Node");
    cache.start();
    await clock.advance(0);
    expect((await get("/readyz")).status).to.equal(200);
    expect(await get("/healthz")).to.include({ status: 200, body: "ok" });
    expect((await get("/healthz?verbose")).body).to.include("[+]informers ok");
    await clock.advance(2_500); // watch silent, every relist fails
    const unhealthy = await get("/healthz");
    expect(unhealthy.status).to.equal(500);
    expect(unhealthy.body).to.include("[-]informers failed: stalled: v1/Node");
    await cache.stop();
  });

  it("answers 404 for unknown paths and 405 for other methods", async () => {
    server = await startHealthServer({ port: 0, host: "127.0.0.1", registry: createMetrics().registry });
    expect((await get("/nope")).status).to.equal(404);
    const res = await fetch(`http://127.0.0.1:${server.port}/healthz`, { method: "POST" });
    expect(res.status).to.equal(405);
  });
});
