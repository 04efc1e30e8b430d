// Prerequisites: the operator's namespace (the release's own namespaces come from its charts) and the node agent's identity with least-privilege RBAC, plus hooks for
// the Secrets the operator generates and the owner's password Secret it reads.
import type { KubeObject, Stage } from "../../contract/index.js";
import { makeObject, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { generatedSecretsHook, secretReferencesHook } from "../hooks.js";
import { NODE_AGENT_NAME, SYSTEM_NAMESPACE } from "../../contract/index.js";

const STAGE = "Prerequisites" as const;

function namespace(ctx: RenderContext, name: string): KubeObject {
  return makeObject(ctx, STAGE, { apiVersion: "v1", kind: "Namespace", name, component: name, body: {} });
}

/** The node agent watches its own Node, reports through annotations, cordons, drains and emits events. */
export const NODE_AGENT_CLUSTER_RULES = [
  { apiGroups: [""], resources: ["nodes"], verbs: ["get", "list", "patch", "watch"] },
  { apiGroups: [""], resources: ["pods"], verbs: ["list"] },
  { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
  { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
  { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
];

/** Node configs live in olares-system; the agent only reads them. */
export const NODE_AGENT_NAMESPACE_RULES = [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }];

export function renderPrerequisites(ctx: RenderContext): Stage {
  const subject = [{ kind: "ServiceAccount", name: NODE_AGENT_NAME, namespace: SYSTEM_NAMESPACE }];
  const objects: KubeObject[] = [
    namespace(ctx, SYSTEM_NAMESPACE),
    makeObject(ctx, STAGE, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      name: NODE_AGENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      component: NODE_AGENT_NAME,
      body: {},
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      name: NODE_AGENT_NAME,
      component: NODE_AGENT_NAME,
      body: { rules: NODE_AGENT_CLUSTER_RULES },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      name: NODE_AGENT_NAME,
      component: NODE_AGENT_NAME,
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: NODE_AGENT_NAME },
        subjects: subject,
      },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      name: NODE_AGENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      component: NODE_AGENT_NAME,
      body: { rules: NODE_AGENT_NAMESPACE_RULES },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      name: NODE_AGENT_NAME,
      namespace: SYSTEM_NAMESPACE,
      component: NODE_AGENT_NAME,
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NODE_AGENT_NAME },
        subjects: subject,
      },
    }),
  ];
  const hooks = [...generatedSecretsHook(ctx), ...secretReferencesHook(ctx, STAGE)];
  return { name: STAGE, objects, hooks, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
