// What kube-apiserver's built-in update validation refuses and which kinds carry metadata.generation,
// as measured on kube-apiserver v1.33.5 by test/cluster/conformance.test.ts (messages verbatim).
import type { StatusCause } from "./errors.js";
import { deepEqual } from "./objects.js";
import type { KObj, ResourceType } from "./types.js";

/** Built-in kinds whose registry strategy sets metadata.generation (custom resources always do). */
const GENERATION_TRACKED = new Set([
  "apps/deployments",
  "apps/replicasets",
  "apps/statefulsets",
  "apps/daemonsets",
  "batch/jobs",
  "batch/cronjobs",
  "policy/poddisruptionbudgets",
  "networking.k8s.io/networkpolicies",
  "networking.k8s.io/ingresses",
  "scheduling.k8s.io/priorityclasses",
  "admissionregistration.k8s.io/validatingadmissionpolicies",
  "admissionregistration.k8s.io/validatingadmissionpolicybindings",
  "admissionregistration.k8s.io/validatingwebhookconfigurations",
  "admissionregistration.k8s.io/mutatingwebhookconfigurations",
  "apiextensions.k8s.io/customresourcedefinitions",
]);

export function tracksGeneration(rt: ResourceType): boolean {
  return rt.crd !== undefined || GENERATION_TRACKED.has(`${rt.group}/${rt.resource}`);
}

/** Go's %#v of a v1.LabelSelector, as the apiserver prints it in "field is immutable". */
function goLabelSelector(sel: KObj["spec"]): string {
  const labels = sel?.matchLabels ? `map[string]string{${Object.keys(sel.matchLabels).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(sel.matchLabels[k])}`).join(", ")}}` : "map[string]string(nil)";
  const exprs = Array.isArray(sel?.matchExpressions) && sel.matchExpressions.length ? `[]v1.LabelSelectorRequirement{...}` : "[]v1.LabelSelectorRequirement(nil)";
  return `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}`;
}

const STATEFULSET_MUTABLE = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

/** Causes for an update (main endpoint) that changes a field the built-in strategy keeps immutable. */
export function immutableFieldCauses(rt: ResourceType, old: KObj, next: KObj): StatusCause[] {
  const key = `${rt.group}/${rt.resource}`;
  const causes: StatusCause[] = [];
  if (key === "/services") {
    const oldIPs: string[] = old.spec?.clusterIPs ?? (old.spec?.clusterIP ? [old.spec.clusterIP] : []);
    const newIPs: string[] = next.spec?.clusterIPs ?? (next.spec?.clusterIP ? [next.spec.clusterIP] : []);
    // An unset clusterIP on update keeps the allocated one (the strategy copies it over).
    if (oldIPs.length && newIPs.length && oldIPs[0] !== "None" && newIPs[0] !== oldIPs[0]) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: []string{${newIPs.map((ip) => JSON.stringify(ip)).join(", ")}}: may not change once set`, field: "spec.clusterIPs[0]" });
    }
  }
  if (key === "apps/deployments" || key === "apps/replicasets" || key === "apps/daemonsets") {
    if (old.spec?.selector && !deepEqual(old.spec.selector, next.spec?.selector)) {
      causes.push({ reason: "FieldValueInvalid", message: `Invalid value: ${goLabelSelector(next.spec?.selector)}: field is immutable`, field: "spec.selector" });
    }
  }
  // A StatefulSet's selector is covered by the spec rule (the apiserver names only "spec").
  if (key === "apps/statefulsets") {
    const rest = (o: KObj) => Object.fromEntries(Object.entries(o.spec ?? {}).filter(([k]) => !STATEFULSET_MUTABLE.includes(k)));
    if (!deepEqual(rest(old), rest(next))) {
      causes.push({
        reason: "FieldValueForbidden",
        message: `Forbidden: updates to statefulset spec for fields other than ${STATEFULSET_MUTABLE.slice(0, -1).map((f) => `'${f}'`).join(", ")} and '${STATEFULSET_MUTABLE.at(-1)}' are forbidden`,
        field: "spec",
      });
    }
  }
  return causes;
}
