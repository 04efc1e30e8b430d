// The chart with real Helm 3.17 and 4.1 on the real control plane: install (its pre-install CRD hook
// Job runs to completion on kwok), upgrade, uninstall; RBAC objects as the apiserver stores them.
import { expect } from "chai";
import { CRD_NAME } from "../../operator/src/api/crd.js";
import { ensureTools } from "../e2e/tools.js";
import { ON_KUBE, requireControlPlane, startControlPlane, type ControlPlane } from "../support/controlplane.js";
import { CHART_DIR, HELMS, OPERATOR_NAMESPACE, getJson, helm } from "./helpers.js";

describe(`the chart with real helm on ${ON_KUBE}`, function () {
  this.timeout(300_000);
  let cp: ControlPlane;

  before(async function () {
    requireControlPlane(this);
    ensureTools();
    cp = await startControlPlane({ nodes: 1 });
  });

  after(async () => {
    await cp?.stop();
  });

  for (const h of [HELMS[1], HELMS[0]]) {
    it(`${h.label}: install --wait, upgrade, uninstall`, async () => {
      const install = await helm(cp, h.bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--wait", "--timeout", "4m"]);
      expect(install.code, install.stderr).to.equal(0);
      const crd = await getJson(cp, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`);
      expect(crd.status.conditions.find((c: { type: string }) => c.type === "Established").status).to.equal("True");
      const d = await getJson(cp, `/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments/olares-operator`);
      expect(d.status.availableReplicas, "the operator Deployment is Available").to.equal(d.spec.replicas);
      expect(await getJson(cp, "/apis/rbac.authorization.k8s.io/v1/clusterroles/olares-operator")).to.not.equal(undefined);
      expect(await getJson(cp, `/apis/rbac.authorization.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/roles/olares-operator-leader-election`)).to.not.equal(undefined);

      const upgrade = await helm(cp, h.bin, ["upgrade", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--set", "replicaCount=2", "--wait", "--timeout", "4m"]);
      expect(upgrade.code, `upgrade (its pre-upgrade CRD hook Job must complete): ${upgrade.stderr}`).to.equal(0);
      const scaled = await getJson(cp, `/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments/olares-operator`);
      expect(scaled.status.availableReplicas).to.equal(2);

      const uninstall = await helm(cp, h.bin, ["uninstall", "olares-operator", "--namespace", OPERATOR_NAMESPACE, "--wait", "--timeout", "4m"]);
      expect(uninstall.code, uninstall.stderr).to.equal(0);
      expect(await getJson(cp, `/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments/olares-operator`)).to.equal(undefined);
      expect(await getJson(cp, "/apis/rbac.authorization.k8s.io/v1/clusterroles/olares-operator")).to.equal(undefined);
      // Helm never deletes crds/ on uninstall.
      expect(await getJson(cp, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`)).to.not.equal(undefined);
    });
  }
});
