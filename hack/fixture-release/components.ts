// What the fixture charts create: workloads named like the real Olares components, per chart and
// namespace, so readiness can be checked the way the installer checks it. Names from the installer's
// component registry (cli/pkg/systemcomponents registry.go@239ef12b) and the 1.12-era pod checks
// (tier=app-service in os-framework, tier=bfl in user-space-<user>; cli/pkg/terminus/ossystem.go@56aaf78b,
// launcher.go@df5b0859).

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

export interface FixtureWorkload {
  name: string;
  kind: WorkloadKind;
  /** Extra pod labels (the installer selects app-service and bfl by tier). */
  tier?: string;
  /** Namespace template; default the release namespace. */
  namespace?: string;
  nodeSelector?: Record<string, string>;
}

export const OS_PLATFORM_WORKLOADS: FixtureWorkload[] = [
  { name: "citus", kind: "StatefulSet" },
  { name: "kvrocks", kind: "StatefulSet" },
  { name: "nats", kind: "StatefulSet" },
  { name: "lldap", kind: "Deployment" },
  { name: "tapr-middleware", kind: "Deployment" },
  { name: "tapr-s3", kind: "Deployment" },
  { name: "argo", kind: "Deployment" },
  { name: "workflow-controller", kind: "Deployment" },
  { name: "kubeblocks", kind: "Deployment" },
  { name: "opa", kind: "Deployment" },
  { name: "otel-opentelemetry-operator", kind: "Deployment" },
];

export const OS_FRAMEWORK_WORKLOADS: FixtureWorkload[] = [
  { name: "app-service", kind: "StatefulSet", tier: "app-service" },
  { name: "authelia-backend", kind: "Deployment" },
  { name: "backup", kind: "Deployment" },
  { name: "market-deployment", kind: "Deployment" },
  { name: "monitoring-server-deployment", kind: "Deployment" },
  { name: "notifications-server", kind: "Deployment" },
  { name: "seafile", kind: "Deployment" },
  { name: "search3", kind: "Deployment" },
  { name: "search3-validation", kind: "Deployment" },
  { name: "system-provider", kind: "Deployment" },
  { name: "tapr-sysevent", kind: "Deployment" },
  { name: "vault-server", kind: "Deployment" },
  { name: "image-service", kind: "DaemonSet" },
  { name: "files", kind: "DaemonSet" },
  { name: "download", kind: "DaemonSet" },
  { name: "osnodeinit-daemon", kind: "DaemonSet" },
  { name: "search3monitor", kind: "DaemonSet" },
];

/** The launcher chart: bfl and the per-user services (user-space-<u>, and user-system-<u>). */
export const LAUNCHER_WORKLOADS: FixtureWorkload[] = [
  { name: "bfl", kind: "StatefulSet", tier: "bfl" },
  { name: "authelia-deployment", kind: "Deployment" },
  { name: "headscale", kind: "Deployment" },
  { name: "tailscale", kind: "Deployment" },
  { name: "olares-app-deployment", kind: "Deployment" },
  { name: "system-server", kind: "Deployment", namespace: "user-system-{{ .Values.bfl.username }}" },
  { name: "tapr-images", kind: "Deployment", namespace: "user-system-{{ .Values.bfl.username }}" },
];

export const HAMI_WORKLOADS: FixtureWorkload[] = [
  { name: "hami-scheduler", kind: "Deployment" },
  { name: "hami-device-plugin", kind: "DaemonSet", nodeSelector: { "gpu.bytetrade.io/cuda-supported": "true" } },
  { name: "gpu-scheduler", kind: "DaemonSet", namespace: "os-gpu", nodeSelector: { "gpu.bytetrade.io/cuda-supported": "true" } },
];

/** A few of the built-in apps (BuiltInApps, apps.go@b57e85c3) plus the wizard app that serves activation. */
export const FIXTURE_APPS = ["desktop", "files", "settings", "wizard"] as const;

export function imageOf(component: string, version: string): string {
  // Our own fixture images, never a real tag: the repository says what they are.
  return `docker.io/olares-fixture/${component}:v${version}`;
}
