// The chart's operator RBAC matches what the operator really does: every kind it renders (for every
// example installation, plus HAMi GPU sharing) and every kind it owns is granted, every RBAC object it
// renders is named in the chart values (and nothing else is), the verbs its controller code uses are
// granted, and nothing else is.
import { expect } from "chai";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { builtInResource } from "../../operator/src/kube/resources.js";
import { OWNED_KINDS } from "../../operator/src/render/kinds.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { HELMS, ROOT, fetchTools, helmTemplate, only, plan } from "./tools.js";

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

const RBAC_KINDS = new Set(["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]);
const RBAC_PLURALS = new Set(["clusterroles", "clusterrolebindings", "roles", "rolebindings"]);

/** RBAC's own matching (no wildcards exist in the chart, see render.test.ts). */
function allows(rules: Rule[], group: string, resource: string, verb: string, name?: string): boolean {
  return rules.some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames === undefined || (name !== undefined && r.resourceNames.includes(name))),
  );
}

/** Every example, plus the GPU example switched to HAMi sharing (the stage with the most RBAC). */
function installations(): Array<{ name: string; yaml: string }> {
  const dir = join(ROOT, "examples");
  const examples = readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => ({ name: f, yaml: readFileSync(join(dir, f), "utf8") }));
  const gpu = parse(readFileSync(join(dir, "olares-gpu.yaml"), "utf8")) as { spec: { gpu: { sharing?: object } } };
  gpu.spec.gpu.sharing = { mode: "HAMi" };
  return [...examples, { name: "olares-gpu.yaml with HAMi sharing", yaml: JSON.stringify(gpu) }];
}

describe("chart RBAC covers what the operator renders and does", function () {
  // one `plan` process per example, all at once: minutes on a loaded 2-core machine
  this.timeout(600_000);
  let rules: Rule[];
  let leaderRules: Rule[];
  let values: Record<string, string[]>;
  const rendered: KubeObject[] = [];

  before(async () => {
    fetchTools();
    const chart = await helmTemplate(HELMS[0].bin);
    expect(chart.code, chart.stderr).to.equal(0);
    rules = (only(chart.objects, "ClusterRole", (o) => o.metadata.name === "olares-operator") as unknown as { rules: Rule[] }).rules;
    leaderRules = (only(chart.objects, "Role", (o) => o.metadata.name === "olares-operator-leader-election") as unknown as { rules: Rule[] }).rules;
    values = (parse(readFileSync(join(ROOT, "charts/olares-operator/values.yaml"), "utf8")) as { rbac: Record<string, string[]> }).rbac;
    const plans = await Promise.all(installations().map((i) => plan(i.yaml, ["--nodes", "3", "--gpu-nodes", "1"])));
    for (const objects of plans) rendered.push(...objects);
    expect(rendered.length).to.be.greaterThan(0);
  });

  it("grants get, list, watch, create, patch and delete on every kind the operator renders", () => {
    const kinds = new Set(rendered.map((o) => `${o.apiVersion}|${o.kind}`));
    for (const key of kinds) {
      const [apiVersion, kind] = key.split("|") as [string, string];
      const info = builtInResource(apiVersion, kind);
      expect(info, `${apiVersion} ${kind} is rendered but unknown to operator/src/kube/resources.ts`).to.not.equal(undefined);
      // RBAC kinds: patch and delete are granted per name (checked in the next test).
      const verbs = RBAC_KINDS.has(kind) ? ["get", "list", "watch", "create"] : ["get", "list", "watch", "create", "patch", "delete"];
      for (const verb of verbs) {
        expect(
          allows(rules, info!.group, info!.plural, verb),
          `the operator renders ${kind} (${apiVersion}) but the chart's ClusterRole does not grant "${verb}" on ${info!.plural}`,
        ).to.equal(true);
      }
    }
  });

  it("names exactly the RBAC objects the operator renders, and can patch, delete, bind and escalate only those", () => {
    const names = (kind: string) => [...new Set(rendered.filter((o) => o.kind === kind).map((o) => o.metadata.name))].sort();
    const roleRefs = (kind: string, refKind: string) =>
      [...new Set(rendered.filter((o) => o.kind === kind).map((o) => (o as unknown as { roleRef: { kind: string; name: string } }).roleRef).filter((r) => r.kind === refKind).map((r) => r.name))].sort();

    expect([...values.managedClusterRoles!].sort(), "rbac.managedClusterRoles").to.deep.equal(names("ClusterRole"));
    expect([...values.managedClusterRoleBindings!].sort(), "rbac.managedClusterRoleBindings").to.deep.equal(names("ClusterRoleBinding"));
    expect([...values.managedRoles!].sort(), "rbac.managedRoles").to.deep.equal(names("Role"));
    expect([...values.managedRoleBindings!].sort(), "rbac.managedRoleBindings").to.deep.equal(names("RoleBinding"));
    const boundOnly = roleRefs("ClusterRoleBinding", "ClusterRole").filter((n) => !names("ClusterRole").includes(n));
    expect([...values.boundClusterRoles!].sort(), "rbac.boundClusterRoles").to.deep.equal(boundOnly);

    for (const name of names("ClusterRole")) {
      for (const verb of ["patch", "delete", "bind", "escalate"]) expect(allows(rules, "rbac.authorization.k8s.io", "clusterroles", verb, name), `${verb} clusterroles/${name}`).to.equal(true);
    }
    for (const name of roleRefs("ClusterRoleBinding", "ClusterRole")) expect(allows(rules, "rbac.authorization.k8s.io", "clusterroles", "bind", name), `bind ${name}`).to.equal(true);
    for (const name of names("ClusterRoleBinding")) {
      for (const verb of ["patch", "delete"]) expect(allows(rules, "rbac.authorization.k8s.io", "clusterrolebindings", verb, name), `${verb} clusterrolebindings/${name}`).to.equal(true);
    }
    for (const name of names("Role")) {
      for (const verb of ["patch", "delete", "bind", "escalate"]) expect(allows(rules, "rbac.authorization.k8s.io", "roles", verb, name), `${verb} roles/${name}`).to.equal(true);
    }
    for (const name of names("RoleBinding")) {
      for (const verb of ["patch", "delete"]) expect(allows(rules, "rbac.authorization.k8s.io", "rolebindings", verb, name), `${verb} rolebindings/${name}`).to.equal(true);
    }
    // and nothing else: a role the operator does not render cannot be changed, bound or escalated
    for (const verb of ["patch", "delete", "bind", "escalate"]) {
      expect(allows(rules, "rbac.authorization.k8s.io", "clusterroles", verb, "cluster-admin"), `${verb} cluster-admin`).to.equal(false);
    }
  });

  it("grants get, list, watch, create, patch and delete on every kind the controller owns (render/kinds.ts)", () => {
    for (const k of OWNED_KINDS) {
      const info = builtInResource(k.apiVersion, k.kind)!;
      const verbs = RBAC_KINDS.has(k.kind) ? ["get", "list", "watch", "create"] : ["get", "list", "watch", "create", "patch", "delete"];
      for (const verb of verbs) expect(allows(rules, info.group, info.plural, verb), `${verb} ${info.plural}`).to.equal(true);
    }
  });

  it("grants what the controller and the leader election do outside rendering, and nothing unused", () => {
    const source = readdirSync(join(ROOT, "operator/src/controller"))
      .filter((f) => f.endsWith(".ts"))
      .map((f) => readFileSync(join(ROOT, "operator/src/controller", f), "utf8"))
      .join("\n");
    const needed: Array<[string, string, string]> = [
      ["olares.com", "olaresinstallations", "get"],
      ["olares.com", "olaresinstallations", "list"], // informer
      ["olares.com", "olaresinstallations", "watch"],
      ["olares.com", "olaresinstallations", "patch"], // finalizer (merge patch)
      ["olares.com", "olaresinstallations/status", "patch"], // server-side apply of status
      ["olares.com", "olaresinstallations/finalizers", "update"], // blockOwnerDeletion on owned objects
      ["", "nodes", "get"],
      ["", "nodes", "list"], // informer
      ["", "nodes", "watch"],
      ["", "nodes", "patch"], // desired-config annotation, cordon
      ["", "pods", "list"], // agent pods per node (node-rollout.ts)
      ["", "secrets", "get"], // secret references
      ["", "secrets", "list"], // informer of generated secrets
      ["", "secrets", "watch"],
      ["", "secrets", "create"], // generated secrets (strict create, never patched)
      ["", "events", "create"],
      ["", "events", "patch"], // an aggregated event's count (kube/events.ts); found on kube-apiserver
      // the release (controller/release.ts; the charts themselves go in as the installer ServiceAccount)
      ["iam.kubesphere.io", "users", "get"], // the owner's activation
      ["iam.kubesphere.io", "users", "list"], // the upgrade re-feeds every user's launcher (controller/release.ts otherUsers)
      ["sys.bytetrade.io", "terminus", "get"], // the installed version
      ["sys.bytetrade.io", "systemenvs", "list"],
      ["sys.bytetrade.io", "systemenvs", "create"], // create-only, as olares-cli
      // a storage migration's Quiesce finds the workloads on <rootPath>/rootfs (controller/storage-workloads.ts)
      ["", "persistentvolumes", "list"],
      ["", "persistentvolumeclaims", "list"],
    ];
    // by name only: the storage credentials Secret (rebuilt by apply) and the rootfs-type SystemEnv
    expect(allows(rules, "", "secrets", "patch", "olares-storage-credentials")).to.equal(true);
    expect(allows(rules, "", "secrets", "patch", "olares-owner-password")).to.equal(false);
    expect(allows(rules, "sys.bytetrade.io", "systemenvs", "patch", "olares-system-rootfs-type")).to.equal(true);
    expect(allows(rules, "sys.bytetrade.io", "systemenvs", "patch", "olares-system-cdn-service")).to.equal(false);
    for (const [group, resource, verb] of needed) expect(allows(rules, group, resource, verb), `${verb} ${group}/${resource}`).to.equal(true);
    expect(allows(rules, "apiextensions.k8s.io", "customresourcedefinitions", "get", "olaresinstallations.olares.com")).to.equal(true);
    expect(allows(rules, "apiextensions.k8s.io", "customresourcedefinitions", "get", "other.example.com")).to.equal(false);

    // Least privilege: every grant not limited by name is one of the above or on an owned/rendered kind.
    const justified = new Set(needed.map(([g, r, v]) => `${g}|${r}|${v}`));
    const ownedKinds = [...OWNED_KINDS, ...rendered.map((o) => ({ apiVersion: o.apiVersion, kind: o.kind }))];
    for (const k of ownedKinds) {
      const info = builtInResource(k.apiVersion, k.kind)!;
      for (const verb of ["get", "list", "watch", "create", "patch", "delete"]) justified.add(`${info.group}|${info.plural}|${verb}`);
    }
    for (const rule of rules.filter((r) => r.resourceNames === undefined)) {
      for (const group of rule.apiGroups) {
        for (const resource of rule.resources) {
          for (const verb of rule.verbs) {
            const ok = justified.has(`${group}|${resource}|${verb}`) && !(RBAC_PLURALS.has(resource) && ["patch", "delete"].includes(verb));
            expect(ok, `the chart grants "${verb}" on ${group || "core"}/${resource}, which the operator does not use`).to.equal(true);
          }
        }
      }
    }

    // Eviction and events.k8s.io are granted exactly when the controller uses them.
    expect(allows(rules, "", "pods/eviction", "create"), "pods/eviction create").to.equal(/\.evict\(/.test(source));
    expect(allows(rules, "events.k8s.io", "events", "create"), "events.k8s.io events").to.equal(source.includes("events.k8s.io"));

    // Leader election: its own Lease, in its own namespace only.
    const lease = source.match(/LEASE_NAME = "([^"]+)"/)?.[1];
    expect(lease, "LEASE_NAME in operator/src/controller").to.be.a("string");
    expect(allows(leaderRules, "coordination.k8s.io", "leases", "create")).to.equal(true);
    for (const verb of ["get", "update"]) {
      expect(allows(leaderRules, "coordination.k8s.io", "leases", verb, lease), `${verb} leases/${lease}`).to.equal(true);
      expect(allows(leaderRules, "coordination.k8s.io", "leases", verb, "someone-else")).to.equal(false);
    }
    expect(allows(rules, "coordination.k8s.io", "leases", "create"), "no cluster-wide leases").to.equal(false);
  });
});
