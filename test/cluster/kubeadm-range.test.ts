// On a kubeadm-shaped Service range (10.96.0.0/12) on the real control plane: the operator's CoreDNS
// gets the range's 10th address (10.96.0.10, from Service default/kubernetes), not K3s's 10.43.0.10 —
// which kube-apiserver refuses with a 422 — and an object the apiserver refuses is reported on the CR
// (Degraded, the object and the field named, status current) instead of a reconcile that fails before
// writing status.
import { expect } from "chai";
import { startOperatorInProcess, type InProcessOperator } from "../e2e/operator.js";
import { ensureTools } from "../e2e/tools.js";
import { ON_KUBE, requireControlPlane, startControlPlane, type ControlPlane } from "../support/controlplane.js";
import { CHART_DIR, EXAMPLE, HELMS, INSTALLER_USER, OPERATOR_NAMESPACE, condition, getJson, helm, installation, until, waitReady } from "./helpers.js";
import { attachKwokAgents, type KwokAgents } from "./kwok-agents.js";
import { ownerCompletesWizard, type Owner } from "./owner.js";
import { startLocalPathStandIn, type Provisioner } from "./volumes.js";

const KUBE_DNS = "/api/v1/namespaces/kube-system/services/kube-dns";

describe(`cluster DNS on ${ON_KUBE} with kubeadm's Service range 10.96.0.0/12`, function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let operator: InProcessOperator | undefined;
  let agents: KwokAgents | undefined;
  let volumes: Provisioner | undefined;
  let owner: Owner | undefined;

  before(async function () {
    requireControlPlane(this);
    ensureTools();
    cp = await startControlPlane({ nodes: 1, serviceCidr: "10.96.0.0/12" });
    const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--set", "replicaCount=0"]);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr || r.stdout}`);
    const kubeconfig = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
    agents = attachKwokAgents(cp);
    volumes = startLocalPathStandIn(cp);
    owner = ownerCompletesWizard(cp);
    operator = await startOperatorInProcess(kubeconfig, { helmAs: INSTALLER_USER });
  });

  after(async () => {
    await owner?.stop();
    await operator?.stop();
    await agents?.stop();
    await volumes?.stop();
    await cp?.stop();
  });

  it("Service default/kubernetes is 10.96.0.1; the operator's kube-dns is 10.96.0.10 and the installation is Ready", async () => {
    expect((await getJson(cp, "/api/v1/namespaces/default/services/kubernetes")).spec.clusterIP).to.equal("10.96.0.1");
    await cp.kubectlOk(["apply", "-f", EXAMPLE]);
    const cr = await waitReady(cp, "Ready on the kubeadm range", 180_000);
    expect((await getJson(cp, KUBE_DNS)).spec.clusterIP).to.equal("10.96.0.10");
    expect(condition(cr, "ClusterDNSReady")?.status).to.equal("True");
  });

  it("a clusterIP the apiserver refuses (outside the range, and immutable) → Degraded naming Service kube-system/kube-dns and the field, for the new generation; reverting recovers", async () => {
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { kubernetes: { clusterDNS: { clusterIP: "10.43.0.10" } } } })]);
    const generation = (await installation(cp)).metadata.generation;
    const cr = await until(
      async () => {
        const c = await installation(cp);
        return c?.status?.observedGeneration === generation && condition(c, "ClusterDNSReady")?.reason === "ApplyRejected" ? c : undefined;
      },
      60_000,
      async () => `ClusterDNSReady=False ApplyRejected for generation ${generation}: ${JSON.stringify((await installation(cp))?.status?.conditions)}`,
    );
    const dns = condition(cr, "ClusterDNSReady");
    expect(dns.status).to.equal("False");
    expect(dns.message).to.include("Service kube-system/kube-dns");
    expect(dns.message).to.match(/422/);
    expect(dns.message).to.match(/spec\.clusterIPs?(\[0\])?:/);
    expect(condition(cr, "Degraded")?.status).to.equal("True");
    expect(cr.status.phase).to.equal("Degraded");
    expect((await getJson(cp, KUBE_DNS)).spec.clusterIP, "the live Service is untouched").to.equal("10.96.0.10");

    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "json", "-p", JSON.stringify([{ op: "remove", path: "/spec/kubernetes/clusterDNS/clusterIP" }])]);
    const back = await waitReady(cp, "Ready after removing the refused clusterIP");
    expect(condition(back, "ClusterDNSReady")?.status).to.equal("True");
  });
});
