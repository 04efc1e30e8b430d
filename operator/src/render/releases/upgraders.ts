// The per-version upgraders of olares-cli on the 1.12 main line (cli/pkg/upgrade/1_12_x.go), as data.
// olares-cli picks one upgrader, the target's (getUpgraderByVersion; none → the generic walk of base.go),
// and refuses a path that skips a breaking release (Check: the base must be at least the last upgrader
// below the target that AddedBreakingChange; version.go@…, read as the "upgrade framework" file). Pure.
import type { KubeObject, ObjectRef, ReleaseStep, WorkloadChange, WorkloadQuery } from "../../contract/index.js";

export interface VersionUpgrader {
  version: string;
  /** AddedBreakingChange: an upgrade to a later version must start from this one or later. */
  breaking: boolean;
  source: string;
  /** upgradeL4BFLProxy{Tag}: `kubectl set image deployment/l4-bfl-proxy proxy=beclab/l4-bfl-proxy:<tag> -n os-network`, before the system charts. */
  l4BflProxyTag?: string;
  /**
   * deleteArgoProjV1alpha1CRDs (PrepareForUpgrade, cli/pkg/upgrade/1_12_3_20251217.go@8033b560): every
   * argoproj.io CRD that Helm release `knowledge` brought is deleted (the knowledge app's old Argo CRDs).
   */
  deleteKnowledgeArgoCRDs?: boolean;
  /**
   * Strategic-merge patches of the upgrader (client-go Patch), as data: `pre` before the system charts
   * (UpgradeSystemComponents' pre), `post` after them and the user-env (before the users' launchers).
   */
  patches?: Array<{ task: string; source: string; when: "pre" | "post"; target: ObjectRef; patch: Record<string, unknown> }>;
  /** Walks over workloads (after the same `when`'s patches), each workload given `change` where it applies. */
  workloadWalks?: Array<{ task: string; source: string; when: "pre" | "post"; select: WorkloadQuery[]; change: WorkloadChange }>;
  /** What the upgrader does that the operator does not, and why. */
  notHere: string[];
}

const K3S_PHASE = "K3s-phase pieces olares-cli embeds (KubeSphere, Prometheus, node-exporter) are not installed by the operator";
const HOST = "host-side (k3s/kubeadm files, etcd unit, reboots): the node agent's OS tasks own the hosts";

const L4_BFL_PROXY: ObjectRef = { apiVersion: "apps/v1", kind: "Deployment", namespace: "os-network", name: "l4-bfl-proxy" };

/** updateL4DeploymentSpec (1_12_6_20260327.go@54142701, reused by 1.12.6): HTTP probes on 8081, new flags, tier=bfl. */
const UPDATE_L4_DEPLOYMENT_SPEC = {
  spec: {
    template: {
      metadata: { labels: { tier: "bfl" } },
      spec: {
        containers: [
          {
            name: "proxy",
            command: ["/l4-bfl-proxy", "-v", "4", "-xds-tcp-idle-timeout", "1h", "-xds-http-stream-idle-timeout", "1h", "-xds-connect-timeout", "5s"],
            livenessProbe: { tcpSocket: null, failureThreshold: 8, httpGet: { path: "/healthz", port: 8081, scheme: "HTTP" }, initialDelaySeconds: 3, periodSeconds: 5, successThreshold: 1, timeoutSeconds: 10 },
            readinessProbe: { tcpSocket: null, failureThreshold: 5, httpGet: { path: "/readyz", port: 8081, scheme: "HTTP" }, periodSeconds: 3, successThreshold: 1, timeoutSeconds: 10 },
          },
        ],
      },
    },
  },
};

/** patchL4BFLProxyProbePort (1_12_7_20260617.go, reused by 1.12.6): both probes to 18081, the new binary's probe address. */
const PATCH_L4_PROBE_PORT = { spec: { template: { spec: { containers: [{ name: "proxy", livenessProbe: { httpGet: { port: 18081 } }, readinessProbe: { httpGet: { port: 18081 } } }] } } } };

/**
 * patchNodeAffinityToRequired (1_12_7_20260413.go@f5055e99, reused by 1.12.6): the citus and kvrocks
 * operators' StatefulSets in every namespace, then os-network/l4-bfl-proxy, preferred → required node
 * affinity with node-role.kubernetes.io/master renamed to …/control-plane.
 */
const NODE_AFFINITY_TO_REQUIRED: WorkloadQuery[] = [
  { kinds: ["StatefulSet"], labels: { "managed-by": "citus-operator" } },
  { kinds: ["StatefulSet"], labels: { "managed-by": "kvrocks-operator" } },
  { kinds: ["Deployment"], namespaces: ["os-network"], name: "l4-bfl-proxy" },
];

/**
 * patchWorkloadPriorityClassName (1_12_7_20260629.go@7db8d929, reused by 1.12.6): the non-Helm
 * Deployments, DaemonSets and StatefulSets with no priorityClassName of the system namespaces, then of
 * each user's user-space-/user-system- namespaces, to system-cluster-critical.
 */
const WORKLOAD_PRIORITY_CLASS: WorkloadQuery[] = [
  {
    kinds: ["Deployment", "DaemonSet", "StatefulSet"],
    namespaces: ["kube-system", "kubesphere-monitoring-system", "kubesphere-system", "os-framework", "os-gateway", "os-mesh", "os-gpu", "os-network", "os-protected"],
    userNamespaces: ["user-space-", "user-system-"],
    skipHelmManaged: true,
  },
];

/** Main-line upgraders of the 1.12 line, in version order. */
export const UPGRADERS_1_12: readonly VersionUpgrader[] = [
  {
    version: "1.12.3",
    breaking: true,
    source: "cli/pkg/upgrade/1_12_3.go@04c9e830",
    l4BflProxyTag: "v0.3.9",
    deleteKnowledgeArgoCRDs: true,
    notHere: [
      `upgradeKsConfig, upgradePrometheusServiceMonitorKubelet, upgradeKSCore, upgradeNodeExporter: ${K3S_PHASE}`,
      `regenerateKubeFiles (RegenerateK3sService + restart), RebootIfNeeded: ${HOST}`,
      "UpgradeGPUDriver: the GPU stage's driver task (spec.gpu.nvidia.driver) owns the driver version",
    ],
  },
  {
    version: "1.12.4",
    breaking: true,
    source: "cli/pkg/upgrade/1_12_4.go@58a557ef",
    l4BflProxyTag: "v0.3.9",
    deleteKnowledgeArgoCRDs: true,
    notHere: [
      `upgradeKsConfig, upgradePrometheusServiceMonitorKubelet, upgradeKSCore, upgradeNodeExporter: ${K3S_PHASE}`,
      `regenerateKubeFiles, RebootNodes after a driver change: ${HOST}`,
      "PostUpgradeNode's GPU driver: the GPU stage's driver task owns the driver version",
    ],
  },
  {
    version: "1.12.5",
    breaking: true,
    source: "cli/pkg/upgrade/1_12_5.go@0c5954af",
    l4BflProxyTag: "v0.3.12",
    notHere: [`GenerateETCDService + daemon-reload: ${HOST}`, "UpdateNodeGPUInfo: the node agent keeps the gpu.bytetrade.io/* labels current"],
  },
  {
    version: "1.12.6",
    breaking: true,
    source: "cli/pkg/upgrade/1_12_6.go@074882dd",
    patches: [
      { task: "UpdateL4DeploymentSpec", source: "cli/pkg/upgrade/1_12_6_20260327.go", when: "pre", target: L4_BFL_PROXY, patch: UPDATE_L4_DEPLOYMENT_SPEC },
      { task: "PatchL4BFLProxyProbePort", source: "cli/pkg/upgrade/1_12_7_20260617.go", when: "post", target: L4_BFL_PROXY, patch: PATCH_L4_PROBE_PORT },
    ],
    workloadWalks: [
      { task: "PatchNodeAffinityToRequired", source: "cli/pkg/upgrade/1_12_7_20260413.go", when: "pre", select: NODE_AFFINITY_TO_REQUIRED, change: { kind: "nodeAffinityRequired", renameKeys: { "node-role.kubernetes.io/master": "node-role.kubernetes.io/control-plane" } } },
      { task: "PatchWorkloadPriorityClassName", source: "cli/pkg/upgrade/1_12_7_20260629.go", when: "post", select: WORKLOAD_PRIORITY_CLASS, change: { kind: "priorityClassName", value: "system-cluster-critical" } },
    ],
    notHere: [
      `upgradeKsConfig, PrometheusRule/ServiceMonitor/node-exporter/prometheus-operator, multus, PatchCoreDNSControlPlaneAffinity (kube-system/coredns is K3s's): ${K3S_PHASE}`,
      `createAppCommonDir, NetworkManager config, user reverse proxy, PatchNfsScript: ${HOST}`,
      "ApplyGPUBindingCRD, retagLegacyAMDGPUImage, labelIntelAMDGPUNode, BackfillAppGPUConfig, MigrateLegacyGPUBindings: the GPUBinding/Intel/AMD GPU model of later hami charts; the operator's GPU stage covers NVIDIA only; not done",
      "WaitForAppServiceReady: the walk has no waits; CoreServices' readiness waits for os-framework/app-service after the upgrade",
    ],
  },
  {
    // Only PrepareForUpgrade steps of its own; none on the cluster objects the operator manages.
    version: "1.12.7",
    breaking: true,
    source: "cli/pkg/upgrade/1_12_7.go@01f62215",
    notHere: [
      `migrateContainerdConfigV3, CleanupK3sCertsRenewService, user reverse proxy: ${HOST}`,
      `CopyEmbeddedKSManifests, upgradeKubernetesPrometheusRule: ${K3S_PHASE}`,
      "upgradeAmdDeviceMetricsExporter: AMD GPUs; the operator's GPU stage covers NVIDIA only",
    ],
  },
];

/** Parses "1.12.3" (a stable version) to numbers; prereleases are not on the main line's stable path. */
function parts(v: string): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** getUpgraderByVersion(target): the target's upgrader, or none (the generic walk). */
export function upgraderFor(to: string, table: readonly VersionUpgrader[] = UPGRADERS_1_12): VersionUpgrader | undefined {
  const t = parts(to);
  return t ? table.find((u) => compare(parts(u.version)!, t) === 0) : undefined;
}

/** The oldest version an upgrade to `to` starts from (MinimumUpgradableVersions for a stable target). */
export function minimumUpgradableVersion(to: string, table: readonly VersionUpgrader[] = UPGRADERS_1_12): string {
  const t = parts(to);
  let min = "1.12.0"; // minUpgradableStableVersion: the upgrade framework's first version
  if (!t) return min;
  for (const u of table) if (u.breaking && compare(parts(u.version)!, t) < 0) min = u.version;
  return min;
}

/** upgrade.Check for stable versions: undefined when `from` → `to` is a supported path, else why not. */
export function upgradePathProblem(from: string, to: string, table: readonly VersionUpgrader[] = UPGRADERS_1_12): string | undefined {
  const f = parts(from);
  const t = parts(to);
  if (!f || !t) return undefined; // not a stable version: the controller's own rules apply
  if (compare(t, f) <= 0) return `${to} is not newer than ${from}`;
  const min = minimumUpgradableVersion(to, table);
  if (compare(f, parts(min)!) < 0) return `Olares ${to} upgrades from ${min} or later (olares-cli's upgrade check: ${min} added breaking changes); upgrade ${from} to ${min} first`;
  return undefined;
}

/** The target upgrader's steps before the system charts (UpgradeSystemComponents' `pre`) that the operator runs. */
export function upgraderPreSteps(to: string, table: readonly VersionUpgrader[] = UPGRADERS_1_12): ReleaseStep[] {
  const u = upgraderFor(to, table);
  const steps: ReleaseStep[] = [];
  if (!u) return steps;
  // PrepareForUpgrade runs before UpgradeSystemComponents' pre steps.
  if (u.deleteKnowledgeArgoCRDs) steps.push({ kind: "deleteCRDs", name: `DeleteArgoProjV1alpha1CRDs (${u.source})`, group: "argoproj.io", annotations: { "meta.helm.sh/release-name": "knowledge" } });
  if (u.l4BflProxyTag) steps.push({ kind: "setImage", name: `UpgradeL4BFLProxy (${u.source})`, target: L4_BFL_PROXY, container: "proxy", image: `beclab/l4-bfl-proxy:${u.l4BflProxyTag}`, ifPresent: true });
  steps.push(...patchSteps(u, "pre"));
  return steps;
}

function patchSteps(u: VersionUpgrader, when: "pre" | "post"): ReleaseStep[] {
  // A missing target is skipped (logged), as for UpgradeL4BFLProxy: olares-cli's Patch would fail the upgrade.
  const patches = (u.patches ?? []).filter((p) => p.when === when).map((p): ReleaseStep => ({ kind: "strategicPatch", name: `${p.task} (${p.source})`, target: p.target, patch: p.patch, ifPresent: true }));
  const walks = (u.workloadWalks ?? []).filter((w) => w.when === when).map((w): ReleaseStep => ({ kind: "patchWorkloads", name: `${w.task} (${w.source})`, select: w.select, change: w.change }));
  return [...patches, ...walks];
}

/** isHelmManagedWorkload: Helm's managed-by label or either meta.helm.sh release annotation. */
function helmManaged(obj: KubeObject): boolean {
  const a = obj.metadata.annotations ?? {};
  return obj.metadata.labels?.["app.kubernetes.io/managed-by"] === "Helm" || "meta.helm.sh/release-name" in a || "meta.helm.sh/release-namespace" in a;
}

/** Whether a listed workload is one `query` visits: "yes", or why not ("helm": logged as skipped). */
export function workloadSelected(query: WorkloadQuery, obj: KubeObject): "yes" | "no" | "helm" {
  if (query.name !== undefined && obj.metadata.name !== query.name) return "no";
  if (Object.entries(query.labels ?? {}).some(([k, v]) => obj.metadata.labels?.[k] !== v)) return "no";
  if (query.skipHelmManaged && helmManaged(obj)) return "helm";
  return "yes";
}

interface PodTemplateSpec {
  priorityClassName?: string;
  affinity?: { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: unknown; preferredDuringSchedulingIgnoredDuringExecution?: Array<{ preference?: { matchExpressions?: Array<{ key: string }>; matchFields?: unknown[] } }> } };
}

/**
 * The strategic-merge patch `change` makes to a live workload, or undefined when it does not apply
 * (already changed, or nothing to change): so a second walk writes nothing.
 */
export function workloadChangePatch(change: WorkloadChange, live: KubeObject): Record<string, unknown> | undefined {
  const pod = ((live as { spec?: { template?: { spec?: PodTemplateSpec } } }).spec?.template?.spec ?? {}) as PodTemplateSpec;
  if (change.kind === "priorityClassName") {
    return pod.priorityClassName ? undefined : { spec: { template: { spec: { priorityClassName: change.value } } } };
  }
  // convertAffinityPreferredToRequired: each preferred term's preference (weights dropped) becomes a required term.
  const na = pod.affinity?.nodeAffinity;
  const preferred = na?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  if (!na || preferred.length === 0 || na.requiredDuringSchedulingIgnoredDuringExecution != null) return undefined;
  const terms = preferred.map((p) => {
    const term: Record<string, unknown> = { ...(p.preference ?? {}) };
    if (p.preference?.matchExpressions) term.matchExpressions = p.preference.matchExpressions.map((e) => ({ ...e, key: change.renameKeys[e.key] ?? e.key }));
    return term;
  });
  return { spec: { template: { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms }, preferredDuringSchedulingIgnoredDuringExecution: null } } } } } };
}

/** The target upgrader's steps after the system charts and the user-env, before the users' launchers. */
export function upgraderPostSteps(to: string, table: readonly VersionUpgrader[] = UPGRADERS_1_12): ReleaseStep[] {
  const u = upgraderFor(to, table);
  return u ? patchSteps(u, "post") : [];
}
