// ReplicaSet, Deployment, StatefulSet, DaemonSet, Job and PodDisruptionBudget controllers, with the
// status fields the real controllers maintain.
import type { SimApi } from "../api.js";
import { randomSuffix, stableHash } from "../objects.js";
import { labelSelectorObjectMatcher } from "../selectors.js";
import type { Json, KObj, ResourceType } from "../types.js";
import {
  CONTROLLER_MANAGER, controllerOf, isPodActive, isPodReady, keyOf, mergeConditions, podFitsNode, podFromTemplate,
  resolveIntOrPercent, splitKey, writeStatus,
} from "./util.js";
import { Worker } from "./worker.js";

const POD_HASH = "pod-template-hash";
const REVISION_HASH = "controller-revision-hash";
const DS_TOLERATIONS = [
  { key: "node.kubernetes.io/not-ready", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute" },
  { key: "node.kubernetes.io/disk-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/memory-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/pid-pressure", operator: "Exists", effect: "NoSchedule" },
  { key: "node.kubernetes.io/unschedulable", operator: "Exists", effect: "NoSchedule" },
];

export interface WorkloadControllers {
  stop(): void;
  isIdle(): boolean;
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

export function startWorkloadControllers(api: SimApi): WorkloadControllers {
  const rt = (group: string, resource: string): ResourceType => api.registry.get(group, resource)!;
  const podsRt = rt("", "pods");
  const rsRt = rt("apps", "replicasets");
  const deployRt = rt("apps", "deployments");
  const stsRt = rt("apps", "statefulsets");
  const dsRt = rt("apps", "daemonsets");
  const jobRt = rt("batch", "jobs");
  const pdbRt = rt("policy", "poddisruptionbudgets");
  const opts = { fieldManager: CONTROLLER_MANAGER };

  const owned = (owner: KObj, typeKey: string): KObj[] => {
    const out: KObj[] = [];
    for (const d of api.store.dependentsOf(owner.metadata.uid!)) {
      if (d.typeKey !== typeKey) continue;
      const o = api.store.get(typeKey, d.namespace, d.name);
      if (o && controllerOf(o)?.uid === owner.metadata.uid) out.push(o);
    }
    return out;
  };
  const createPod = (pod: KObj) => api.create(podsRt, pod.metadata.namespace, pod, opts);
  const deletePod = (pod: KObj) => {
    if (!pod.metadata.deletionTimestamp) api.delete(podsRt, pod.metadata.namespace, pod.metadata.name!, opts);
  };
  const fresh = (r: ResourceType, key: string) => {
    const [ns, name] = splitKey(key);
    const o = api.tryGet(r, ns, name);
    return o && !o.metadata.deletionTimestamp ? o : undefined;
  };

  // ---- ReplicaSet ----
  const rsWorker = new Worker((key) => {
    const rs = fresh(rsRt, key);
    if (!rs) return;
    const pods = owned(rs, "/pods").filter(isPodActive);
    const want = rs.spec?.replicas ?? 1;
    if (pods.length < want) {
      for (let i = pods.length; i < want; i++) {
        createPod(podFromTemplate(rs.spec.template, rs.metadata.namespace!, `${rs.metadata.name}-${randomSuffix()}`, rs));
      }
    } else if (pods.length > want) {
      const order = [...pods].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || (b.metadata.creationTimestamp ?? "").localeCompare(a.metadata.creationTimestamp ?? ""));
      for (const p of order.slice(0, pods.length - want)) deletePod(p);
    }
    const current = owned(rs, "/pods").filter(isPodActive);
    const ready = current.filter(isPodReady).length;
    writeStatus(api, rsRt, rs, {
      replicas: current.length,
      fullyLabeledReplicas: current.length,
      readyReplicas: ready,
      availableReplicas: ready,
      observedGeneration: rs.metadata.generation,
    });
  });

  // ---- Deployment ----
  const deployWorker = new Worker((key) => {
    const d = fresh(deployRt, key);
    if (!d) return;
    const [ns] = splitKey(key);
    const replicas = d.spec?.replicas ?? 1;
    const hash = stableHash(d.spec.template);
    const rsList = owned(d, "apps/replicasets");
    let newRs = rsList.find((r) => r.metadata.labels?.[POD_HASH] === hash);
    const revisions = rsList.map((r) => Number(r.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0));
    if (!d.spec.paused) {
      if (!newRs) {
        const tmpl = JSON.parse(JSON.stringify(d.spec.template));
        tmpl.metadata = { ...(tmpl.metadata ?? {}), labels: { ...(tmpl.metadata?.labels ?? {}), [POD_HASH]: hash } };
        newRs = api.create(rsRt, ns, {
          apiVersion: "apps/v1",
          kind: "ReplicaSet",
          metadata: {
            name: `${d.metadata.name}-${hash}`,
            namespace: ns,
            labels: { ...(d.spec.template.metadata?.labels ?? {}), [POD_HASH]: hash },
            annotations: { "deployment.kubernetes.io/revision": String(Math.max(0, ...revisions) + 1), "deployment.kubernetes.io/desired-replicas": String(replicas) },
            ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: d.metadata.name!, uid: d.metadata.uid!, controller: true, blockOwnerDeletion: true }],
          },
          spec: {
            replicas,
            selector: { ...d.spec.selector, matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), [POD_HASH]: hash } },
            template: tmpl,
          },
        }, opts);
      } else if (newRs.spec.replicas !== replicas) {
        newRs = api.patch(rsRt, ns, newRs.metadata.name!, "merge", { spec: { replicas } }, opts);
      }
      const recreate = d.spec.strategy?.type === "Recreate";
      const newReady = newRs.status?.readyReplicas ?? 0;
      for (const old of rsList) {
        if (old.metadata.name === newRs.metadata.name || (old.spec?.replicas ?? 0) === 0) continue;
        if (recreate || newReady >= replicas) api.patch(rsRt, ns, old.metadata.name!, "merge", { spec: { replicas: 0 } }, opts);
      }
    }
    const all = owned(d, "apps/replicasets");
    const sum = (f: (r: KObj) => number) => all.reduce((a, r) => a + f(r), 0);
    const current = newRs ? all.find((r) => r.metadata.name === newRs!.metadata.name) : undefined;
    const total = sum((r) => r.status?.replicas ?? 0);
    const ready = sum((r) => r.status?.readyReplicas ?? 0);
    const available = sum((r) => r.status?.availableReplicas ?? 0);
    const updated = current?.status?.replicas ?? 0;
    const maxUnavailable = resolveIntOrPercent(d.spec.strategy?.rollingUpdate?.maxUnavailable, replicas, false, Math.floor(replicas / 4));
    const complete = updated === replicas && total === replicas && available >= replicas && (current?.status?.observedGeneration ?? -1) >= (current?.metadata.generation ?? 0);
    const t = now();
    const status: Json = {
      observedGeneration: d.metadata.generation,
      replicas: total,
      updatedReplicas: updated,
      readyReplicas: ready,
      availableReplicas: available,
      conditions: mergeConditions(d.status?.conditions, [
        available >= replicas - maxUnavailable
          ? { type: "Available", status: "True", lastUpdateTime: t, lastTransitionTime: t, reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability." }
          : { type: "Available", status: "False", lastUpdateTime: t, lastTransitionTime: t, reason: "MinimumReplicasUnavailable", message: "Deployment does not have minimum availability." },
        complete
          ? { type: "Progressing", status: "True", lastUpdateTime: t, lastTransitionTime: t, reason: "NewReplicaSetAvailable", message: `ReplicaSet "${newRs?.metadata.name}" has successfully progressed.` }
          : { type: "Progressing", status: "True", lastUpdateTime: t, lastTransitionTime: t, reason: "ReplicaSetUpdated", message: `ReplicaSet "${newRs?.metadata.name}" is progressing.` },
      ]),
    };
    if (replicas - available > 0) status.unavailableReplicas = replicas - available;
    if (total === 0) {
      delete status.readyReplicas;
      delete status.availableReplicas;
    }
    writeStatus(api, deployRt, d, status);
  });

  // ---- StatefulSet ----
  const stsWorker = new Worker((key) => {
    const s = fresh(stsRt, key);
    if (!s) return;
    const [ns] = splitKey(key);
    const replicas = s.spec?.replicas ?? 1;
    const updateRevision = `${s.metadata.name}-${stableHash(s.spec.template)}`;
    const pods = owned(s, "/pods").filter((p) => !p.metadata.deletionTimestamp);
    const byOrdinal = new Map<number, KObj>();
    for (const p of pods) byOrdinal.set(Number(p.metadata.name!.slice(s.metadata.name!.length + 1)), p);
    const parallel = s.spec.podManagementPolicy === "Parallel";
    for (let i = 0; i < replicas; i++) {
      if (byOrdinal.has(i)) {
        if (!parallel && !isPodReady(byOrdinal.get(i)!)) break;
        continue;
      }
      const name = `${s.metadata.name}-${i}`;
      const pod = podFromTemplate(s.spec.template, ns, name, s, { [REVISION_HASH]: updateRevision, "statefulset.kubernetes.io/pod-name": name, "apps.kubernetes.io/pod-index": String(i) });
      pod.spec.hostname = name;
      if (s.spec.serviceName) pod.spec.subdomain = s.spec.serviceName;
      createPod(pod);
      if (!parallel) break;
    }
    for (const [i, p] of byOrdinal) if (i >= replicas) deletePod(p);
    const live = owned(s, "/pods").filter((p) => !p.metadata.deletionTimestamp && Number(p.metadata.name!.slice(s.metadata.name!.length + 1)) < replicas);
    const allReady = live.length === replicas && live.every(isPodReady);
    if (s.spec.updateStrategy?.type !== "OnDelete" && allReady) {
      const partition = s.spec.updateStrategy?.rollingUpdate?.partition ?? 0;
      const outdated = live
        .filter((p) => p.metadata.labels?.[REVISION_HASH] !== updateRevision && Number(p.metadata.name!.slice(s.metadata.name!.length + 1)) >= partition)
        .sort((a, b) => b.metadata.name!.localeCompare(a.metadata.name!, undefined, { numeric: true }));
      if (outdated.length > 0) deletePod(outdated[0]);
    }
    const current = owned(s, "/pods").filter((p) => !p.metadata.deletionTimestamp);
    const ready = current.filter(isPodReady).length;
    const updated = current.filter((p) => p.metadata.labels?.[REVISION_HASH] === updateRevision).length;
    const done = updated === replicas && current.length === replicas;
    const currentRevision = done ? updateRevision : s.status?.currentRevision ?? updateRevision;
    writeStatus(api, stsRt, s, {
      observedGeneration: s.metadata.generation,
      replicas: current.length,
      readyReplicas: ready,
      currentReplicas: done ? current.length : current.filter((p) => p.metadata.labels?.[REVISION_HASH] === currentRevision).length,
      updatedReplicas: updated,
      availableReplicas: ready,
      currentRevision,
      updateRevision,
      collisionCount: 0,
    });
  });

  // ---- DaemonSet ----
  const dsWorker = new Worker((key) => {
    const ds = fresh(dsRt, key);
    if (!ds) return;
    const [ns] = splitKey(key);
    const hash = stableHash(ds.spec.template);
    const nodes = api.store.list("/nodes");
    const pods = owned(ds, "/pods").filter((p) => !p.metadata.deletionTimestamp);
    const byNode = new Map<string, KObj[]>();
    for (const p of pods) {
      const n = p.spec?.nodeName ?? "";
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const wanted = new Set<string>();
    for (const n of nodes) if (podFitsNode(ds.spec.template?.spec, n, DS_TOLERATIONS)) wanted.add(n.metadata.name!);
    for (const n of wanted) {
      if ((byNode.get(n) ?? []).length > 0) continue;
      createPod(podFromTemplate(ds.spec.template, ns, `${ds.metadata.name}-${randomSuffix()}`, ds, { [REVISION_HASH]: hash, "pod-template-generation": String(ds.metadata.generation ?? 1) }, n));
    }
    for (const [n, ps] of byNode) {
      if (!wanted.has(n)) ps.forEach(deletePod);
      else if (ps.length > 1) ps.slice(1).forEach(deletePod);
    }
    if (ds.spec.updateStrategy?.type !== "OnDelete") {
      const desired = wanted.size;
      const maxUnavailable = Math.max(1, resolveIntOrPercent(ds.spec.updateStrategy?.rollingUpdate?.maxUnavailable, desired, true, 1));
      const live = owned(ds, "/pods").filter((p) => !p.metadata.deletionTimestamp && wanted.has(p.spec?.nodeName));
      const unavailable = desired - live.filter(isPodReady).length;
      let budget = maxUnavailable - unavailable;
      const outdated = live.filter((p) => p.metadata.labels?.[REVISION_HASH] !== hash).sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)));
      for (const p of outdated) {
        if (isPodReady(p)) {
          if (budget <= 0) break;
          budget--;
        }
        deletePod(p);
      }
    }
    const current = owned(ds, "/pods").filter((p) => !p.metadata.deletionTimestamp);
    const scheduled = current.filter((p) => wanted.has(p.spec?.nodeName));
    const ready = scheduled.filter(isPodReady).length;
    const status: Json = {
      currentNumberScheduled: new Set(scheduled.map((p) => p.spec.nodeName)).size,
      numberMisscheduled: current.filter((p) => !wanted.has(p.spec?.nodeName)).length,
      desiredNumberScheduled: wanted.size,
      numberReady: ready,
      observedGeneration: ds.metadata.generation,
      updatedNumberScheduled: scheduled.filter((p) => p.metadata.labels?.[REVISION_HASH] === hash).length,
      numberAvailable: ready,
    };
    if (wanted.size - ready > 0) status.numberUnavailable = wanted.size - ready;
    writeStatus(api, dsRt, ds, status);
  });

  // ---- Job ----
  const jobWorker = new Worker((key) => {
    const job = fresh(jobRt, key);
    if (!job) return;
    const [ns] = splitKey(key);
    const pods = owned(job, "/pods");
    const succeeded = pods.filter((p) => p.status?.phase === "Succeeded").length;
    const failed = pods.filter((p) => p.status?.phase === "Failed").length;
    const active = pods.filter(isPodActive);
    const completions = job.spec.completions ?? 1;
    const parallelism = job.spec.parallelism ?? 1;
    const backoffLimit = job.spec.backoffLimit ?? 6;
    const complete = job.status?.conditions?.some((c: Json) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const t = now();
    const status: Json = { ...(job.status ?? {}), startTime: job.status?.startTime ?? t, active: undefined, ready: active.filter(isPodReady).length, succeeded: succeeded || undefined, failed: failed || undefined, terminating: 0, uncountedTerminatedPods: {} };
    if (!complete) {
      if (failed > backoffLimit) {
        active.forEach(deletePod);
        status.conditions = [
          { type: "FailureTarget", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", lastProbeTime: t, lastTransitionTime: t },
          { type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit", lastProbeTime: t, lastTransitionTime: t },
        ];
      } else if (succeeded >= completions) {
        status.completionTime = t;
        status.conditions = [
          { type: "SuccessCriteriaMet", status: "True", reason: "CompletionsReached", message: "Reached expected number of succeeded pods", lastProbeTime: t, lastTransitionTime: t },
          { type: "Complete", status: "True", reason: "CompletionsReached", message: "Reached expected number of succeeded pods", lastProbeTime: t, lastTransitionTime: t },
        ];
      } else if (!job.spec.suspend) {
        const want = Math.min(parallelism, completions - succeeded);
        for (let i = active.length; i < want; i++) {
          createPod(podFromTemplate(job.spec.template, ns, `${job.metadata.name}-${randomSuffix()}`, job, { "batch.kubernetes.io/job-name": job.metadata.name!, "job-name": job.metadata.name! }));
        }
      }
    }
    const nowActive = owned(job, "/pods").filter(isPodActive).length;
    if (nowActive > 0) status.active = nowActive;
    for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
    writeStatus(api, jobRt, job, status);
  });

  // ---- PodDisruptionBudget ----
  const pdbWorker = new Worker((key) => {
    const pdb = fresh(pdbRt, key);
    if (!pdb) return;
    const match = labelSelectorObjectMatcher(pdb.spec?.selector);
    const pods = pdb.spec?.selector ? api.store.list("/pods", pdb.metadata.namespace).filter((p) => isPodActive(p) && match(p.metadata.labels ?? {})) : [];
    const healthy = pods.filter(isPodReady).length;
    const expected = pods.length;
    const desiredHealthy = pdb.spec?.maxUnavailable !== undefined
      ? Math.max(0, expected - resolveIntOrPercent(pdb.spec.maxUnavailable, expected, true, 0))
      : resolveIntOrPercent(pdb.spec?.minAvailable ?? 1, expected, true, 1);
    const allowed = Math.max(0, healthy - desiredHealthy);
    const t = now();
    writeStatus(api, pdbRt, pdb, {
      observedGeneration: pdb.metadata.generation,
      currentHealthy: healthy,
      desiredHealthy,
      disruptionsAllowed: allowed,
      expectedPods: expected,
      conditions: mergeConditions(pdb.status?.conditions, [
        allowed > 0
          ? { type: "DisruptionAllowed", status: "True", reason: "SufficientPods", message: "", observedGeneration: pdb.metadata.generation, lastTransitionTime: t }
          : { type: "DisruptionAllowed", status: "False", reason: "InsufficientPods", message: "", observedGeneration: pdb.metadata.generation, lastTransitionTime: t },
      ]),
    });
  });

  const workers: Record<string, Worker> = { ReplicaSet: rsWorker, Deployment: deployWorker, StatefulSet: stsWorker, DaemonSet: dsWorker, Job: jobWorker };
  const subs = [
    api.store.subscribe("apps/replicasets", (ev) => {
      if (ev.type !== "DELETED") rsWorker.add(keyOf(ev.obj));
      const owner = controllerOf(ev.obj);
      if (owner?.kind === "Deployment") deployWorker.add(`${ev.obj.metadata.namespace}/${owner.name}`);
    }),
    api.store.subscribe("apps/deployments", (ev) => ev.type !== "DELETED" && deployWorker.add(keyOf(ev.obj))),
    api.store.subscribe("apps/statefulsets", (ev) => ev.type !== "DELETED" && stsWorker.add(keyOf(ev.obj))),
    api.store.subscribe("apps/daemonsets", (ev) => ev.type !== "DELETED" && dsWorker.add(keyOf(ev.obj))),
    api.store.subscribe("batch/jobs", (ev) => ev.type !== "DELETED" && jobWorker.add(keyOf(ev.obj))),
    api.store.subscribe("policy/poddisruptionbudgets", (ev) => ev.type !== "DELETED" && pdbWorker.add(keyOf(ev.obj))),
    api.store.subscribe("/pods", (ev) => {
      const owner = controllerOf(ev.obj);
      const w = owner && workers[owner.kind];
      if (w) w.add(`${ev.obj.metadata.namespace}/${owner!.name}`);
      const ns = ev.obj.metadata.namespace;
      if (api.store.count("policy/poddisruptionbudgets", ns) > 0) for (const pdb of api.store.list("policy/poddisruptionbudgets", ns)) pdbWorker.add(keyOf(pdb));
    }),
    api.store.subscribe("/nodes", (ev) => {
      if (ev.type === "MODIFIED" && JSON.stringify(ev.prev?.metadata.labels) === JSON.stringify(ev.obj.metadata.labels) && JSON.stringify(ev.prev?.spec) === JSON.stringify(ev.obj.spec)) return;
      for (const ds of api.store.list("apps/daemonsets")) dsWorker.add(keyOf(ds));
    }),
  ];
  const all = [rsWorker, deployWorker, stsWorker, dsWorker, jobWorker, pdbWorker];
  return {
    stop() {
      for (const u of subs) u();
      for (const w of all) w.stop();
    },
    isIdle: () => all.every((w) => w.isIdle),
  };
}

/** Every namespace gets its "default" ServiceAccount, like the serviceaccount controller does. */
export function startServiceAccountController(api: SimApi): () => void {
  const saRt = api.registry.get("", "serviceaccounts")!;
  const ensure = (ns: string) => {
    const nsObj = api.store.get("/namespaces", "", ns);
    if (!nsObj || nsObj.metadata.deletionTimestamp || api.tryGet(saRt, ns, "default")) return;
    try {
      api.create(saRt, ns, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } }, { fieldManager: CONTROLLER_MANAGER });
    } catch {
      // Raced with a user creating it.
    }
  };
  for (const ns of api.store.list("/namespaces")) ensure(ns.metadata.name!);
  return api.store.subscribe("/namespaces", (ev) => {
    if (ev.type === "ADDED") setImmediate(() => ensure(ev.obj.metadata.name!));
  });
}
