// Runs the Olares release's steps in order (hook OlaresRelease): a chart is upgraded only when its input
// changed; a step waiting for earlier workloads stops the walk until they are ready; the first helm
// failure stops it there, reported with the release and helm's error; SystemEnv is create-only; the
// user-env ConfigMap is created, or given the release's missing envs.
import { stringify, parse } from "yaml";
import { LABEL_RELEASE_INPUT, canonicalJson, mergeUserEnvs, refOf, type KubeObject, type Readiness, type ReleaseStep, type UserEnvFile, type WorkloadQuery, type WorkloadRef } from "../contract/index.js";
import { isApiError } from "../kube/errors.js";
import { lastLines, walkReleases, type ReleaseInstaller, type ReleaseRecordSource } from "../helm/index.js";
import { daemonSetVerdict, deploymentVerdict, statefulSetVerdict, workloadChangePatch, workloadSelected } from "../render/index.js";
import type { HookContext } from "./stage-hooks.js";

export interface ReleaseHookRuntime {
  installer: ReleaseInstaller;
  records: ReleaseRecordSource;
  /** Writes the release's own objects (createOnly, setImage, jsonPatch) as the installer, as helm does. */
  client?: HookContext["client"];
}

/** The hook context with the release's client: its steps write as the installer identity. */
function asInstaller(ctx: HookContext): HookContext {
  return ctx.release?.client ? { ...ctx, client: ctx.release.client } : ctx;
}

function workloadReady(ctx: HookContext, ref: WorkloadRef): boolean {
  const live = (ctx.view ?? ctx.observed).get({ apiVersion: "apps/v1", kind: ref.kind, name: ref.name, namespace: ref.namespace });
  if (!live) return false;
  const v = ref.kind === "DaemonSet" ? daemonSetVerdict(live) : ref.kind === "Deployment" ? deploymentVerdict(live) : statefulSetVerdict(live);
  return v.ready;
}

function keep(readiness: Readiness, over: Omit<Readiness, "components">): Readiness {
  return { ...over, ...(readiness.components ? { components: readiness.components } : {}) };
}

/** The value at a JSON pointer (RFC 6901), undefined when a segment is missing. */
function pointer(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const raw of path.split("/").slice(1)) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (cur === null || typeof cur !== "object") return undefined;
    cur = Array.isArray(cur) ? cur[Number(key)] : (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** Polls a CRD just created until Established (velero install's crdsAreReady), up to 10 s. */
async function crdEstablished(ctx: HookContext, name: string): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const crd = await ctx.client.get({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name });
    const conditions = (crd as { status?: { conditions?: Array<{ type: string; status: string }> } } | undefined)?.status?.conditions ?? [];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function createIfAbsent(ctx: HookContext, obj: KubeObject): Promise<"created" | "present" | "no-kind"> {
  if ((ctx.view ?? ctx.observed).get(refOf(obj))) return "present";
  try {
    await ctx.client.create(obj);
    return "created";
  } catch (err) {
    if (isApiError(err) && err.status === 409) return "present";
    if (isApiError(err) && (err.reason === "NoKindMatch" || err.status === 404)) return "no-kind";
    throw err;
  }
}

/**
 * True when `live` already carries a strategic-merge `patch`: every field equal, a null absent, lists of
 * named objects (containers) matched by name, other lists equal as a whole.
 */
export function carriesPatch(live: unknown, patch: unknown): boolean {
  if (patch === null) return live === undefined || live === null;
  if (Array.isArray(patch)) {
    if (!Array.isArray(live)) return false;
    const named = patch.every((p) => p && typeof p === "object" && typeof (p as { name?: unknown }).name === "string");
    if (!named) return canonicalJson(live) === canonicalJson(patch);
    return patch.every((p) => carriesPatch(live.find((l) => (l as { name?: unknown } | null)?.name === (p as { name: string }).name), p));
  }
  if (typeof patch === "object") {
    if (!live || typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(patch as Record<string, unknown>).every(([k, v]) => carriesPatch((live as Record<string, unknown>)[k], v));
  }
  return live === patch;
}

/** The namespaces a query visits, in order (undefined: the whole cluster); users listed as the installer. */
async function queryNamespaces(ctx: HookContext, q: WorkloadQuery, name: string): Promise<string[] | undefined> {
  if (!q.namespaces && !q.userNamespaces) return undefined;
  const out = [...(q.namespaces ?? [])];
  if (q.userNamespaces?.length) {
    let users: KubeObject[] = [];
    try {
      users = await ctx.client.list("iam.kubesphere.io/v1alpha2", "User");
    } catch (err) {
      if (!(isApiError(err) && (err.reason === "NoKindMatch" || err.status === 404))) throw err;
      ctx.log.info(`${name}: kind iam.kubesphere.io/v1alpha2 User is not served, no user namespaces`);
    }
    for (const u of users) if (!u.metadata.deletionTimestamp) out.push(...q.userNamespaces.map((p) => `${p}${u.metadata.name}`));
  }
  return out;
}

/** patchWorkloads: each query's workloads in order, each patched where its change applies; the count patched. */
async function patchWorkloads(ctx: HookContext, step: Extract<ReleaseStep, { kind: "patchWorkloads" }>): Promise<number> {
  let patched = 0;
  for (const q of step.select) {
    const namespaces = await queryNamespaces(ctx, q, step.name);
    for (const ns of namespaces ?? [undefined]) {
      if (ns !== undefined && !(await ctx.client.get({ apiVersion: "v1", kind: "Namespace", name: ns }))) {
        ctx.log.info(`${step.name}: namespace ${ns} not found, skipped`);
        continue;
      }
      for (const kind of q.kinds) {
        const labelSelector = q.labels ? Object.entries(q.labels).map(([k, v]) => `${k}=${v}`).join(",") : undefined;
        const listed = await ctx.client.list("apps/v1", kind, { ...(ns !== undefined ? { namespace: ns } : {}), ...(labelSelector ? { labelSelector } : {}) });
        for (const obj of listed) {
          const where = `${kind} ${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
          const selected = workloadSelected(q, obj);
          if (selected === "helm") ctx.log.info(`${step.name}: ${where} is Helm-managed, skipped`);
          if (selected !== "yes") continue;
          const patch = workloadChangePatch(step.change, obj);
          if (!patch) continue;
          const ref = { apiVersion: "apps/v1", kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
          try {
            await ctx.client.patch(ref, patch, "strategic");
          } catch (err) {
            if (isApiError(err) && err.status === 404) continue; // gone since the list
            throw err;
          }
          patched++;
          ctx.log.info(`${step.name}: patched`, { kind, name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}), change: step.change.kind });
        }
      }
    }
  }
  return patched;
}

export async function runReleaseSteps(ctx: HookContext, steps: readonly ReleaseStep[], readiness: Readiness): Promise<Readiness> {
  if (ctx.paused) return readiness;
  if (!ctx.release) {
    return keep(readiness, { ready: false, reason: "HelmNotConfigured", message: "the operator runs without helm (--helm) and cannot install the Olares release", degraded: true });
  }
  const { installer, records } = ctx.release;
  // Both clients must see kinds a step just brought (a chart's or velero's CRDs).
  const clients = [ctx.client, asInstaller(ctx).client];
  const invalidateDiscovery = () => clients.forEach((c) => (c as { invalidateDiscovery?: () => void }).invalidateDiscovery?.());
  ctx = asInstaller(ctx);
  for (const step of steps) {
    if (step.kind === "chart") {
      const waiting = step.waitFor?.find((w) => !workloadReady(ctx, w));
      if (waiting) {
        return readiness.ready ? readiness : keep(readiness, { ready: false, reason: "InstallingReleases", message: `helm release ${step.release.namespace}/${step.release.name} waits for ${waiting.kind} ${waiting.namespace}/${waiting.name}` });
      }
      const r = await walkReleases([step.release], installer, records);
      for (const o of r.outcomes) {
        if (o.result !== "installed" && o.result !== "upgraded") continue;
        ctx.log.info(`helm release ${o.result}`, { release: o.name, namespace: o.namespace });
        // A chart may bring CRDs (settings does: SystemEnv, Terminus): let the client see them now.
        invalidateDiscovery();
      }
      if (r.failed) {
        ctx.log.error("helm release failed", { release: r.failed.name, namespace: r.failed.namespace, error: r.failed.error });
        const context = step.context ? `${step.context}: ` : "";
        return keep(readiness, { ready: false, reason: "ReleaseFailed", message: `${context}helm release ${r.failed.namespace}/${r.failed.name} failed: ${r.failed.error}; the releases before it keep running`, degraded: true });
      }
      continue;
    }
    if (step.kind === "createOnly") {
      let crds = false;
      for (const obj of step.objects) {
        const result = await createIfAbsent(ctx, obj);
        if (result === "no-kind") return keep(readiness, { ready: false, reason: "InstallingReleases", message: `${step.name}: kind ${obj.apiVersion} ${obj.kind} is not served yet (its CRD comes with an earlier step)` });
        if (result === "created") {
          ctx.log.info("created", { kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) });
          crds ||= obj.kind === "CustomResourceDefinition";
        }
      }
      if (crds) {
        // As `velero install` waits for its CRDs before the rest: the next step's kinds must be served.
        for (const o of step.objects.filter((x) => x.kind === "CustomResourceDefinition")) {
          if (!(await crdEstablished(ctx, o.metadata.name))) return keep(readiness, { ready: false, reason: "InstallingReleases", message: `${step.name}: waiting for CustomResourceDefinition ${o.metadata.name} to be established` });
        }
        invalidateDiscovery();
      }
      continue;
    }
    if (step.kind === "setImage") {
      const live = await ctx.client.get(step.target);
      if (!live) {
        if (step.ifPresent) {
          ctx.log.info(`${step.name}: ${step.target.kind} ${step.target.namespace ?? ""}/${step.target.name} not present, skipped`);
          continue;
        }
        return keep(readiness, { ready: false, reason: "InstallingReleases", message: `${step.name}: ${step.target.kind} ${step.target.namespace ?? ""}/${step.target.name} not present yet` });
      }
      const containers = ((live as { spec?: { template?: { spec?: { containers?: Array<{ name: string; image?: string }> } } } }).spec?.template?.spec?.containers ?? []);
      const c = containers.find((x) => x.name === step.container);
      if (!c) return keep(readiness, { ready: false, reason: "ReleaseFailed", message: `${step.name}: ${step.target.kind} ${step.target.namespace ?? ""}/${step.target.name} has no container ${step.container}`, degraded: true });
      if (c.image !== step.image) {
        await ctx.client.patch(step.target, { spec: { template: { spec: { containers: [{ name: step.container, image: step.image }] } } } }, "strategic");
        ctx.log.info(`${step.name}: image set`, { container: step.container, image: step.image });
      }
      continue;
    }
    if (step.kind === "jsonPatch") {
      const live = (ctx.view ?? ctx.observed).get(step.target) ?? (await ctx.client.get(step.target));
      if (!live) return keep(readiness, { ready: false, reason: "InstallingReleases", message: `${step.name}: ${step.target.kind} ${step.target.namespace ?? ""}/${step.target.name} not present yet` });
      const differs = step.ops.filter((op) => canonicalJson(pointer(live, op.path) ?? null) !== canonicalJson(op.value));
      if (differs.length > 0) {
        await ctx.client.patch(step.target, step.ops, "json");
        ctx.log.info(`${step.name}: patched`, { kind: step.target.kind, name: step.target.name, paths: differs.map((op) => op.path).join(",") });
      }
      continue;
    }
    if (step.kind === "strategicPatch") {
      const where = `${step.target.kind} ${step.target.namespace ?? ""}/${step.target.name}`;
      const live = await ctx.client.get(step.target);
      if (!live) {
        if (step.ifPresent) {
          ctx.log.info(`${step.name}: ${where} not present, skipped`);
          continue;
        }
        return keep(readiness, { ready: false, reason: "InstallingReleases", message: `${step.name}: ${where} not present yet` });
      }
      if (!carriesPatch(live, step.patch)) {
        await ctx.client.patch(step.target, step.patch, "strategic");
        ctx.log.info(`${step.name}: patched`, { kind: step.target.kind, name: step.target.name });
      }
      continue;
    }
    if (step.kind === "patchWorkloads") {
      if ((await patchWorkloads(ctx, step)) === 0) ctx.log.info(`${step.name}: no workload to change`);
      continue;
    }
    if (step.kind === "deleteCRDs") {
      const crds = await ctx.client.list("apiextensions.k8s.io/v1", "CustomResourceDefinition");
      const doomed = crds.filter((c) => (c as { spec?: { group?: string } }).spec?.group === step.group && Object.entries(step.annotations).every(([k, v]) => c.metadata.annotations?.[k] === v) && !c.metadata.deletionTimestamp);
      if (doomed.length === 0) {
        ctx.log.info(`${step.name}: no ${step.group} CustomResourceDefinition with ${Object.entries(step.annotations).map(([k, v]) => `${k}=${v}`).join(",")}, nothing to delete`);
        continue;
      }
      for (const crd of doomed) {
        await ctx.client.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata.name });
        ctx.log.info(`${step.name}: CustomResourceDefinition deleted`, { name: crd.metadata.name });
      }
      invalidateDiscovery();
      continue;
    }
    if (step.kind === "pruneReleases") {
      const wanted = new Set(step.keep.map((k) => `${k.namespace}/${k.name}`));
      for (const ns of step.namespaces) {
        const ours = new Set((await records.helmSecrets(ns)).filter((r) => r.metadata.labels?.owner === "helm" && r.metadata.labels?.[LABEL_RELEASE_INPUT] && r.metadata.labels?.name).map((r) => r.metadata.labels!.name!));
        for (const name of [...ours].sort()) {
          if (wanted.has(`${ns}/${name}`)) continue;
          const r = await installer.uninstall(name, ns);
          if (!r.ok) return keep(readiness, { ready: false, reason: "ReleaseFailed", message: `helm uninstall ${ns}/${name} (no longer wanted) failed: ${lastLines(r.stderr)}`, degraded: true });
          ctx.log.info("helm release uninstalled (no longer wanted)", { release: name, namespace: ns });
        }
      }
      continue;
    }
    // userEnv
    const live = (ctx.view ?? ctx.observed).get(refOf(step.configMap)) ?? (await ctx.client.get(refOf(step.configMap)));
    if (!live) {
      const result = await createIfAbsent(ctx, step.configMap);
      if (result === "no-kind") return keep(readiness, { ready: false, reason: "InstallingReleases", message: "user-env: namespace os-framework does not exist yet" });
      continue;
    }
    const key = Object.keys((step.configMap as { data?: Record<string, string> }).data ?? {})[0]!;
    const text = (live as { data?: Record<string, string> }).data?.[key];
    const { file, added } = mergeUserEnvs(text ? (parse(text) as UserEnvFile) : undefined, step.file);
    if (added.length > 0) {
      await ctx.client.patch(refOf(step.configMap), { data: { [key]: stringify(file) } }, "merge");
      ctx.log.info("user-env: added missing envs", { envs: added.join(",") });
    }
  }
  return readiness;
}
