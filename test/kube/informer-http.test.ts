// Informer over real HTTP against a tiny loopback API server: exact list/watch URLs, resume from the
// last resourceVersion after a dropped stream, relist on 410 (in-stream ERROR and HTTP status).
import { expect } from "chai";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { createInformer, type Informer } from "../../operator/src/kube/informer.js";
import { testKubeConfig } from "./helpers.js";

type Route = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => void;

const cm = (name: string, rv: string) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "ns", resourceVersion: rv } });
const line = (type: string, object: unknown) => `${JSON.stringify({ type, object })}\n`;

async function waitFor(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe("informer over HTTP", () => {
  let server: http.Server;
  let base: string;
  let lists: Route[];
  let watches: Route[];
  const urls: string[] = [];
  const open: http.ServerResponse[] = [];
  let informer: Informer | undefined;

  beforeEach(async () => {
    urls.length = 0;
    lists = [];
    watches = [];
    server = http.createServer((req, res) => {
      const url = new URL(req.url!, "http://x");
      urls.push(`${url.pathname}?${url.searchParams.toString()}`);
      const route = url.searchParams.get("watch") === "true" ? watches.shift() : lists.shift();
      if (!route) {
        // keep unexpected watches open and quiet; fail unexpected lists
        if (url.searchParams.get("watch") === "true") {
          res.writeHead(200, { "content-type": "application/json" });
          res.flushHeaders();
          open.push(res);
          return;
        }
        res.writeHead(500).end();
        return;
      }
      route(req, res, url);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    open.splice(0).forEach((r) => r.destroy());
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const start = (): { informer: Informer; events: string[] } => {
    const client = createClusterClient(testKubeConfig(base), { qps: 0 });
    const events: string[] = [];
    informer = createInformer({
      source: client,
      apiVersion: "v1",
      kind: "ConfigMap",
      namespace: "ns",
      labelSelector: "app=olares",
      resyncPeriodMs: 0,
      minRelistIntervalMs: 0,
      backoff: { initialMs: 1, capMs: 5 },
    });
    informer.addHandler({
      onAdd: (o) => events.push(`add ${o.metadata.name}@${o.metadata.resourceVersion}`),
      onUpdate: (_o, n) => events.push(`update ${n.metadata.name}@${n.metadata.resourceVersion}`),
      onDelete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    return { informer, events };
  };

  it("lists, watches from the list RV with bookmarks, resumes a dropped stream from the last RV, relists on an in-stream 410", async () => {
    lists.push((_q, res) => res.end(JSON.stringify({ metadata: { resourceVersion: "100" }, items: [cm("a", "90")] })));
    watches.push((_q, res) => {
      res.writeHead(200);
      res.write(line("MODIFIED", cm("a", "101")));
      res.write(line("BOOKMARK", { kind: "ConfigMap", apiVersion: "v1", metadata: { resourceVersion: "105" } }));
      res.end(); // the connection drops
    });
    watches.push((_q, res) => {
      res.writeHead(200);
      res.write(line("ERROR", { kind: "Status", apiVersion: "v1", code: 410, reason: "Expired", message: "too old resource version: 105 (150)" }));
      open.push(res);
    });
    lists.push((_q, res) => res.end(JSON.stringify({ metadata: { resourceVersion: "200" }, items: [cm("b", "180")] })));

    const { informer: inf, events } = start();
    await waitFor(() => urls.length >= 5, "list, watch, watch, relist, watch");
    await waitFor(() => events.length >= 4, "events");

    expect(urls).to.deep.equal([
      "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dolares&limit=500",
      urls[1],
      urls[2],
      "/api/v1/namespaces/ns/configmaps?labelSelector=app%3Dolares&limit=500",
      urls[4],
    ]);
    const watchParams = [urls[1]!, urls[2]!, urls[4]!].map((u) => new URLSearchParams(u.split("?")[1]));
    expect(watchParams.map((p) => p.get("resourceVersion"))).to.deep.equal(["100", "105", "200"]);
    for (const p of watchParams) {
      expect(p.get("watch")).to.equal("true");
      expect(p.get("allowWatchBookmarks")).to.equal("true");
      expect(p.get("labelSelector")).to.equal("app=olares");
      expect(Number(p.get("timeoutSeconds"))).to.be.within(300, 600);
    }
    expect(urls[1]!.startsWith("/api/v1/namespaces/ns/configmaps?")).to.equal(true);
    expect(events).to.deep.equal(["add a@90", "update a@101", "add b@180", "delete a"]);
    expect(inf.list().map((o) => o.metadata.name)).to.deep.equal(["b"]);
    expect(inf.hasSynced()).to.equal(true);
  });

  it("relists when the watch request itself is answered 410 Gone", async () => {
    lists.push((_q, res) => res.end(JSON.stringify({ metadata: { resourceVersion: "10" }, items: [] })));
    watches.push((_q, res) => {
      res.writeHead(410, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 410, reason: "Expired", message: "too old" }));
    });
    lists.push((_q, res) => res.end(JSON.stringify({ metadata: { resourceVersion: "50" }, items: [cm("x", "50")] })));
    const { events } = start();
    await waitFor(() => events.length === 1 && urls.length >= 4, "relist and new watch");
    expect(new URLSearchParams(urls[3]!.split("?")[1]).get("resourceVersion")).to.equal("50");
    expect(events).to.deep.equal(["add x@50"]);
  });

  it("retries a failing list with backoff until it succeeds", async () => {
    lists.push((_q, res) => res.writeHead(503).end());
    lists.push((_q, res) => res.end(JSON.stringify({ metadata: { resourceVersion: "7" }, items: [cm("a", "7")] })));
    const { informer: inf } = start();
    await inf.waitForSync();
    expect(inf.get("a", "ns")?.metadata.resourceVersion).to.equal("7");
    expect(inf.counters().relists).to.equal(2);
  });
});
