import { expect } from "chai";
import { render, allObjects, RenderError } from "../../operator/src/render/index.js";
import { canonicalJson } from "../../operator/src/contract/index.js";
import type { KubeObject } from "../../operator/src/contract/index.js";
import { ANNOTATION_CONFIG_HASH, ANNOTATION_RENDER_HASH } from "../../operator/src/contract/index.js";
import { FACTS, spec } from "./fixtures.js";
import { stageHook, type ReleaseFacts, type Stage } from "../../operator/src/contract/index.js";
import { randoms, unpackFixture, type Unpacked } from "../release/helpers.js";

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
      }),
      FACTS,
    ).stages.map((s) => s.name);
    // CoreServices is the Olares release itself: never disabled.
    expect(names).to.deep.equal(["Prerequisites", "NodeAgent", "NodeConfig", "Storage", "CoreServices"]);
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
      expect(objects.filter((o) => o.kind === "Namespace").map((o) => o.metadata.name)).to.deep.equal(["olares-system"]);
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

  describe("CoreServices (the Olares release)", () => {
    let rel: Unpacked;
    before(async () => {
      rel = await unpackFixture();
    });
    after(() => rel?.cleanup());

    const releaseFacts = (extra: Partial<ReleaseFacts> = {}): ReleaseFacts => ({
      cdn: "https://cdn.olares.com",
      source: { installerDir: rel.installerDir, charts: rel.charts },
      ...(rel.systemEnv ? { systemEnv: rel.systemEnv } : {}),
      ...(rel.userEnv ? { userEnv: rel.userEnv } : {}),
      manifest: rel.manifest,
      passwordLocation: "Secret olares-system/olares-owner-password, key password",
      ownerPassword: "pw-123456",
      randoms: randoms(),
      nodeAddress: "10.0.0.10",
      ...extra,
    });
    const coreServices = (sp = spec(), release?: ReleaseFacts): Stage => render(sp, { ...FACTS, ...(release ? { release } : {}) }).stages.find((x) => x.name === "CoreServices")!;
    const steps = (stage: Stage): string[] =>
      (stageHook(stage, "OlaresRelease")?.steps ?? []).map((st) => (st.kind === "chart" ? `${st.release.namespace}/${st.release.name}` : st.kind === "createOnly" ? `${st.name}×${st.objects.length}` : "user-env"));
    const empty = { get: () => undefined, list: () => [] };

    it("without the release loaded renders no step and says so", () => {
      const stage = coreServices();
      expect(stage.hooks ?? []).to.deep.equal([]);
      expect(stage.ready(empty)).to.include({ ready: false, reason: "ReleaseNotLoaded" });
    });

    it("a checksum mismatch is Degraded naming the URL and both sums, and applies nothing", () => {
      const failure = { reason: "ChecksumMismatch" as const, url: "https://cdn.olares.com/install-wizard-v1.12.1.tar.gz", expected: "a".repeat(32), actual: "b".repeat(32), message: "x" };
      const stage = coreServices(spec(), releaseFacts({ failure }));
      expect(stage.hooks ?? []).to.deep.equal([]);
      const r = stage.ready(empty);
      expect(r).to.include({ ready: false, degraded: true, reason: "ChecksumMismatch" });
      expect(r.message).to.include(failure.url).and.include(failure.expected).and.include(failure.actual);
    });

    it("orders the steps as olares-cli: account, settings, SystemEnv, user-env, os-platform, os-framework, launcher; the apps once bfl runs", () => {
      expect(steps(coreServices(spec(), releaseFacts()))).to.deep.equal([
        "default/account", "default/settings", "SystemEnv×8", "user-env", "os-platform/os-platform", "os-framework/os-framework", "user-space-alice/launcher-alice",
      ]);
      const bfl = { annotations: { userspace_pv: "pv-x", userspace_hostpath: "/olares/rootfs/userspace/x", appcache_hostpath: "/c", dbdata_hostpath: "/d" }, nodeName: "node-1", nodeAddress: "10.0.0.10" };
      const withApps = steps(coreServices(spec({ gpu: { enabled: "true" } }), releaseFacts({ bfl })));
      expect(withApps[0]).to.equal("kube-system/hami");
      expect(withApps.slice(-4)).to.deep.equal(["user-space-alice/desktop", "user-space-alice/files", "user-space-alice/settings", "user-space-alice/wizard"]);
    });

    it("SystemEnv gets the CDN and root path the installer's environment would give it", () => {
      const st = stageHook(coreServices(spec(), releaseFacts({ cdn: "https://mirror.example" })), "OlaresRelease")!.steps.find((x) => x.kind === "createOnly")!;
      const cdn = (st as { objects: KubeObject[] }).objects.find((o) => o.metadata.name === "olares-system-cdn-service") as unknown as { default: string };
      expect(cdn.default).to.equal("https://mirror.example");
    });

    it("waits for the owner's password and the randoms before rendering values", () => {
      const stage = coreServices(spec(), releaseFacts({ ownerPassword: undefined }));
      expect(stage.ready(empty)).to.include({ ready: false, reason: "SecretsPending" });
    });

    it("rejects an unknown release and a legacy per-workload field, naming the field", () => {
      expect(() => coreServices(spec({ coreServices: { nosuch: { enabled: true } } }), releaseFacts()))
        .to.throw(RenderError)
        .with.property("message")
        .that.matches(/^spec\.coreServices\.nosuch: not a release of Olares 1\.12\.1; known: account, settings, /);
      expect(() => coreServices(spec({ coreServices: { "os-framework": { replicas: 2 } } }), releaseFacts())).to.throw(RenderError, "spec.coreServices.os-framework.replicas: not supported");
    });
  });
});
