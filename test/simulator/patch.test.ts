import * as k8s from "@kubernetes/client-node";
import { expect } from "chai";
import { configMap, installWidgetCrd, raw, startBed, statusOf, widget, type Bed } from "./helpers.js";

const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "default" },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: {
        containers: [
          { name: "web", image: "nginx:1", env: [{ name: "A", value: "1" }, { name: "B", value: "2" }], ports: [{ containerPort: 80 }] },
          { name: "side", image: "side:1" },
        ],
        tolerations: [{ key: "a", operator: "Exists" }],
      },
    },
  },
};

describe("simulator: PATCH", () => {
  let bed: Bed;
  before(async () => {
    bed = await startBed({ nodes: 2 });
    await installWidgetCrd(bed);
  });
  after(() => bed.sim.stop());

  it("applies JSON merge patches (null deletes) through client-node", async () => {
    await bed.objects.create(configMap("m", "default", { a: "1", b: "2" }) as never);
    const out = await bed.objects.patch({ ...configMap("m"), data: { a: "9", b: null } } as never, undefined, undefined, "test", undefined, k8s.PatchStrategy.MergePatch);
    expect((out as any).data).to.deep.equal({ a: "9" });
  });

  it("applies JSON patches, including a failing test op as 422", async () => {
    const r = await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/m", [{ op: "add", path: "/data/c", value: "3" }, { op: "remove", path: "/data/a" }], { "Content-Type": "application/json-patch+json" });
    expect(r.status).to.equal(200);
    expect(r.json.data).to.deep.equal({ c: "3" });
    const t = await raw(bed.sim, "PATCH", "/api/v1/namespaces/default/configmaps/m", [{ op: "test", path: "/data/c", value: "nope" }], { "Content-Type": "application/json-patch+json" });
    expect(t.status).to.equal(422);
  });

  it("merges strategic patches by key: containers by name, env by name, $patch delete, atomic tolerations", async () => {
    await bed.objects.create(deployment as never);
    const patch = {
      spec: {
        template: {
          spec: {
            containers: [{ name: "web", image: "nginx:2", env: [{ name: "B", value: "3" }, { name: "C", value: "4" }] }, { name: "side", $patch: "delete" }],
            tolerations: [{ key: "b", operator: "Exists" }],
          },
        },
      },
    };
    const r = await raw(bed.sim, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web", patch, { "Content-Type": "application/strategic-merge-patch+json" });
    expect(r.status).to.equal(200);
    const spec = r.json.spec.template.spec;
    expect(spec.containers.map((c: any) => c.name)).to.deep.equal(["web"]);
    expect(spec.containers[0].image).to.equal("nginx:2");
    expect(spec.containers[0].env).to.deep.equal([{ name: "A", value: "1" }, { name: "B", value: "3" }, { name: "C", value: "4" }]);
    expect(spec.containers[0].ports).to.deep.equal([{ containerPort: 80 }]);
    expect(spec.tolerations).to.deep.equal([{ key: "b", operator: "Exists" }]);
    expect(r.json.metadata.generation).to.equal(2);
  });

  it("answers 415 for a strategic merge patch on a custom resource", async () => {
    await bed.objects.create(widget("w", { owner: "me" }) as never);
    const r = await raw(bed.sim, "PATCH", "/apis/sim.example.com/v1/namespaces/default/widgets/w", { spec: { size: "S" } }, { "Content-Type": "application/strategic-merge-patch+json" });
    expect(r.status).to.equal(415);
    expect(r.json.reason).to.equal("UnsupportedMediaType");
  });

  it("rejects a patch carrying a stale resourceVersion with 409", async () => {
    const r = await statusOf(bed.objects.patch({ ...configMap("m"), metadata: { name: "m", namespace: "default", resourceVersion: "1" }, data: { z: "1" } } as never, undefined, undefined, "test", undefined, k8s.PatchStrategy.MergePatch));
    expect(r.code).to.equal(409);
  });

  it("kubectl label, annotate, cordon and scale", async () => {
    await bed.kubectlOk(["label", "configmap", "m", "team=a"]);
    await bed.kubectlOk(["annotate", "configmap", "m", "note=hello"]);
    await bed.kubectlOk(["label", "widget", "w", "team=b"]);
    await bed.kubectlOk(["cordon", "sim-node-1"]);
    await bed.kubectlOk(["scale", "deployment/web", "--replicas=3"]);
    await bed.kubectlOk(["scale", "widget/w", "--replicas=2"]);
    const cm = await bed.core.readNamespacedConfigMap({ namespace: "default", name: "m" });
    expect(cm.metadata!.labels).to.deep.equal({ team: "a" });
    expect(cm.metadata!.annotations).to.deep.equal({ note: "hello" });
    expect((await bed.core.readNode({ name: "sim-node-1" })).spec!.unschedulable).to.equal(true);
    const apps = bed.kc.makeApiClient(k8s.AppsV1Api);
    expect((await apps.readNamespacedDeployment({ namespace: "default", name: "web" })).spec!.replicas).to.equal(3);
    const w = (await raw(bed.sim, "GET", "/apis/sim.example.com/v1/namespaces/default/widgets/w")).json;
    expect(w.spec.replicas).to.equal(2);
    expect(w.metadata.labels).to.deep.equal({ team: "b" });
    await bed.kubectlOk(["uncordon", "sim-node-1"]);
    expect((await bed.core.readNode({ name: "sim-node-1" })).spec!.unschedulable).to.equal(undefined);
  });

  it("kubectl drain cordons the node and evicts its pods", async () => {
    await bed.sim.settle();
    const onNode = () => bed.sim.store.list("/pods", "default").filter((p) => p.spec.nodeName === "sim-node-1" && p.metadata.labels?.app === "web");
    expect(onNode().length).to.be.greaterThan(0);
    const out = await bed.kubectlOk(["drain", "sim-node-1", "--ignore-daemonsets", "--timeout=10s"]);
    expect(out).to.contain("node/sim-node-1 drained");
    expect(onNode()).to.have.length(0);
    await bed.kubectlOk(["uncordon", "sim-node-1"]);
  });

  it("serves the scale subresource (GET, PUT, merge PATCH) of deployments", async () => {
    const s = (await raw(bed.sim, "GET", "/apis/apps/v1/namespaces/default/deployments/web/scale")).json;
    expect(s).to.deep.include({ apiVersion: "autoscaling/v1", kind: "Scale" });
    expect(s.spec.replicas).to.equal(3);
    expect(s.status.selector).to.equal("app=web");
    const put = await raw(bed.sim, "PUT", "/apis/apps/v1/namespaces/default/deployments/web/scale", { ...s, spec: { replicas: 1 } });
    expect(put.json.spec.replicas).to.equal(1);
    const bad = await raw(bed.sim, "PATCH", "/apis/apps/v1/namespaces/default/deployments/web/scale", { spec: { replicas: -1 } }, { "Content-Type": "application/merge-patch+json" });
    expect(bad.status).to.equal(422);
  });

  it("client-side kubectl apply of a built-in sends a strategic merge patch that removes dropped list items", async () => {
    const manifest = (env: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: csa, namespace: default}
spec:
  selector: {matchLabels: {app: csa}}
  template:
    metadata: {labels: {app: csa}}
    spec:
      containers:
      - name: c
        image: i
        env: ${env}
`;
    await bed.kubectlOk(["apply", "-f", bed.writeFile("csa1.yaml", manifest('[{name: A, value: "1"}, {name: B, value: "2"}]'))]);
    await bed.kubectlOk(["apply", "-f", bed.writeFile("csa2.yaml", manifest('[{name: B, value: "3"}]'))]);
    const d = (await raw(bed.sim, "GET", "/apis/apps/v1/namespaces/default/deployments/csa")).json;
    expect(d.spec.template.spec.containers[0].env).to.deep.equal([{ name: "B", value: "3" }]);
    expect(d.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]).to.be.a("string");
  });
});
