// The chart with real Helm 3.17 and 4.1 on the real control plane: install (its pre-install CRD hook
// Job runs to completion on kwok), upgrade, uninstall; RBAC objects as the apiserver stores them.
import { expect } from "chai";
import { CRD_NAME } from "../../operator/src/api/crd.js";
import { ensureTools } from "../e2e/tools.js";
import { createClusterClient } from "../../operator/src/kube/client.js";
import { loadKubeConfig } from "../../operator/src/kube/kubeconfig.js";
import { releaseFilesEndpointSlice } from "../../operator/src/render/index.js";
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

      // The release-files Service has no selector; the operator's own identity may write exactly its one
      // EndpointSlice (what the leader does), pointing at the operator's Pod, and no other.
      const svc = await getJson(cp, `/api/v1/namespaces/${OPERATOR_NAMESPACE}/services/olares-operator-release-files`);
      expect(svc.spec.selector).to.equal(undefined);
      expect(svc.spec.ports.map((p: { name: string; port: number }) => [p.name, p.port])).to.deep.equal([["release-files", 8087]]);
      const pods = await getJson(cp, `/api/v1/namespaces/${OPERATOR_NAMESPACE}/pods?labelSelector=app.kubernetes.io/name%3Dolares-operator`);
      const pod = pods.items.find((p: { metadata: { name: string } }) => !p.metadata.name.includes("crd-upgrade"));
      const asOperator = createClusterClient(loadKubeConfig(cp.kubeconfig), { userAgent: "olares-operator", impersonateUser: `system:serviceaccount:${OPERATOR_NAMESPACE}:olares-operator` });
      const slice = releaseFilesEndpointSlice({ namespace: OPERATOR_NAMESPACE, service: svc.metadata.name, port: 8087, podName: pod.metadata.name, podUid: pod.metadata.uid, podIP: pod.status.podIP ?? "10.0.0.1" });
      await asOperator.apply(slice, { force: true });
      const stored = await getJson(cp, `/apis/discovery.k8s.io/v1/namespaces/${OPERATOR_NAMESPACE}/endpointslices/olares-operator-release-files-leader`);
      expect(stored.metadata.labels["kubernetes.io/service-name"]).to.equal("olares-operator-release-files");
      expect(stored.metadata.ownerReferences[0].uid).to.equal(pod.metadata.uid);
      const other = { ...slice, metadata: { ...slice.metadata, name: "another-slice" } };
      let refused: unknown;
      await asOperator.apply(other, { force: true }).catch((e: unknown) => (refused = e));
      expect((refused as { status?: number } | undefined)?.status, "another EndpointSlice is refused").to.equal(403);

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
