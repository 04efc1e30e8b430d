// CoreServices: the Olares release itself, installed as olares-cli installs it (its charts, values and
// order; render/releases/). The stage carries the steps as data (hook OlaresRelease); the controller runs
// helm. Ready means the installer's component list is ready and the owner has activated Olares.
import type { ComponentStatus, ObservedState, Readiness, ReleaseStep, Stage, WorkloadRef } from "../../contract/index.js";
import { DEFAULT_CDN, WIZARD_CHART_DIRS, installerDir, isNvidiaNode, latestRecord, needsRelease } from "../../contract/index.js";
import { isDowngrade } from "../../api/index.js";
import type { RenderContext } from "../context.js";
import {
  activation,
  componentsReadiness,
  ownerUser,
  renderReleaseList,
  renderUpgradeList,
  systemComponents,
  systemEnvObjects,
  systemEnvOverrides,
  userEnvConfigMap,
  validateReleaseOverrides,
  gpuReleaseWanted,
  upgradePathProblem,
  upgraderPostSteps,
  upgraderPreSteps,
  veleroSteps,
  veleroWanted,
  type ReleaseEntry,
  type ReleaseList,
} from "../releases/index.js";

const STAGE = "CoreServices" as const;

const APP_SERVICE: WorkloadRef = { kind: "StatefulSet", namespace: "os-framework", name: "app-service" };
const bflRef = (username: string): WorkloadRef => ({ kind: "StatefulSet", namespace: `user-space-${username}`, name: "bfl" });

function notReady(reason: string, message: string, extra: Partial<Readiness> = {}): Readiness {
  return { ready: false, reason, message, ...extra };
}

/**
 * Steps in the installer's order. Install: charts up to settings, SystemEnv + user-env, os-*, the launcher
 * once app-service runs, the apps once bfl runs. Upgrade (base.go@01f62215): hami, settings, SystemEnv,
 * os-platform, os-framework, user-env, launcher, apps, settings with the new version, without waits (the
 * installer checks the components once, after the upgrade).
 */
function stepsOf(ctx: RenderContext, list: ReleaseList, upgrading: string | undefined): ReleaseStep[] {
  const rf = ctx.facts.release!;
  // The target version's upgrader: what it does before the system charts (cli/pkg/upgrade/1_12_x.go).
  const steps: ReleaseStep[] = upgrading ? upgraderPreSteps(ctx.spec.version) : [];
  const username = ctx.spec.owner.username;
  const chart = (e: ReleaseEntry): ReleaseStep => ({
    kind: "chart",
    release: e.release,
    ...(upgrading ? { context: upgrading } : e.phase === "launcher" ? { waitFor: [APP_SERVICE] } : e.phase === "apps" ? { waitFor: [bflRef(username)] } : {}),
  });
  const systemEnv = (): void => {
    if (rf.systemEnv) steps.push({ kind: "createOnly", name: "SystemEnv", objects: systemEnvObjects(rf.systemEnv, systemEnvOverrides(ctx.spec, { cdn: rf.cdn })) });
  };
  const userEnv = (): void => {
    if (rf.userEnv) steps.push({ kind: "userEnv", configMap: userEnvConfigMap(rf.userEnv), file: rf.userEnv });
  };
  for (const e of list.entries) {
    if (e.phase === "os-platform") {
      systemEnv();
      if (!upgrading) userEnv();
    }
    steps.push(chart(e));
    if (upgrading && e.phase === "os-framework") {
      // UpgradeSystemComponents ends with the user-env; the target upgrader's own steps follow it.
      userEnv();
      steps.push(...upgraderPostSteps(ctx.spec.version));
    }
  }
  // velero after the apps (InstallVeleroModule); the upgrade does not touch it.
  if (!upgrading && !list.waiting && rf.velero && veleroWanted(ctx.spec)) steps.push(...veleroSteps(ctx.spec, rf.velero));
  return steps;
}

/** One status entry per Helm release (the upgrade runs settings twice: the last run is the one reported). */
function releaseComponents(list: ReleaseList, observed: ObservedState): { components: ComponentStatus[]; pending?: string } {
  const byRelease = new Map<string, ComponentStatus>();
  let pending: string | undefined;
  for (const e of list.entries) {
    const record = latestRecord(observed.list("v1", "Secret", e.release.namespace), e.release.name, e.release.namespace);
    const stale = needsRelease(e.release, record);
    const what = e.phase === "version" ? " (the upgrade's last step: settings with the new version)" : "";
    const message = !record ? "not installed yet" : stale ? `revision ${record.revision} ${record.status}, input changed${what}` : `revision ${record.revision} deployed`;
    const key = `${e.release.namespace}/${e.release.name}`;
    byRelease.delete(key);
    byRelease.set(key, { name: e.release.name, stage: STAGE, kind: "HelmRelease", namespace: e.release.namespace, ready: !stale, message });
    if (stale && !pending) pending = `helm release ${key}: ${message}`;
  }
  return { components: [...byRelease.values()], ...(pending ? { pending } : {}) };
}

export function renderCoreServices(ctx: RenderContext): Stage {
  const rf = ctx.facts.release;
  const spec = ctx.spec;
  if (!rf) {
    // Offline (plan): the releases in the installer's order, without digests or values (those need the
    // release itself and the owner's Secrets); the apps are whatever wizard/config/apps holds.
    const dir = installerDir("<cache>", spec.version);
    const planned = [
      ...(gpuReleaseWanted(spec, ctx.facts.nodes.filter((n) => isNvidiaNode(n.labels)).length) ? [["hami", "kube-system", WIZARD_CHART_DIRS.hami]] : []),
      ["account", "default", WIZARD_CHART_DIRS.account],
      ["settings", "default", WIZARD_CHART_DIRS.settings],
      ["os-platform", "os-platform", WIZARD_CHART_DIRS.osPlatform],
      ["os-framework", "os-framework", WIZARD_CHART_DIRS.osFramework],
      [`launcher-${spec.owner.username}`, `user-space-${spec.owner.username}`, WIZARD_CHART_DIRS.launcher],
      ["(each app)", `user-space-${spec.owner.username}`, `${WIZARD_CHART_DIRS.apps}/*`],
    ] as const;
    return {
      name: STAGE,
      objects: [],
      releases: planned.map(([name, namespace, chart]) => ({ name, namespace, chart: { path: `${dir}/${chart}`, digest: "" }, values: {} })),
      ready: () => notReady("ReleaseNotLoaded", `the Olares ${spec.version} release is not loaded yet (the operator fetches it from ${spec.release.airgapDir ?? spec.release.cdn})`),
    };
  }
  if (rf.failure) {
    const f = rf.failure;
    const message = f.reason === "ChecksumMismatch" ? `${f.url}: MD5 ${f.actual} does not match the published ${f.expected}; nothing is applied` : `${f.message}; nothing is applied`;
    return { name: STAGE, objects: [], ready: () => notReady(f.reason, message, { degraded: true }) };
  }
  validateReleaseOverrides(spec, rf.source!);
  if (rf.ownerPassword === undefined || !rf.randoms) {
    return { name: STAGE, objects: [], ready: () => notReady("SecretsPending", `waiting for the owner's password (${rf.passwordLocation}) and the release randoms`) };
  }
  const installed = rf.installedVersion;
  if (installed && isDowngrade(installed, spec.version)) {
    return { name: STAGE, objects: [], ready: () => notReady("DowngradeRefused", `Olares ${installed} is installed (Terminus spec.version): going back to ${spec.version} is not supported; nothing is applied`, { degraded: true }) };
  }
  // An upgrade runs until its last step records the new version on Terminus (then the install list is current).
  const upgrading = installed !== undefined && installed !== spec.version;
  const pathProblem = upgrading ? upgradePathProblem(installed, spec.version) : undefined;
  if (pathProblem) {
    return { name: STAGE, objects: [], ready: () => notReady("UpgradePathUnsupported", `upgrading Olares ${installed} to ${spec.version}: ${pathProblem}; nothing is applied`, { degraded: true }) };
  }
  const gpuNodes = ctx.facts.nodes.filter((n) => isNvidiaNode(n.labels)).length;
  const listInput = {
    spec,
    source: rf.source!,
    ownerPassword: rf.ownerPassword,
    randoms: rf.randoms,
    gpuNodes,
    ...(rf.ownerActivated ? { ownerActivated: true } : {}),
    ...(rf.installCompleted ? { installCompleted: true } : {}),
    ...(rf.wizardInstalled ? { wizardInstalled: true } : {}),
    ...(rf.bfl ? { bfl: rf.bfl, bflAnnotations: rf.bfl.annotations } : {}),
  };
  const list = upgrading ? renderUpgradeList({ ...listInput, from: installed, ...(rf.otherUsers ? { otherUsers: rf.otherUsers } : {}) }) : renderReleaseList(listInput);
  const upgradeNote = upgrading ? `upgrading Olares ${installed} to ${spec.version}` : undefined;
  const steps = stepsOf(ctx, list, upgradeNote);
  // Releases of ours the spec no longer wants go last (never while a list waits for facts: it is partial).
  const wanted = upgrading ? renderReleaseList(listInput) : list;
  if (!list.waiting && !wanted.waiting) {
    const keys = new Set((upgrading ? [...wanted.entries, ...list.entries] : list.entries).map((e) => `${e.release.namespace}/${e.release.name}`));
    for (const r of [...(list.retained ?? []), ...(wanted.retained ?? [])]) keys.add(`${r.namespace}/${r.name}`);
    const keep = [...keys].map((k) => ({ namespace: k.slice(0, k.indexOf("/")), name: k.slice(k.indexOf("/") + 1) }));
    steps.push({ kind: "pruneReleases", namespaces: ["kube-system", "default", "os-platform", "os-framework", `user-space-${spec.owner.username}`], keep });
  }
  const progress = upgrading ? "UpgradingReleases" : "InstallingReleases";
  const note = upgradeNote ? `${upgradeNote}: ` : "";
  const gpu = list.entries.some((e) => e.phase === "gpu");
  const username = spec.owner.username;
  return {
    name: STAGE,
    objects: [],
    releases: list.entries.map((e) => e.release),
    hooks: [{ kind: "OlaresRelease", steps }],
    ready(observed) {
      const releases = releaseComponents(list, observed);
      const workloads = componentsReadiness(STAGE, systemComponents(username, { gpu, velero: veleroWanted(spec) }), observed);
      const components = [...releases.components, ...workloads.components];
      if (releases.pending) return notReady(progress, `${note}${releases.pending}`, { components });
      if (list.waiting) return notReady(progress, `${note}${list.waiting.key}: ${list.waiting.reason}`, { components });
      if (!upgrading && veleroWanted(spec) && !rf.velero) return notReady("VeleroUnavailable", `velero (installed after the apps, as olares-cli): ${rf.veleroFailure ?? "the release's velero component was not read"}`, { components, degraded: true });
      if (!workloads.ready) return notReady(workloads.degraded ? workloads.blocking!.reason : "ComponentsNotReady", workloads.blocking!.message, { components, ...(workloads.degraded ? { degraded: true } : {}) });
      const a = activation(ownerUser(observed, username), { username, domain: spec.owner.domain, nodeAddress: rf.nodeAddress ?? "<node-ip>", passwordLocation: rf.passwordLocation });
      if (a.state === "Activated") return { ready: true, reason: "Activated", message: a.message, components };
      return notReady(a.state === "ActivationFailed" ? "ActivationFailed" : "AwaitingActivation", a.message, { components });
    },
  };
}
