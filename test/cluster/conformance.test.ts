// Differential conformance: the same HTTP requests against the cluster simulator (test/sim) and the real
// kube-apiserver; the observations (status codes, Status bodies, generations, immutability verdicts)
// must be equal. A divergence that is understood and not fixed is listed in KNOWN (and in
// test/sim/README.md) with why: the test then checks that it still diverges, so a fix is noticed.
import { expect } from "chai";
import { raw } from "../simulator/helpers.js";
import { startSimulator, type Simulator } from "../sim/server.js";
import { ON_KUBE, requireControlPlane, startControlPlane, type ControlPlane } from "../support/controlplane.js";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Answer {
  status: number;
  json: Json;
}
type Api = (method: string, path: string, body?: unknown, contentType?: string) => Promise<Answer>;

interface Case {
  name: string;
  /** Runs requests in namespace `ns` (created for the case) and returns what the two servers must agree on. */
  run(api: Api, ns: string): Promise<unknown>;
}

/** A Status body without what differs per server run. */
const status = (a: Answer) => ({ code: a.status, reason: a.json?.reason, message: a.json?.message, causes: a.json?.details?.causes });
const cm = (name: string, data: Record<string, string> = {}, extra: Json = {}) => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, ...extra }, data });
const deployment = (name: string, labels = { app: name }, image = "busybox:1.36") => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name },
  spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "c", image }] } } },
});

const CASES: Case[] = [
  {
    name: "404 NotFound and 409 AlreadyExists Status bodies",
    async run(api, ns) {
      const missing = await api("GET", `/api/v1/namespaces/${ns}/configmaps/missing`);
      const dep = await api("GET", `/apis/apps/v1/namespaces/${ns}/deployments/nope`);
      await api("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("a"));
      const dup = await api("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("a"));
      return { missing: status(missing), missingDetails: missing.json.details, dep: dep.json.message, dup: status(dup) };
    },
  },
  {
    name: "optimistic concurrency: a stale resourceVersion gets 409 Conflict",
    async run(api, ns) {
      const created = (await api("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("c"))).json;
      await api("PUT", `/api/v1/namespaces/${ns}/configmaps/c`, { ...created, data: { x: "1" } });
      const stale = await api("PUT", `/api/v1/namespaces/${ns}/configmaps/c`, { ...created, data: { x: "2" } });
      return status(stale);
    },
  },
  {
    name: "an update that changes nothing keeps the resourceVersion",
    async run(api, ns) {
      const created = (await api("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("n", { a: "1" }))).json;
      const same = (await api("PUT", `/api/v1/namespaces/${ns}/configmaps/n`, created)).json;
      return same.metadata.resourceVersion === created.metadata.resourceVersion;
    },
  },
  {
    name: "a namespaced create in a missing namespace is 404 namespaces not found",
    async run(api) {
      return status(await api("POST", "/api/v1/namespaces/nowhere/configmaps", cm("x")));
    },
  },
  {
    name: "metadata.generation: ConfigMaps have none; Deployments bump it on spec changes only",
    async run(api, ns) {
      const c = (await api("POST", `/api/v1/namespaces/${ns}/configmaps`, cm("g"))).json;
      const d = (await api("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deployment("g"))).json;
      const merge = "application/merge-patch+json";
      const labelled = (await api("PATCH", `/apis/apps/v1/namespaces/${ns}/deployments/g`, { metadata: { labels: { x: "y" } } }, merge)).json;
      const spec = (await api("PATCH", `/apis/apps/v1/namespaces/${ns}/deployments/g`, { spec: { replicas: 3 } }, merge)).json;
      const st = (await api("PATCH", `/apis/apps/v1/namespaces/${ns}/deployments/g/status`, { status: { observedGeneration: 9 } }, merge)).json;
      return { configMap: c.metadata.generation ?? null, created: d.metadata.generation, labelled: labelled.metadata.generation, spec: spec.metadata.generation, status: st.metadata.generation };
    },
  },
  {
    name: "deletion with a finalizer: deletionTimestamp set, generation bumped, object kept until the finalizer goes",
    async run(api, ns) {
      const merge = "application/merge-patch+json";
      await api("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, { ...deployment("f"), metadata: { name: "f", finalizers: ["example.com/hold"] } });
      const del = await api("DELETE", `/apis/apps/v1/namespaces/${ns}/deployments/f`);
      const held = (await api("GET", `/apis/apps/v1/namespaces/${ns}/deployments/f`)).json;
      await api("PATCH", `/apis/apps/v1/namespaces/${ns}/deployments/f`, { metadata: { finalizers: null } }, merge);
      const gone = await api("GET", `/apis/apps/v1/namespaces/${ns}/deployments/f`);
      return { deleteCode: del.status, deleting: typeof held.metadata.deletionTimestamp === "string", generation: held.metadata.generation, goneCode: gone.status };
    },
  },
  {
    name: "immutable: a Service's clusterIP cannot change",
    async run(api, ns) {
      const svc = (await api("POST", `/api/v1/namespaces/${ns}/services`, { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80 }], selector: { app: "s" } } })).json;
      const ip = svc.spec.clusterIP as string;
      const other = ip.replace(/\d+$/, (n) => String((Number(n) % 200) + 2));
      const r = await api("PATCH", `/api/v1/namespaces/${ns}/services/s`, { spec: { clusterIP: other, clusterIPs: [other] } }, "application/merge-patch+json");
      return { code: r.status, reason: r.json.reason, fields: (r.json.details?.causes ?? []).map((c: Json) => c.field).sort() };
    },
  },
  {
    name: "immutable: a StatefulSet's volumeClaimTemplates cannot change",
    async run(api, ns) {
      const sts = (vct: string) => ({
        apiVersion: "apps/v1",
        kind: "StatefulSet",
        metadata: { name: "db" },
        spec: {
          serviceName: "db",
          selector: { matchLabels: { app: "db" } },
          template: { metadata: { labels: { app: "db" } }, spec: { containers: [{ name: "c", image: "busybox" }] } },
          volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: vct } } } }],
        },
      });
      await api("POST", `/apis/apps/v1/namespaces/${ns}/statefulsets`, sts("1Gi"));
      const r = await api("PUT", `/apis/apps/v1/namespaces/${ns}/statefulsets/db`, sts("2Gi"));
      return { code: r.status, reason: r.json.reason, fields: (r.json.details?.causes ?? []).map((c: Json) => c.field).sort() };
    },
  },
  {
    name: "immutable: a Deployment's selector cannot change",
    async run(api, ns) {
      await api("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deployment("sel"));
      const r = await api("PUT", `/apis/apps/v1/namespaces/${ns}/deployments/sel`, deployment("sel", { app: "other" } as { app: string }));
      return { code: r.status, reason: r.json.reason, fields: (r.json.details?.causes ?? []).map((c: Json) => c.field).sort() };
    },
  },
  {
    name: "quantities come back canonical (typed round-trip)",
    async run(api, ns) {
      const d = deployment("q");
      (d.spec.template.spec.containers[0] as Json).resources = { requests: { cpu: "0.5", memory: "1024Mi" }, limits: { memory: "1Gi", cpu: "1000m" } };
      const created = (await api("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, d)).json;
      return created.spec.template.spec.containers[0].resources;
    },
  },
  {
    name: "defaults filled on a Deployment (strategy, revisionHistoryLimit, progressDeadlineSeconds, pod defaults)",
    async run(api, ns) {
      const created = (await api("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, deployment("dflt"))).json;
      const pod = created.spec.template.spec;
      return {
        strategy: created.spec.strategy,
        revisionHistoryLimit: created.spec.revisionHistoryLimit,
        progressDeadlineSeconds: created.spec.progressDeadlineSeconds,
        restartPolicy: pod.restartPolicy,
        dnsPolicy: pod.dnsPolicy,
        schedulerName: pod.schedulerName,
        terminationGracePeriodSeconds: pod.terminationGracePeriodSeconds,
        container: { terminationMessagePath: pod.containers[0].terminationMessagePath, imagePullPolicy: pod.containers[0].imagePullPolicy },
      };
    },
  },
];

/** Divergences understood and left (see test/sim/README.md, "Known divergences from kube-apiserver"). */
const KNOWN: Record<string, string> = {
  "quantities come back canonical (typed round-trip)": "the simulator stores resource quantities verbatim (no typed round-trip)",
  "defaults filled on a Deployment (strategy, revisionHistoryLimit, progressDeadlineSeconds, pod defaults)": "the simulator runs no built-in defaulters beyond a Deployment's strategy",
};

describe(`differential conformance: the cluster simulator against ${ON_KUBE}`, function () {
  this.timeout(120_000);
  let cp: ControlPlane;
  let sim: Simulator;
  const apis: Record<"simulator" | "kube-apiserver", Api> = {} as never;
  let seq = 0;

  before(async function () {
    requireControlPlane(this);
    cp = await startControlPlane({ nodes: 0 });
    sim = await startSimulator({ controllers: false });
    apis["kube-apiserver"] = async (m, p, b, t) => {
      const r = await cp.api(m, p, b, t);
      return { status: r.status, json: r.json };
    };
    apis["simulator"] = async (m, p, b, t) => {
      const r = await raw(sim, m, p, b, t ? { "Content-Type": t } : {});
      return { status: r.status, json: r.json };
    };
  });

  after(async () => {
    await sim?.stop();
    await cp?.stop();
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const ns = `conf-${++seq}`;
      const observed: Record<string, unknown> = {};
      for (const [name, api] of Object.entries(apis)) {
        const made = await api("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
        expect(made.status, `${name}: creating namespace ${ns}`).to.equal(201);
        observed[name] = await c.run(api, ns);
      }
      const known = KNOWN[c.name];
      if (known) {
        expect(observed["simulator"], `listed as a known divergence (${known}) but the simulator now agrees: remove it from KNOWN and test/sim/README.md`).to.not.deep.equal(observed["kube-apiserver"]);
        return;
      }
      expect(observed["simulator"], "the simulator's answer (expected: kube-apiserver's)").to.deep.equal(observed["kube-apiserver"]);
    });
  }
});
