import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { configMap, eventually, startBed, type Bed } from "./helpers.js";

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  obj: any;
}

describe("simulator: watch", () => {
  let bed: Bed;
  const aborts: AbortController[] = [];
  before(async () => {
    bed = await startBed({ controllers: false, bookmarkIntervalMs: 50, historySize: 20 });
  });
  afterEach(() => aborts.splice(0).forEach((a) => a.abort()));
  after(() => bed.sim.stop());

  const watch = async (path: string, query: Record<string, string | number | boolean>) => {
    const seen: Seen[] = [];
    let ended: unknown = "open";
    const w = new k8s.Watch(bed.kc);
    const ctl = await w.watch(path, query, (type, obj) => seen.push({ type, name: obj?.metadata?.name, rv: obj?.metadata?.resourceVersion, obj }), (err) => (ended = err ?? null));
    aborts.push(ctl);
    return { seen, ended: () => ended };
  };

  it("streams ADDED/MODIFIED/DELETED from a resourceVersion (no replay of older events)", async () => {
    bed.sim.seed(configMap("before"));
    const start = String(bed.sim.store.resourceVersion);
    const { seen } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: start });
    const rt = bed.sim.api.registry.get("", "configmaps")!;
    bed.sim.seed(configMap("w1"));
    bed.sim.api.patch(rt, "default", "w1", "merge", { data: { a: "1" } }, {});
    bed.sim.api.delete(rt, "default", "w1");
    await eventually(() => seen.length >= 3, 2000, "three events");
    expect(seen.map((s) => `${s.type} ${s.name}`)).to.deep.equal(["ADDED w1", "MODIFIED w1", "DELETED w1"]);
    expect(Number(seen[2].rv)).to.be.greaterThan(Number(seen[1].rv));
  });

  it("replays history after a resourceVersion and sends synthetic ADDED for resourceVersion 0", async () => {
    const from = String(bed.sim.store.resourceVersion);
    bed.sim.seed(configMap("late"));
    const resumed = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: from });
    await eventually(() => resumed.seen.some((s) => s.name === "late"), 2000, "replayed event");
    const fresh = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: "0" });
    await eventually(() => fresh.seen.length >= 2, 2000, "initial state");
    expect(fresh.seen.every((s) => s.type === "ADDED")).to.equal(true);
    expect(fresh.seen.map((s) => s.name)).to.include.members(["before", "late"]);
  });

  it("sends BOOKMARK events when allowWatchBookmarks is set", async () => {
    const { seen } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: String(bed.sim.store.resourceVersion), allowWatchBookmarks: true });
    await eventually(() => seen.some((s) => s.type === "BOOKMARK"), 2000, "a bookmark");
    const b = seen.find((s) => s.type === "BOOKMARK")!;
    expect(b.obj.kind).to.equal("ConfigMap");
    expect(Number(b.rv)).to.equal(bed.sim.store.resourceVersion);
  });

  it("answers an ERROR 410 Expired event for a resourceVersion older than the retained history", async () => {
    const old = String(bed.sim.store.resourceVersion);
    for (let i = 0; i < 30; i++) bed.sim.seed(configMap(`churn-${i}`));
    const { seen, ended } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: old });
    await eventually(() => seen.length > 0, 2000, "the error event");
    expect(seen[0].type).to.equal("ERROR");
    expect(seen[0].obj).to.include({ code: 410, reason: "Expired" });
    expect(seen[0].obj.message).to.match(/^too old resource version: \d+ \(\d+\)$/);
    await eventually(() => ended() !== "open", 2000, "stream end");
  });

  it("answers 410 after an explicit compaction even inside the window", async () => {
    const rv = String(bed.sim.store.resourceVersion);
    bed.sim.seed(configMap("after-compaction-point"));
    bed.sim.faults.compactHistory();
    const { seen } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: rv });
    await eventually(() => seen.length > 0, 2000, "the error event");
    expect(seen[0].obj.code).to.equal(410);
  });

  it("filters by label selector, turning matching transitions into ADDED / DELETED", async () => {
    const rt = bed.sim.api.registry.get("", "configmaps")!;
    const { seen } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: String(bed.sim.store.resourceVersion), labelSelector: "pick=yes" });
    bed.sim.seed(configMap("sel", "default", {}, { pick: "no" }));
    bed.sim.api.patch(rt, "default", "sel", "merge", { metadata: { labels: { pick: "yes" } } }, {});
    bed.sim.api.patch(rt, "default", "sel", "merge", { data: { x: "1" } }, {});
    bed.sim.api.patch(rt, "default", "sel", "merge", { metadata: { labels: { pick: "no" } } }, {});
    await eventually(() => seen.length >= 3, 2000, "three events");
    expect(seen.map((s) => s.type)).to.deep.equal(["ADDED", "MODIFIED", "DELETED"]);
  });

  it("filters by field selector and by the watch/ path with a name", async () => {
    const { seen } = await watch("/api/v1/watch/namespaces/default/configmaps/only-me", { resourceVersion: String(bed.sim.store.resourceVersion) });
    const byField = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: String(bed.sim.store.resourceVersion), fieldSelector: "metadata.name=only-me" });
    bed.sim.seed(configMap("not-me"), configMap("only-me"));
    await eventually(() => seen.length >= 1 && byField.seen.length >= 1, 2000, "events");
    expect(seen.map((s) => s.name)).to.deep.equal(["only-me"]);
    expect(byField.seen.map((s) => s.name)).to.deep.equal(["only-me"]);
  });

  it("ends the stream after timeoutSeconds", async () => {
    const t0 = Date.now();
    const { ended } = await watch("/api/v1/namespaces/default/configmaps", { resourceVersion: String(bed.sim.store.resourceVersion), timeoutSeconds: 1 });
    await eventually(() => ended() !== "open", 3000, "timeout");
    expect(Date.now() - t0).to.be.within(900, 2500);
  });

  it("kubectl get --watch-only prints changes", async () => {
    const p = bed.kubectl(["get", "configmaps", "--watch-only", "--request-timeout=1s", "-o", "name"]);
    await eventually(() => bed.sim.watches.open > 0, 3000, "kubectl's watch");
    bed.sim.seed(configMap("kubectl-sees-me"));
    const r = await p;
    expect(r.stdout).to.contain("configmap/kubectl-sees-me");
  });
});
