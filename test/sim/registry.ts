// The resources the simulator serves: built-in kinds plus those added by CRDs.
import { typeKeyOf, type ResourceType, type ScaleSubresource } from "./types.js";

const ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

interface BuiltinSpec {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  scale?: boolean;
  extra?: string[];
  verbs?: string[];
  fields?: string[];
}

const REPLICAS_SCALE: ScaleSubresource = {
  specReplicasPath: ".spec.replicas",
  statusReplicasPath: ".status.replicas",
  labelSelectorPath: ".spec.selector",
};

const BUILTINS: BuiltinSpec[] = [
  { group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"], status: true, extra: ["finalize"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], fields: ["status.phase"] },
  { group: "", version: "v1", resource: "nodes", kind: "Node", namespaced: false, shortNames: ["no"], status: true, fields: ["spec.unschedulable"] },
  { group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"], status: true, extra: ["log", "eviction"], fields: ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "status.phase", "status.podIP", "status.nominatedNodeName"] },
  { group: "", version: "v1", resource: "services", kind: "Service", namespaced: true, shortNames: ["svc"], categories: ["all"], status: true },
  { group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"] },
  { group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, fields: ["type"] },
  { group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"] },
  { group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"], fields: ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"] },
  { group: "", version: "v1", resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"], status: true },
  { group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"], status: true },
  { group: "", version: "v1", resource: "endpoints", kind: "Endpoints", namespaced: true, shortNames: ["ep"] },
  { group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"], categories: ["all"], status: true, scale: true },
  { group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"], categories: ["all"], status: true },
  { group: "apps", version: "v1", resource: "statefulsets", kind: "StatefulSet", namespaced: true, shortNames: ["sts"], categories: ["all"], status: true, scale: true },
  { group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"], categories: ["all"], status: true, scale: true, fields: ["status.replicas"] },
  { group: "batch", version: "v1", resource: "jobs", kind: "Job", namespaced: true, categories: ["all"], status: true, fields: ["status.successful"] },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false },
  { group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  { group: "coordination.k8s.io", version: "v1", resource: "leases", kind: "Lease", namespaced: true },
  { group: "discovery.k8s.io", version: "v1", resource: "endpointslices", kind: "EndpointSlice", namespaced: true },
  { group: "storage.k8s.io", version: "v1", resource: "storageclasses", kind: "StorageClass", namespaced: false, shortNames: ["sc"] },
  { group: "node.k8s.io", version: "v1", resource: "runtimeclasses", kind: "RuntimeClass", namespaced: false },
  { group: "events.k8s.io", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"], fields: ["regarding.kind", "regarding.namespace", "regarding.name", "regarding.uid", "reason", "reportingController", "type"] },
  { group: "policy", version: "v1", resource: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true, shortNames: ["pdb"], status: true },
  { group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false, shortNames: ["crd", "crds"], categories: ["api-extensions"], status: true },
];

export class ResourceRegistry {
  private readonly byKey = new Map<string, ResourceType>();
  /** Bumped whenever the served set changes (discovery/openapi caches key on it). */
  generation = 0;

  constructor() {
    for (const b of BUILTINS) {
      this.add({
        group: b.group,
        versions: [b.version],
        resource: b.resource,
        kind: b.kind,
        listKind: `${b.kind}List`,
        singular: b.kind.toLowerCase(),
        namespaced: b.namespaced,
        shortNames: b.shortNames ?? [],
        categories: b.categories ?? [],
        verbs: b.verbs ?? ALL_VERBS,
        statusSubresource: b.status ?? false,
        scale: b.scale ? REPLICAS_SCALE : undefined,
        extraSubresources: b.extra ?? [],
        selectableFields: b.fields ?? [],
      });
    }
  }

  add(rt: ResourceType): void {
    this.byKey.set(typeKeyOf(rt.group, rt.resource), rt);
    this.generation++;
  }

  remove(group: string, resource: string): void {
    this.byKey.delete(typeKeyOf(group, resource));
    this.generation++;
  }

  all(): ResourceType[] {
    return [...this.byKey.values()];
  }

  get(group: string, resource: string): ResourceType | undefined {
    return this.byKey.get(typeKeyOf(group, resource));
  }

  /** Resolve a URL's group/version/resource; undefined when not served at that version. */
  lookup(group: string, version: string, resource: string): ResourceType | undefined {
    const rt = this.get(group, resource);
    return rt && rt.versions.includes(version) ? rt : undefined;
  }

  /** Resolve apiVersion + kind (what in-process callers and ownerReferences carry). */
  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    const slash = apiVersion.indexOf("/");
    const group = slash < 0 ? "" : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    for (const rt of this.byKey.values()) {
      if (rt.group === group && rt.kind === kind && rt.versions.includes(version)) return rt;
    }
    return undefined;
  }

  /** Group → versions, in a stable order (core group excluded). */
  groups(): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const rt of this.byKey.values()) {
      if (rt.group === "") continue;
      const vs = out.get(rt.group) ?? [];
      for (const v of rt.versions) if (!vs.includes(v)) vs.push(v);
      out.set(rt.group, vs);
    }
    return out;
  }
}
