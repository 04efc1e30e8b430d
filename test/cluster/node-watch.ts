// Records every Node write on the real kube-apiserver through a watch on /api/v1/nodes: each event
// carries the whole Node at that resourceVersion, so replaying them in order rebuilds the cluster's
// Nodes after every single write and the rollout invariants (nodes in flight, cordons, hand-outs) are
// checked at every moment, not only at the end. A cut watch resumes from the last resourceVersion; an
// expired one (410) fails the recorder loudly instead of missing writes.
import { request } from "node:https";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { inFlight, nodeView, type NodeView } from "../e2e-nodes/harness.js";
import type { ControlPlane } from "../support/controlplane.js";
import type { Json } from "./helpers.js";

export interface ClusterNodeRecorder {
  /** Largest number of nodes in flight at the same moment (after any single Node write). */
  readonly maxInFlight: number;
  /** The resourceVersion and the nodes in flight at the worst moment, for failure messages. */
  readonly worst: string;
  /** Each desired-config value handed to a node since the last reset(), in order (changes only). */
  readonly desiredHistory: Map<string, string[]>;
  /** Every hand-out since the last reset(), in order. */
  readonly handOuts: Array<{ node: string; config: string }>;
  /** Nodes seen unschedulable at any moment since the last reset(). */
  readonly everCordoned: Set<string>;
  /** Nodes seen with state Degraded at any moment since the last reset(). */
  readonly everDegraded: Set<string>;
  /** Each node's olares.com/state values since the last reset(), in order (changes only). */
  readonly states: Map<string, string[]>;
  /** Node events replayed so far. */
  readonly events: number;
  /** Set when the watch could not be resumed (the recorder stopped seeing writes). */
  readonly failure: string | undefined;
  /** The latest view of every node. */
  nodes(): NodeView[];
  /** Resolves once every Node write made before the call has been replayed. */
  caughtUp(timeoutMs?: number): Promise<void>;
  reset(): void;
  stop(): void;
}

interface Creds {
  server: URL;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

function adminCredentials(cp: ControlPlane): Creds {
  const kc = parse(readFileSync(cp.kubeconfig, "utf8")) as Json;
  const user = kc.users[0].user;
  return {
    server: new URL(cp.server),
    ca: readFileSync(join(cp.dir, "pki/ca.crt")),
    cert: Buffer.from(user["client-certificate-data"], "base64"),
    key: Buffer.from(user["client-key-data"], "base64"),
  };
}

export async function recordClusterNodes(cp: ControlPlane): Promise<ClusterNodeRecorder> {
  const creds = adminCredentials(cp);
  const live = new Map<string, NodeView>();
  const seenRv = new Map<string, string>();
  const lastDesired = new Map<string, string | undefined>();
  const desiredHistory = new Map<string, string[]>();
  const handOuts: Array<{ node: string; config: string }> = [];
  const everCordoned = new Set<string>();
  const everDegraded = new Set<string>();
  const states = new Map<string, string[]>();
  let maxInFlight = 0;
  let worst = "";
  let events = 0;
  let failure: string | undefined;
  let stopped = false;
  let lastRv = "";
  let current: ReturnType<typeof request> | undefined;

  const sample = (rv: string) => {
    const views = [...live.values()];
    const flying = views.filter(inFlight);
    if (flying.length > maxInFlight) {
      maxInFlight = flying.length;
      worst = `rv ${rv}: ${flying.map((v) => `${v.name} ${v.state ?? "-"} ${v.current ?? "-"}→${v.desired ?? "-"}`).join(", ")}`;
    }
    for (const v of views) {
      if (v.unschedulable) everCordoned.add(v.name);
      if (v.state === "Degraded") everDegraded.add(v.name);
      const seen = states.get(v.name) ?? [];
      if (v.state && seen.at(-1) !== v.state) states.set(v.name, [...seen, v.state]);
      if (lastDesired.get(v.name) === v.desired) continue;
      lastDesired.set(v.name, v.desired);
      if (!v.desired) continue;
      desiredHistory.set(v.name, [...(desiredHistory.get(v.name) ?? []), v.desired]);
      handOuts.push({ node: v.name, config: v.desired });
    }
  };

  const list = await cp.api("GET", "/api/v1/nodes");
  if (list.status !== 200) throw new Error(`listing nodes: ${list.status} ${list.text}`);
  for (const n of list.json.items as Json[]) {
    const v = nodeView(n);
    live.set(v.name, v);
    seenRv.set(v.name, String(n.metadata.resourceVersion));
    lastDesired.set(v.name, v.desired);
  }
  lastRv = String(list.json.metadata.resourceVersion);

  const open = () => {
    if (stopped) return;
    const path = `/api/v1/nodes?watch=true&allowWatchBookmarks=true&resourceVersion=${lastRv}`;
    let buffer = "";
    const req = request(new URL(path, creds.server), { ca: creds.ca, cert: creds.cert, key: creds.key, headers: { Accept: "application/json" } }, (res) => {
      if (res.statusCode !== 200) {
        failure = `node watch answered ${res.statusCode}`;
        res.resume();
        return;
      }
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf("\n")) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!line) continue;
          const ev = JSON.parse(line) as { type: string; object: Json };
          if (ev.type === "ERROR") {
            failure = `node watch ERROR: ${ev.object?.message ?? JSON.stringify(ev.object)}`;
            stopped = true;
            req.destroy();
            return;
          }
          lastRv = String(ev.object.metadata.resourceVersion);
          if (ev.type === "BOOKMARK") continue;
          const v = nodeView(ev.object);
          if (ev.type === "DELETED") live.delete(v.name);
          else live.set(v.name, v);
          seenRv.set(v.name, lastRv);
          events++;
          sample(lastRv);
        }
      });
      res.on("end", () => setTimeout(open, 50));
      res.on("error", () => undefined);
    });
    req.on("error", () => {
      if (!stopped) setTimeout(open, 200);
    });
    req.end();
    current = req;
  };
  open();

  return {
    get maxInFlight() {
      return maxInFlight;
    },
    get worst() {
      return worst;
    },
    desiredHistory,
    handOuts,
    everCordoned,
    everDegraded,
    states,
    get events() {
      return events;
    },
    get failure() {
      return failure;
    },
    nodes: () => [...live.values()].sort((a, b) => a.name.localeCompare(b.name)),
    async caughtUp(timeoutMs = 10_000) {
      const fresh = (await cp.api("GET", "/api/v1/nodes")).json.items as Json[];
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (failure) throw new Error(failure);
        if (fresh.every((n) => Number(seenRv.get(n.metadata.name) ?? 0) >= Number(n.metadata.resourceVersion))) return;
        if (Date.now() > deadline) throw new Error(`the node watch did not catch up within ${timeoutMs} ms (at rv ${lastRv})`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    reset() {
      handOuts.length = 0;
      maxInFlight = 0;
      worst = "";
      desiredHistory.clear();
      everCordoned.clear();
      everDegraded.clear();
      states.clear();
    },
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}
