// Readiness as the installer means it: the system components it waits for, per namespace and per user
// (cli/pkg/systemcomponents registry.go@239ef12b / readiness.go@6a420bc0; the 1.12-era waits on
// os-framework tier=app-service and user-space-<u> tier=bfl, ossystem.go@56aaf78b, launcher.go@df5b0859).
// Components of the K3s phase (coredns, KubeSphere, Prometheus) are not part of the wizard release and
// are not listed; os-protected, os-gateway and os-mesh are [newest-main] only.
import type { ComponentStatus, ObservedState, StageName } from "../../contract/index.js";
import { daemonSetVerdict, deploymentVerdict, statefulSetVerdict, type ObjectVerdict } from "../readiness.js";
import type { ReleasePhase } from "./list.js";

export type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet";

export interface SystemComponent {
  namespace: string;
  name: string;
  kind: WorkloadKind;
  /** The release phase after which the installer waits for it. */
  phase: ReleasePhase;
  /** Optional components are reported but never block Ready. */
  optional?: boolean;
}

const deploy = (phase: ReleasePhase, namespace: string, names: string[], kind: WorkloadKind = "Deployment", optional = false): SystemComponent[] =>
  names.map((name) => ({ namespace, name, kind, phase, ...(optional ? { optional } : {}) }));

export function systemComponents(username: string, opts: { gpu: boolean; velero?: boolean }): SystemComponent[] {
  const userSpace = `user-space-${username}`;
  return [
    ...(opts.gpu
      ? [...deploy("gpu", "kube-system", ["hami-scheduler"], "Deployment", true), ...deploy("gpu", "kube-system", ["hami-device-plugin"], "DaemonSet", true), ...deploy("gpu", "os-gpu", ["gpu-scheduler"], "DaemonSet", true)]
      : []),
    ...deploy("os-platform", "os-platform", ["citus", "kvrocks", "nats"], "StatefulSet"),
    ...deploy("os-platform", "os-platform", ["lldap", "tapr-middleware", "tapr-s3", "argo", "workflow-controller", "kubeblocks", "opa", "otel-opentelemetry-operator"]),
    ...deploy("os-framework", "os-framework", ["app-service"], "StatefulSet"),
    ...deploy("os-framework", "os-framework", ["authelia-backend", "backup", "market-deployment", "monitoring-server-deployment", "notifications-server", "seafile", "search3", "search3-validation", "system-provider", "tapr-sysevent", "vault-server"]),
    ...deploy("os-framework", "os-framework", ["image-service", "files", "download", "osnodeinit-daemon", "search3monitor"], "DaemonSet"),
    ...deploy("launcher", userSpace, ["bfl"], "StatefulSet"),
    ...deploy("launcher", userSpace, ["authelia-deployment", "headscale", "tailscale", "olares-app-deployment"]),
    ...deploy("launcher", `user-system-${username}`, ["system-server", "tapr-images"]),
    // velero install --wait: the velero Deployment Available (install.DeploymentIsReady); its pod is one of
    // os-framework's, which the welcome check (CheckKeyPodsRunning) waits for.
    ...(opts.velero ? deploy("velero", "os-framework", ["velero"]) : []),
  ];
}

function verdict(c: SystemComponent, observed: ObservedState): ObjectVerdict {
  const live = observed.get({ apiVersion: "apps/v1", kind: c.kind, name: c.name, namespace: c.namespace });
  if (!live) return { ready: false, reason: "NotPresent", message: `${c.kind} ${c.namespace}/${c.name} not present yet` };
  // A DaemonSet with 0 desired nodes counts as ready (as the installer's check).
  if (c.kind === "DaemonSet") return daemonSetVerdict(live);
  return c.kind === "Deployment" ? deploymentVerdict(live) : statefulSetVerdict(live);
}

export interface ComponentsReadiness {
  ready: boolean;
  components: ComponentStatus[];
  /** The first required component that is not ready. */
  blocking?: { component: SystemComponent; message: string; reason: string };
  degraded: boolean;
}

export function componentsReadiness(stage: StageName, list: readonly SystemComponent[], observed: ObservedState): ComponentsReadiness {
  const components: ComponentStatus[] = [];
  let blocking: ComponentsReadiness["blocking"];
  let degraded = false;
  for (const c of list) {
    const v = verdict(c, observed);
    components.push({ name: c.name, stage, kind: c.kind, namespace: c.namespace, ready: v.ready, message: v.message });
    if (!v.ready && !c.optional) {
      if (v.degraded) degraded = true;
      blocking ??= { component: c, message: v.message, reason: v.reason };
    }
  }
  return { ready: !blocking, components, ...(blocking ? { blocking } : {}), degraded };
}
