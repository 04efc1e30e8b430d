// meta.k8s.io/v1 Table responses: CRDs through additionalPrinterColumns, built-ins with the columns
// kubectl users know for the common kinds, Name + Age for the rest.
import { evalJsonPath } from "./jsonpath.js";
import type { Json, KObj, ResourceType } from "./types.js";

interface Column {
  name: string;
  type: string;
  format?: string;
  description?: string;
  priority?: number;
  cell: (o: KObj) => Json;
}

export function humanDuration(fromIso: string | undefined, now = Date.now()): string {
  if (!fromIso) return "<unknown>";
  const s = Math.max(0, Math.floor((now - Date.parse(fromIso)) / 1000));
  const m = Math.floor(s / 60);
  const h = Math.floor(m / 60);
  const d = Math.floor(h / 24);
  if (s < 120) return `${s}s`;
  if (m < 10) return `${m}m${s % 60 ? `${s % 60}s` : ""}`;
  if (h < 3) return `${m}m`;
  if (h < 8) return `${h}h${m % 60 ? `${m % 60}m` : ""}`;
  if (h < 48) return `${h}h`;
  if (d < 8) return `${d}d${h % 24 ? `${h % 24}h` : ""}`;
  if (d < 730) return `${d}d`;
  return `${Math.floor(d / 365)}y`;
}

const age: Column = { name: "Age", type: "string", description: "CreationTimestamp", cell: (o) => humanDuration(o.metadata.creationTimestamp) };
const col = (name: string, cell: (o: KObj) => Json, priority = 0, type = "string"): Column => ({ name, type, priority, cell });
const num = (v: Json): number => (typeof v === "number" ? v : 0);
const cond = (o: KObj, type: string): Json => (o.status?.conditions ?? []).find((c: Json) => c.type === type);

function podStatus(p: KObj): string {
  if (p.metadata.deletionTimestamp) return "Terminating";
  for (const cs of p.status?.containerStatuses ?? []) {
    if (cs.state?.waiting?.reason) return cs.state.waiting.reason;
    if (cs.state?.terminated?.reason && p.status?.phase !== "Succeeded") return cs.state.terminated.reason;
  }
  if (p.status?.phase === "Succeeded") return "Completed";
  return p.status?.reason ?? p.status?.phase ?? "Pending";
}

const BUILTIN_COLUMNS: Record<string, Column[]> = {
  "/nodes": [
    col("Status", (n) => {
      const ready = cond(n, "Ready");
      const s = ready?.status === "True" ? "Ready" : ready?.status === "False" ? "NotReady" : "Unknown";
      return n.spec?.unschedulable ? `${s},SchedulingDisabled` : s;
    }),
    col("Roles", (n) => Object.keys(n.metadata.labels ?? {}).filter((k) => k.startsWith("node-role.kubernetes.io/")).map((k) => k.slice(24)).sort().join(",") || "<none>"),
    age,
    col("Version", (n) => n.status?.nodeInfo?.kubeletVersion ?? ""),
    col("Internal-IP", (n) => (n.status?.addresses ?? []).find((a: Json) => a.type === "InternalIP")?.address ?? "<none>", 1),
  ],
  "/pods": [
    col("Ready", (p) => `${(p.status?.containerStatuses ?? []).filter((c: Json) => c.ready).length}/${(p.spec?.containers ?? []).length}`),
    col("Status", podStatus),
    col("Restarts", (p) => (p.status?.containerStatuses ?? []).reduce((a: number, c: Json) => a + num(c.restartCount), 0), 0, "integer"),
    age,
    col("IP", (p) => p.status?.podIP ?? "<none>", 1),
    col("Node", (p) => p.spec?.nodeName ?? "<none>", 1),
  ],
  "/namespaces": [col("Status", (n) => n.status?.phase ?? ""), age],
  "/services": [
    col("Type", (s) => s.spec?.type ?? "ClusterIP"),
    col("Cluster-IP", (s) => s.spec?.clusterIP ?? "<none>"),
    col("External-IP", () => "<none>"),
    col("Port(s)", (s) => (s.spec?.ports ?? []).map((p: Json) => `${p.port}/${p.protocol ?? "TCP"}`).join(",") || "<none>"),
    age,
  ],
  "apps/deployments": [
    col("Ready", (d) => `${num(d.status?.readyReplicas)}/${num(d.spec?.replicas)}`),
    col("Up-to-date", (d) => num(d.status?.updatedReplicas), 0, "integer"),
    col("Available", (d) => num(d.status?.availableReplicas), 0, "integer"),
    age,
  ],
  "apps/replicasets": [
    col("Desired", (d) => num(d.spec?.replicas), 0, "integer"),
    col("Current", (d) => num(d.status?.replicas), 0, "integer"),
    col("Ready", (d) => num(d.status?.readyReplicas), 0, "integer"),
    age,
  ],
  "apps/statefulsets": [col("Ready", (d) => `${num(d.status?.readyReplicas)}/${num(d.spec?.replicas)}`), age],
  "apps/daemonsets": [
    col("Desired", (d) => num(d.status?.desiredNumberScheduled), 0, "integer"),
    col("Current", (d) => num(d.status?.currentNumberScheduled), 0, "integer"),
    col("Ready", (d) => num(d.status?.numberReady), 0, "integer"),
    col("Up-to-date", (d) => num(d.status?.updatedNumberScheduled), 0, "integer"),
    col("Available", (d) => num(d.status?.numberAvailable), 0, "integer"),
    col("Node Selector", (d) => Object.entries(d.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(",") || "<none>"),
    age,
  ],
  "batch/jobs": [
    col("Status", (j) => (cond(j, "Complete")?.status === "True" ? "Complete" : cond(j, "Failed")?.status === "True" ? "Failed" : "Running")),
    col("Completions", (j) => `${num(j.status?.succeeded)}/${j.spec?.completions ?? 1}`),
    age,
  ],
  "apiextensions.k8s.io/customresourcedefinitions": [col("Created At", (c) => c.metadata.creationTimestamp ?? "", 0, "date")],
};

function columnsFor(rt: ResourceType, version: string): Column[] {
  if (rt.crd) {
    const pcs = rt.crd.printerColumns[version] ?? [];
    if (pcs.length === 0) return [age];
    return pcs.map((pc) => ({
      name: pc.name,
      type: pc.type,
      format: pc.format,
      description: pc.description,
      priority: pc.priority ?? 0,
      cell: (o: KObj) => {
        const v = evalJsonPath(o, pc.jsonPath)[0];
        if (v === undefined) return null;
        if (pc.type === "date") return humanDuration(String(v));
        if (pc.type === "integer" || pc.type === "number" || pc.type === "boolean") return v;
        return typeof v === "string" ? v : JSON.stringify(v);
      },
    }));
  }
  return BUILTIN_COLUMNS[`${rt.group}/${rt.resource}`] ?? [age];
}

export function toTable(rt: ResourceType, version: string, items: KObj[], listMeta: Record<string, unknown>, includeObject: string): Json {
  const columns = columnsFor(rt, version);
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: listMeta,
    columnDefinitions: [
      { name: "Name", type: "string", format: "name", description: "Name must be unique within a namespace.", priority: 0 },
      ...columns.map((c) => ({ name: c.name, type: c.type === "date" ? "date" : c.type, format: c.format ?? "", description: c.description ?? c.name, priority: c.priority ?? 0 })),
    ],
    rows: items.map((o) => {
      const row: Json = { cells: [o.metadata.name, ...columns.map((c) => c.cell(o))] };
      if (includeObject === "Object") row.object = o;
      else if (includeObject !== "None") row.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
      return row;
    }),
  };
}
