// Where each kind lives in the REST API. A built-in table covers the kinds the operator touches;
// anything else (our CRD, third-party kinds) is resolved through discovery and cached.

export interface ResourceInfo {
  /** "" for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

type Row = [apiVersion: string, kind: string, plural: string, namespaced: boolean];

const BUILT_IN: Row[] = [
  ["v1", "Namespace", "namespaces", false],
  ["v1", "Node", "nodes", false],
  ["v1", "PersistentVolume", "persistentvolumes", false],
  ["v1", "Pod", "pods", true],
  ["v1", "Service", "services", true],
  ["v1", "ServiceAccount", "serviceaccounts", true],
  ["v1", "ConfigMap", "configmaps", true],
  ["v1", "Secret", "secrets", true],
  ["v1", "Endpoints", "endpoints", true],
  ["v1", "Event", "events", true],
  ["v1", "PersistentVolumeClaim", "persistentvolumeclaims", true],
  ["v1", "ResourceQuota", "resourcequotas", true],
  ["v1", "LimitRange", "limitranges", true],
  ["apps/v1", "Deployment", "deployments", true],
  ["apps/v1", "DaemonSet", "daemonsets", true],
  ["apps/v1", "StatefulSet", "statefulsets", true],
  ["apps/v1", "ReplicaSet", "replicasets", true],
  ["apps/v1", "ControllerRevision", "controllerrevisions", true],
  ["batch/v1", "Job", "jobs", true],
  ["batch/v1", "CronJob", "cronjobs", true],
  ["policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", true],
  ["rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", false],
  ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "clusterrolebindings", false],
  ["rbac.authorization.k8s.io/v1", "Role", "roles", true],
  ["rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings", true],
  ["coordination.k8s.io/v1", "Lease", "leases", true],
  ["events.k8s.io/v1", "Event", "events", true],
  ["storage.k8s.io/v1", "StorageClass", "storageclasses", false],
  ["storage.k8s.io/v1", "CSIDriver", "csidrivers", false],
  ["storage.k8s.io/v1", "CSINode", "csinodes", false],
  ["node.k8s.io/v1", "RuntimeClass", "runtimeclasses", false],
  ["scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", false],
  ["networking.k8s.io/v1", "Ingress", "ingresses", true],
  ["networking.k8s.io/v1", "IngressClass", "ingressclasses", false],
  ["networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", true],
  ["apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false],
  ["admissionregistration.k8s.io/v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", false],
  ["admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", false],
  ["apiregistration.k8s.io/v1", "APIService", "apiservices", false],
];

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const parts = apiVersion.split("/");
  if (parts.length === 1 && parts[0]) return { group: "", version: parts[0] };
  if (parts.length === 2 && parts[0] && parts[1]) return { group: parts[0], version: parts[1] };
  throw new Error(`apiVersion: "${apiVersion}" must be "<version>" or "<group>/<version>"`);
}

const table = new Map<string, ResourceInfo>(
  BUILT_IN.map(([apiVersion, kind, plural, namespaced]) => [
    `${apiVersion}/${kind}`,
    { ...splitApiVersion(apiVersion), kind, plural, namespaced },
  ]),
);

export function builtInResource(apiVersion: string, kind: string): ResourceInfo | undefined {
  return table.get(`${apiVersion}/${kind}`);
}

/** Collection path, e.g. /apis/apps/v1/namespaces/ns/deployments or /api/v1/nodes. */
export function collectionPath(info: ResourceInfo, namespace?: string): string {
  const base = info.group === "" ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${info.plural}`;
}

export function objectPath(info: ResourceInfo, name: string, namespace?: string, subresource?: string): string {
  if (!name) throw new Error(`metadata.name: required to address a ${info.kind}`);
  if (info.namespaced && !namespace) throw new Error(`metadata.namespace: required for namespaced kind ${info.kind} "${name}"`);
  const sub = subresource ? `/${subresource}` : "";
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}${sub}`;
}
