import { expect } from "chai";
import { createMetrics, measureStage } from "../../operator/src/kube/metrics.js";

describe("metrics", () => {
  it("measures stage reconciles: count by result, errors and duration", async () => {
    const m = createMetrics();
    await measureStage(m, "Storage", async () => ({ ready: true }), (r) => (r.ready ? "ready" : "progressing"));
    await measureStage(m, "Storage", async () => ({ ready: false }), (r) => (r.ready ? "ready" : "progressing"));
    const err = await measureStage(m, "GPU", async () => {
      throw new Error("apply failed");
    }).catch((e: Error) => e);
    expect((err as Error).message).to.equal("apply failed");
    const text = await m.registry.metrics();
    expect(text).to.include('olares_operator_reconcile_total{stage="Storage",result="ready"} 1');
    expect(text).to.include('olares_operator_reconcile_total{stage="Storage",result="progressing"} 1');
    expect(text).to.include('olares_operator_reconcile_total{stage="GPU",result="error"} 1');
    expect(text).to.include('olares_operator_reconcile_errors_total{stage="GPU"} 1');
    expect(text).to.include('olares_operator_reconcile_duration_seconds_count{stage="Storage"} 2');
  });

  it("keeps registries apart so several operators (or tests) can coexist", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.apiRequests.inc({ verb: "get", code: "200" });
    expect(await a.registry.metrics()).to.include('olares_operator_api_requests_total{verb="get",code="200"} 1');
    expect(await b.registry.metrics()).to.not.include('verb="get"');
  });
});
