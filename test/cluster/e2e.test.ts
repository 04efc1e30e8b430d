// End to end on the real control plane: the chart installed by real helm, the real operator running with
// the chart's ServiceAccount token (its ClusterRole, not admin), one real node agent per kwok node with
// the agent's own ServiceAccount token, and kube-controller-manager / kube-scheduler doing the rest. The
// operator's helm installs the fixture Olares release (hack/fixture-release.ts) as the chart's installer
// ServiceAccount (--helm-as); the tests' owner completes the wizard (owner.ts).
// apply → Ready, edits, GPU toggle and prune, delete through the finalizer; no request is ever refused.
import { expect } from "chai";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LABEL_GPU_NVIDIA, NODE_AGENT_NAME, SYSTEM_NAMESPACE } from "../../operator/src/contract/names.js";
import { startOperatorInProcess, type InProcessOperator } from "../e2e/operator.js";
import { ensureTools } from "../e2e/tools.js";
import { ON_KUBE, forbiddenRequests, requireControlPlane, serviceAccountUser, startControlPlane, type ControlPlane } from "../support/controlplane.js";
import { CHART_DIR, EXAMPLE, HELMS, INSTALLER_SERVICE_ACCOUNT, INSTALLER_USER, OPERATOR_NAMESPACE, condition, getJson, helm, installation, managedObjects, nodes, until, waitReady } from "./helpers.js";
import { attachKwokAgents, type KwokAgents } from "./kwok-agents.js";
import { ownerCompletesWizard, type Owner } from "./owner.js";
import { startLocalPathStandIn, type Provisioner } from "./volumes.js";

const OPERATOR_USER = serviceAccountUser(OPERATOR_NAMESPACE, "olares-operator");
const AGENT_USER = serviceAccountUser(SYSTEM_NAMESPACE, NODE_AGENT_NAME);
const GPU_NODE = "kwok-node-1";
const NODES = ["kwok-node-0", GPU_NODE];

describe(`e2e on ${ON_KUBE} with kwok nodes: helm install, the operator and agents as their ServiceAccounts`, function () {
  this.timeout(300_000);
  let cp: ControlPlane;
  let operator: InProcessOperator | undefined;
  let agents: KwokAgents | undefined;
  let volumes: Provisioner | undefined;
  let owner: Owner | undefined;
  let operatorKubeconfig: string;

  before(async function () {
    requireControlPlane(this);
    ensureTools();
    cp = await startControlPlane({ nodes: 2, gpuNodes: 1 });
    const r = await helm(cp, HELMS[0].bin, ["install", "olares-operator", CHART_DIR, "--namespace", OPERATOR_NAMESPACE, "--create-namespace", "--wait", "--timeout", "5m"]);
    if (r.code !== 0) throw new Error(`helm install failed: ${r.stderr || r.stdout}`);
    operatorKubeconfig = await cp.serviceAccountKubeconfig(OPERATOR_NAMESPACE, "olares-operator");
    agents = attachKwokAgents(cp);
    volumes = startLocalPathStandIn(cp);
    owner = ownerCompletesWizard(cp);
    operator = await startOperatorInProcess(operatorKubeconfig, { leaderElect: true, identity: "e2e-real", helmAs: INSTALLER_USER });
  });

  after(async () => {
    await owner?.stop();
    await operator?.stop();
    await agents?.stop();
    await volumes?.stop();
    await cp?.stop();
  });

  it("helm install --wait: the chart's operator Deployment is Available on a kwok node", async () => {
    const d = await getJson(cp, `/apis/apps/v1/namespaces/${OPERATOR_NAMESPACE}/deployments/olares-operator`);
    expect(d.status.availableReplicas).to.equal(d.spec.replicas);
    expect(d.spec.template.spec.serviceAccountName).to.equal("olares-operator");
  });

  it("the operator's token is the chart's ServiceAccount, not an admin: RBAC refuses what the ClusterRole does not grant", async () => {
    const can = async (verb: string, resource: string, ns?: string) =>
      (await cp.kubectl(["auth", "can-i", verb, resource, ...(ns ? ["-n", ns] : [])], { kubeconfig: operatorKubeconfig })).stdout.trim();
    expect(await can("patch", "olaresinstallations.olares.com")).to.equal("yes");
    expect(await can("update", "olaresinstallations.olares.com"), "spec writes belong to GitOps").to.equal("no");
    expect(await can("delete", "secrets", SYSTEM_NAMESPACE)).to.equal("no");
    expect(await can("create", "pods", SYSTEM_NAMESPACE)).to.equal("no");
    expect(await can("*", "*")).to.equal("no");
    const denied = await cp.kubectl(["delete", "secret", "anything", "-n", "default"], { kubeconfig: operatorKubeconfig });
    expect(denied.code).to.not.equal(0);
    expect(denied.stderr).to.match(/Forbidden/);
  });

  it("the operator may impersonate the installer ServiceAccount and no one else; its own token still cannot bind cluster-admin", async () => {
    const can = async (args: string[]) => (await cp.kubectl(["auth", "can-i", ...args], { kubeconfig: operatorKubeconfig })).stdout.trim();
    expect(await can(["impersonate", `serviceaccounts/${INSTALLER_SERVICE_ACCOUNT}`, "-n", OPERATOR_NAMESPACE])).to.equal("yes");
    expect(await can(["impersonate", "serviceaccounts/default", "-n", "kube-system"])).to.equal("no");
    expect(await can(["impersonate", "serviceaccounts/olares-operator", "-n", OPERATOR_NAMESPACE])).to.equal("no");
    expect(await can(["impersonate", "users"])).to.equal("no");
    expect(await can(["impersonate", "groups"]), "no system:masters").to.equal("no");
    // RBAC's escalation check: a binding to a role the operator does not hold and may not bind is refused
    const direct = await cp.kubectl(["create", "clusterrolebinding", "operator-escalates", "--clusterrole=cluster-admin", `--serviceaccount=${OPERATOR_NAMESPACE}:olares-operator`], { kubeconfig: operatorKubeconfig });
    expect(direct.code, direct.stdout).to.not.equal(0);
    expect(direct.stderr).to.match(/forbidden/i);
    expect(await getJson(cp, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/operator-escalates")).to.equal(undefined);
    // impersonating another account is refused by the apiserver, not just by can-i
    const other = await cp.kubectl(["get", "pods", "-n", "kube-system", "--as", "system:serviceaccount:kube-system:default"], { kubeconfig: operatorKubeconfig });
    expect(other.code).to.not.equal(0);
    expect(other.stderr).to.match(/cannot impersonate/);
    const asInstaller = await cp.kubectl(["auth", "can-i", "create", "customresourcedefinitions", "--as", INSTALLER_USER], { kubeconfig: operatorKubeconfig });
    expect(asInstaller.stdout.trim(), "helm's identity installs what olares-cli installs as admin").to.equal("yes");
  });

  it("kubectl apply -f examples/olares.yaml → Ready on kube-apiserver, every kwok node configured by its agent", async () => {
    await cp.kubectlOk(["apply", "-f", EXAMPLE]);
    const cr = await waitReady(cp, "Ready after the first apply", 180_000);
    expect(cr.status.phase).to.equal("Ready");
    expect(cr.status.nodes).to.include({ total: 2, updated: 2, degraded: 0 });
    for (const c of cr.status.conditions) expect(c.observedGeneration, c.type).to.equal(cr.metadata.generation);
    for (const n of NODES) {
      const host = agents!.hosts.get(n);
      expect(host, `${n}: an agent ran`).to.not.equal(undefined);
      expect(existsSync(join(host!.root, "etc/olares/release")), `${n}: /etc/olares/release`).to.equal(true);
      expect(host!.system.enabled.has("olaresd.service"), `${n}: olaresd.service enabled`).to.equal(true);
    }
    const gpuNode = (await nodes(cp)).find((n) => n.metadata.name === GPU_NODE);
    expect(gpuNode.metadata.labels?.[LABEL_GPU_NVIDIA]).to.equal("true");
    expect(condition(cr, "GPUReady")?.status).to.equal("True");
    const printed = await cp.kubectlOk(["get", "olaresinstallations"]);
    expect(printed).to.match(/^olares\s+Ready\s+1\.12\.1\s+LocalFS\s+True\s/m);
  });

  it("kubectl patch coreServices.os-framework.values → helm upgrades that release as the installer, Ready for the new generation", async () => {
    const before = (await installation(cp)).metadata.generation;
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { coreServices: { "os-framework": { values: { backup: { bucket: "olares-backup" } } } } } })]);
    const cr = await waitReady(cp, "Ready after the values edit");
    expect(cr.metadata.generation).to.equal(before + 1);
    // the fixture chart echoes what it received: the override, deep-merged over the installer's values
    const values = await getJson(cp, `/api/v1/namespaces/os-framework/configmaps/os-framework-values`);
    expect(JSON.parse(values.data["backup.bucket"])).to.equal("olares-backup");
    expect(JSON.parse(values.data["rootPath"])).to.equal("/olares");
    const record = cr.status.components.find((c: { kind: string; name: string }) => c.kind === "HelmRelease" && c.name === "os-framework");
    expect(record.message).to.equal("revision 2 deployed");
    const upgrades = cp.audit().filter((e) => e.impersonatedUser?.username === INSTALLER_USER && e.verb === "create" && e.objectRef?.resource === "secrets" && e.objectRef.namespace === "os-framework");
    expect(upgrades.length, "helm wrote its release records as the installer ServiceAccount").to.be.greaterThan(1);
  });

  it("a values edit that changes every os-framework pod template → Ready only once the real Deployment controller has rolled each one out", async () => {
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { coreServices: { "os-framework": { values: { backup: { bucket: "olares-backup" }, rootPath: "/data/olares" } } } } })]);
    const cr = await waitReady(cp, "Ready after the template-changing edit");
    const deployments = (await getJson(cp, "/apis/apps/v1/namespaces/os-framework/deployments")).items;
    expect(deployments.length).to.be.greaterThan(0);
    for (const d of deployments) {
      const env = d.spec.template.spec.containers[0].env ?? [];
      // velero's Deployment comes from `velero install`, not from the os-framework chart's values
      if (d.metadata.labels?.component !== "velero") expect(env.find((e: { name: string }) => e.name === "OLARES_ROOT_DIR")?.value, d.metadata.name).to.equal("/data/olares");
      // what `kubectl rollout status` waits for, read at the moment the CR said Ready
      expect(d.status.observedGeneration, `${d.metadata.name} observedGeneration`).to.equal(d.metadata.generation);
      expect(d.status.updatedReplicas, `${d.metadata.name} updatedReplicas`).to.equal(d.spec.replicas);
      expect(d.status.availableReplicas, `${d.metadata.name} availableReplicas`).to.equal(d.spec.replicas);
      expect(d.status.replicas, `${d.metadata.name}: no old replicas left`).to.equal(d.spec.replicas);
    }
    expect(cr.status.phase).to.equal("Ready");
  });

  it("kubectl patch gpu.enabled=false → the GPU node gets a config without GPU tasks; auto brings the release's hami device plugin back", async () => {
    const plugin = `/apis/apps/v1/namespaces/kube-system/daemonsets/hami-device-plugin`;
    const config = async (name: string) => (await nodes(cp)).find((n) => n.metadata.name === name)?.metadata.annotations?.["olares.com/current-config"];
    expect(await getJson(cp, plugin), "the hami chart's device plugin before").to.not.equal(undefined);
    const gpuConfigBefore = await config(GPU_NODE);
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { gpu: { enabled: "false" } } })]);
    await waitReady(cp, "Ready after disabling the GPU");
    expect(await config(GPU_NODE)).to.not.equal(gpuConfigBefore);
    expect(await config(GPU_NODE), "back on the default config").to.equal(await config(NODES[0]!));
    await cp.kubectlOk(["patch", "olaresinstallation", "olares", "--type", "merge", "-p", JSON.stringify({ spec: { gpu: { enabled: "auto" } } })]);
    const cr = await waitReady(cp, "Ready after re-enabling the GPU");
    expect(await config(GPU_NODE)).to.equal(gpuConfigBefore);
    expect(condition(cr, "GPUReady")?.status).to.equal("True");
    // The real DaemonSet controller places it on the node the agent labelled gpu.bytetrade.io/cuda-supported
    // again. A node label change moves no DaemonSet generation, so its status may lag the CR's Ready by a
    // controller sync: polled, not read once.
    await until(
      async () => (await getJson(cp, plugin))?.status?.numberReady === 1,
      30_000,
      async () => `hami-device-plugin ready on ${GPU_NODE} (status ${JSON.stringify((await getJson(cp, plugin))?.status)}; ${GPU_NODE} labels ${JSON.stringify((await nodes(cp)).find((n) => n.metadata.name === GPU_NODE)?.metadata.labels)})`,
    );
  });

  it("neither the operator nor a node agent was ever refused a request (403) by RBAC", () => {
    const events = cp.audit();
    expect(events.filter((e) => e.user.username === OPERATOR_USER).length, "the operator's requests are audited").to.be.greaterThan(10);
    expect(events.filter((e) => e.user.username === AGENT_USER).length, "the agents' requests are audited").to.be.greaterThan(5);
    expect(forbiddenRequests(events, OPERATOR_USER), "operator requests refused by RBAC").to.deep.equal([]);
    expect(forbiddenRequests(events, AGENT_USER), "node-agent requests refused by RBAC").to.deep.equal([]);
  });

  it("kubectl delete → the finalizer runs the agents' host cleanup, the real garbage collector removes the rest", async () => {
    expect(await managedObjects(cp)).to.not.be.empty;
    await cp.kubectlOk(["delete", "olaresinstallation", "olares", "--wait=true", "--timeout=120s"]);
    expect(await installation(cp)).to.equal(undefined);
    // Until the finalizer let go, nothing may be refused. After it, the garbage collector deletes the
    // agents' ClusterRole and their DaemonSet in no set order, so a still-running agent may be refused
    // a Node read or two before its pod goes (noted in test/cluster/README.md).
    const untilReleased = cp.audit();
    for (const n of NODES) {
      const root = agents!.hosts.get(n)!.root;
      expect(existsSync(join(root, "etc/olares/release")), `${n}: /etc/olares/release removed`).to.equal(false);
      expect(existsSync(join(root, "usr/local/bin/olaresd")), `${n}: olaresd removed`).to.equal(false);
    }
    await until(async () => (await managedObjects(cp)).length === 0, 60_000, async () => `owned objects garbage-collected (left: ${(await managedObjects(cp)).join(", ")})`);
    expect(forbiddenRequests(cp.audit(), OPERATOR_USER), "operator requests refused during deletion").to.deep.equal([]);
    expect(forbiddenRequests(untilReleased, AGENT_USER), "agent requests refused during the host cleanup").to.deep.equal([]);
  });
});
