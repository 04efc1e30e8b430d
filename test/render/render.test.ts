import { expect } from "chai";
import { render, allObjects, RenderError } from "../../operator/src/render/index.js";
import { canonicalJson } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_RENDER_HASH } from "../../operator/src/contract/index.js";
import { FACTS, spec } from "./fixtures.js";

function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o;
}

function container(o: KubeObject, index = 0): any {
  return (o as any).spec.template.spec.containers[index];
}

describe("render", () => {
  it("renders the stages in mission order", () => {
    const names = render(spec(), FACTS).stages.map((s) => s.name);
    expect(names).to.deep.equal(["Prerequisites", "NodeAgent", "NodeConfig", "ClusterDNS", "Storage", "GPU", "Olaresd", "CoreServices"]);
  });

  it("leaves disabled stages out instead of faking them", () => {
    const names = render(
      spec({
        gpu: { enabled: "false" },
        olaresd: { enabled: false },
        kubernetes: { clusterDNS: { mode: "External" } },
        coreServices: Object.fromEntries(
          ["citus", "nats", "kvrocks", "lldap", "authelia", "system-server", "app-service", "bfl"].map((n) => [n, { enabled: false }]),
        ),
      }),
      FACTS,
    ).stages.map((s) => s.name);
    expect(names).to.deep.equal(["Prerequisites", "NodeAgent", "NodeConfig", "Storage"]);
  });

  it("labels every object and points it at the CR", () => {
    for (const o of allObjects(render(spec(), FACTS))) {
      expect(o.metadata.labels, `${o.kind}/${o.metadata.name}`).to.include({
        "app.kubernetes.io/managed-by": "olares-operator",
        "app.kubernetes.io/part-of": "olares",
        "olares.com/installation": "olares",
      });
      expect(o.metadata.labels?.["app.kubernetes.io/name"]).to.be.a("string").and.not.be.empty;
      expect(o.metadata.labels?.["olares.com/stage"]).to.be.a("string");
      expect(o.metadata.ownerReferences).to.deep.equal([
        { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", name: "olares", uid: FACTS.ownerUid, controller: true, blockOwnerDeletion: true },
      ]);
      expect(o.metadata.annotations?.[ANNOTATION_RENDER_HASH]).to.match(/^[0-9a-f]{10}$/);
    }
  });

  it("is deterministic: the same input renders byte-identical objects with sorted keys", () => {
    const a = allObjects(render(spec(), FACTS));
    const b = allObjects(render(spec(), { ...FACTS, nodes: [...FACTS.nodes] }));
    expect(JSON.stringify(a)).to.equal(JSON.stringify(b));
    for (const o of a) expect(JSON.stringify(o)).to.equal(canonicalJson(o));
  });

  it("names unique objects only", () => {
    const keys = allObjects(render(spec({ gpu: { enabled: "true", sharing: { mode: "HAMi" } } }), FACTS)).map(
      (o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`,
    );
    expect(new Set(keys).size).to.equal(keys.length);
  });

  describe("Prerequisites", () => {
    it("gives the node agent least-privilege RBAC", () => {
      const objects = render(spec(), FACTS).stages[0]!.objects;
      expect(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name)).to.deep.equal(["olares-system", "os-framework"]);
      const cluster = find(objects, "ClusterRole", "olares-node-agent") as any;
      const verbs = (resource: string) => cluster.rules.filter((r: any) => r.resources.includes(resource)).flatMap((r: any) => r.verbs);
      expect(verbs("nodes")).to.have.members(["get", "list", "watch", "patch"]);
      expect(verbs("pods")).to.deep.equal(["list"]);
      expect(verbs("pods/eviction")).to.deep.equal(["create"]);
      expect(verbs("events")).to.deep.equal(["create", "patch", "create"]);
      expect(JSON.stringify(cluster.rules)).to.not.include("secrets").and.not.include('"*"');
      const role = find(objects, "Role", "olares-node-agent") as any;
      expect(role.metadata.namespace).to.equal("olares-system");
      expect(role.rules).to.deep.equal([{ apiGroups: [""], resources: ["configmaps"], verbs: ["get"] }]);
    });
  });

  describe("NodeAgent", () => {
    it("runs the operator image privileged with the host mounted, on selected nodes and control planes", () => {
      const ds = find(allObjects(render(spec({ nodes: { selector: { "olares.com/role": "worker", a: "b" } } }), FACTS)), "DaemonSet", "olares-node-agent") as any;
      const pod = ds.spec.template.spec;
      expect(pod.hostPID).to.equal(true);
      expect(pod.hostNetwork).to.equal(true);
      expect(pod.nodeSelector).to.deep.equal({ a: "b", "olares.com/role": "worker" });
      expect(Object.keys(pod.nodeSelector)).to.deep.equal(["a", "olares.com/role"]);
      expect(pod.tolerations.map((t: any) => t.key)).to.include("node-role.kubernetes.io/control-plane");
      expect(pod.tolerations, "tolerates every taint, e.g. nvidia.com/gpu on GPU nodes").to.deep.include({ operator: "Exists" });
      const c = container(ds);
      expect(c.image).to.equal(FACTS.operatorImage);
      expect(c.args).to.deep.equal(["agent"]);
      expect(c.securityContext.privileged).to.equal(true);
      expect(c.volumeMounts).to.deep.include({ name: "host-root", mountPath: "/host", mountPropagation: "HostToContainer" });
      expect(c.env).to.deep.include({ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } });
      expect(c.readinessProbe.httpGet.path).to.equal("/readyz");
      expect(c.resources.requests).to.have.keys("cpu", "memory");
      expect(ds.spec.selector.matchLabels).to.deep.equal({ "app.kubernetes.io/name": "olares-node-agent", "olares.com/installation": "olares" });
      expect(ds.spec.template.metadata.labels).to.include(ds.spec.selector.matchLabels);
    });
  });

  describe("Storage", () => {
    it("describes the LocalFS layout and provisions local-path volumes under rootfs", () => {
      const objects = allObjects(render(spec({ storage: { type: "LocalFS", rootPath: "/data/olares" } }), FACTS));
      const layout = JSON.parse((find(objects, "ConfigMap", "olares-storage") as any).data["layout.json"]);
      expect(layout).to.deep.include({ type: "LocalFS", rootPath: "/data/olares" });
      expect(layout.paths.rootfs).to.equal("/data/olares/rootfs");
      expect(layout.juicefs).to.equal(undefined);
      const config = JSON.parse((find(objects, "ConfigMap", "local-path-config") as any).data["config.json"]);
      expect(config.nodePathMap[0].paths).to.deep.equal(["/data/olares/rootfs/local-path"]);
      const sc = find(objects, "StorageClass", "local-path") as any;
      expect(sc.provisioner).to.equal("rancher.io/local-path");
      expect(sc.volumeBindingMode).to.equal("WaitForFirstConsumer");
    });

    it("adds the JuiceFS description with Secret references only, never secret values", () => {
      const objects = allObjects(
        render(
          spec({
            storage: {
              type: "JuiceFS",
              juicefs: {
                objectStore: { type: "S3", bucket: "b", region: "us-east-1", credentialsSecretRef: { name: "s3-creds" } },
              },
            },
          }),
          FACTS,
        ),
      );
      const layout = JSON.parse((find(objects, "ConfigMap", "olares-storage") as any).data["layout.json"]);
      expect(layout.juicefs.objectStore).to.deep.include({ type: "S3", bucket: "b" });
      expect(layout.juicefs.objectStore.credentialsSecretRef.name).to.equal("s3-creds");
      expect(layout.juicefs.metadata.type).to.equal("ManagedRedis");
      expect(layout.juicefs.cache.dir).to.equal("/olares/jfscache");
      expect(layout.juicefs.mountPoint).to.equal("/olares/rootfs");
    });
  });

  describe("GPU", () => {
    it("runs the pinned NVIDIA device plugin on labelled nodes", () => {
      const objects = render(spec({ gpu: { enabled: "auto" } }), FACTS).stages.find((s) => s.name === "GPU")!.objects;
      expect(objects.map((o) => o.kind)).to.deep.equal(["DaemonSet"]);
      const ds = objects[0] as any;
      expect(container(ds).image).to.match(/^nvcr\.io\/nvidia\/k8s-device-plugin:v\d+\.\d+\.\d+$/);
      expect(ds.spec.template.spec.nodeSelector).to.deep.equal({ "olares.com/gpu.nvidia": "true" });
    });

    it("adds a time-slicing config with the requested replicas and rolls the plugin when it changes", () => {
      const gpu = (replicas: number) =>
        render(spec({ gpu: { enabled: "true", sharing: { mode: "TimeSlicing", replicas } } }), FACTS).stages.find((s) => s.name === "GPU")!.objects;
      const four = gpu(4);
      const cm = find(four, "ConfigMap", "nvidia-device-plugin-config") as any;
      expect(cm.data["config.yaml"]).to.include("replicas: 4").and.include("name: nvidia.com/gpu");
      const ds = find(four, "DaemonSet", "nvidia-device-plugin") as any;
      expect(container(ds).env).to.deep.include({ name: "CONFIG_FILE", value: "/config/config.yaml" });
      const hash4 = ds.spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH];
      const hash8 = (find(gpu(8), "DaemonSet", "nvidia-device-plugin") as any).spec.template.metadata.annotations[ANNOTATION_CONFIG_HASH];
      expect(hash4).to.not.equal(hash8);
    });

    it("renders HAMi's scheduler and device plugin instead of NVIDIA's for HAMi sharing", () => {
      const objects = render(spec({ gpu: { enabled: "true", sharing: { mode: "HAMi" } } }), FACTS).stages.find((s) => s.name === "GPU")!.objects;
      const kinds = objects.map((o) => `${o.kind}/${o.metadata.name}`);
      expect(kinds).to.include.members(["Deployment/hami-scheduler", "DaemonSet/hami-device-plugin", "ConfigMap/hami-scheduler"]);
      expect(kinds).to.not.include("DaemonSet/nvidia-device-plugin");
      expect((find(objects, "ConfigMap", "hami-scheduler") as any).data["config.yaml"]).to.include("schedulerName: hami-scheduler");
    });

    it("is absent when gpu.enabled is false", () => {
      expect(render(spec({ gpu: { enabled: "false" } }), FACTS).stages.map((s) => s.name)).to.not.include("GPU");
    });
  });

  describe("Olaresd", () => {
    it("publishes version and environment for the node agent", () => {
      const cm = find(allObjects(render(spec({ owner: { username: "alice", domain: "example.org" } }), FACTS)), "ConfigMap", "olaresd-config") as any;
      expect(cm.data.version).to.equal("1.12.1");
      expect(cm.data["olaresd.env"]).to.include("OLARES_NAME=alice@example.org\n").and.include("OLARES_BASE_DIR=/olares\n");
      expect(cm.data.url).to.include("olaresd-v1.12.1-linux-{arch}.tar.gz");
    });

    it("follows an explicit olaresd version, url and checksum", () => {
      const sha = "a".repeat(64);
      const cm = find(
        allObjects(render(spec({ olaresd: { version: "1.12.2", url: "https://example.com/olaresd.tgz", sha256: sha } }), FACTS)),
        "ConfigMap",
        "olaresd-config",
      ) as any;
      expect(cm.data).to.deep.include({ version: "1.12.2", url: "https://example.com/olaresd.tgz", sha256: sha });
    });
  });

  describe("CoreServices", () => {
    it("pins beclab images to spec.version and runs databases as StatefulSets with local-path volumes", () => {
      const objects = allObjects(render(spec({ version: "1.12.3" }), FACTS));
      expect(container(find(objects, "Deployment", "app-service")).image).to.equal("beclab/app-service:v1.12.3");
      const citus = find(objects, "StatefulSet", "citus") as any;
      expect(citus.metadata.namespace).to.equal("os-framework");
      expect(citus.spec.volumeClaimTemplates[0].spec.storageClassName).to.equal("local-path");
      expect(container(citus).env).to.deep.include({
        name: "POSTGRES_PASSWORD",
        valueFrom: { secretKeyRef: { name: "olares-core-credentials", key: "postgres-password" } },
      });
    });

    it("applies per-component overrides and deep-merges values onto the defaults", () => {
      const objects = allObjects(
        render(
          spec({
            coreServices: {
              bfl: { enabled: false },
              "app-service": { image: "example.com/app-service:dev", replicas: 2, resources: { requests: { cpu: "1" } } },
              citus: { values: { postgres: { maxConnections: 500 }, env: { POSTGRES_DB: "olares" }, storage: { size: "50Gi" } } },
            },
          }),
          FACTS,
        ),
      );
      expect(objects.some((o) => o.metadata.name === "bfl" || o.metadata.name === "bfl-values")).to.equal(false);
      const app = find(objects, "Deployment", "app-service") as any;
      expect(app.spec.replicas).to.equal(2);
      expect(container(app).image).to.equal("example.com/app-service:dev");
      expect(container(app).resources).to.deep.equal({ requests: { cpu: "1" } });
      const citus = find(objects, "StatefulSet", "citus") as any;
      expect(container(citus).args).to.deep.equal(["-c", "max_connections=500", "-c", "shared_buffers=256MB"]);
      expect(container(citus).env).to.deep.include({ name: "POSTGRES_DB", value: "olares" });
      expect(container(citus).env).to.deep.include({ name: "POSTGRES_USER", value: "olares" });
      expect(citus.spec.volumeClaimTemplates[0].spec.resources.requests.storage).to.equal("50Gi");
      const values = (find(objects, "ConfigMap", "citus-values") as any).data["values.yaml"];
      expect(values).to.include("maxConnections: 500").and.include("sharedBuffers: 256MB");
    });

    it("rejects an unknown component, naming the field", () => {
      expect(() => render(spec({ coreServices: { nosuch: { enabled: true } } }), FACTS))
        .to.throw(RenderError)
        .with.property("message")
        .that.matches(/^spec\.coreServices\.nosuch: unknown component; known components: citus, /);
    });
  });
});
