// NodeAgent: the privileged DaemonSet that applies node configs on every selected host.
import type { KubeObject, Stage } from "../../contract/index.js";
import { makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { sortedEntries } from "../../contract/index.js";
import { NODE_AGENT_HEALTH_PORT, NODE_AGENT_NAME, SYSTEM_NAMESPACE } from "../../contract/index.js";

const STAGE = "NodeAgent" as const;

/** Control-plane taints the agent must tolerate: every selected host needs its OS layer. */
export const CONTROL_PLANE_TOLERATIONS = [
  { effect: "NoSchedule", key: "node-role.kubernetes.io/control-plane", operator: "Exists" },
  { effect: "NoSchedule", key: "node-role.kubernetes.io/master", operator: "Exists" },
];

export function nodeSelectorOf(ctx: RenderContext): Record<string, string> | undefined {
  const entries = sortedEntries(ctx.spec.nodes?.selector).filter((e): e is [string, string] => typeof e[1] === "string");
  return entries.length ? Object.fromEntries(entries) : undefined;
}

export function renderNodeAgent(ctx: RenderContext): Stage {
  const nodeSelector = nodeSelectorOf(ctx);
  const daemonSet: KubeObject = makeObject(ctx, STAGE, {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    name: NODE_AGENT_NAME,
    namespace: SYSTEM_NAMESPACE,
    component: NODE_AGENT_NAME,
    body: {
      spec: {
        selector: { matchLabels: selectorLabels(ctx, NODE_AGENT_NAME) },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: standardLabels(ctx, STAGE, NODE_AGENT_NAME) },
          spec: {
            serviceAccountName: NODE_AGENT_NAME,
            hostPID: true,
            hostNetwork: true,
            dnsPolicy: "ClusterFirstWithHostNet",
            priorityClassName: "system-node-critical",
            terminationGracePeriodSeconds: 30,
            ...(nodeSelector ? { nodeSelector } : {}),
            // Every taint (GPU, dedicated pools, NoExecute): the rollout waits for every selected node,
            // so an agent kept off one node would stall the NodeConfig stage for good.
            tolerations: [...CONTROL_PLANE_TOLERATIONS, { operator: "Exists" }],
            containers: [
              {
                name: "agent",
                image: ctx.facts.operatorImage,
                imagePullPolicy: "IfNotPresent",
                args: ["agent"],
                env: [
                  { name: "HOST_ROOT", value: "/host" },
                  { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
                  { name: "OLARES_AGENT_HEALTH_ADDR", value: `:${NODE_AGENT_HEALTH_PORT}` },
                  { name: "OLARES_INSTALLATION", value: ctx.installationName },
                  { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                ],
                // The image runs as uid 65532; host work (nsenter, chroot, apt) needs root.
                securityContext: { privileged: true, runAsUser: 0 },
                resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
                readinessProbe: {
                  httpGet: { path: "/readyz", port: NODE_AGENT_HEALTH_PORT, host: "127.0.0.1" },
                  periodSeconds: 10,
                  failureThreshold: 3,
                },
                volumeMounts: [{ name: "host-root", mountPath: "/host", mountPropagation: "HostToContainer" }],
              },
            ],
            volumes: [{ name: "host-root", hostPath: { path: "/", type: "Directory" } }],
          },
        },
      },
    },
  });
  const objects = [daemonSet];
  return { name: STAGE, objects, ready: (observed) => objectsReadiness(STAGE, objects, observed, { requireScheduled: true }) };
}
