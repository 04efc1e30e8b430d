import { expect } from "chai";
import { render, allObjects, RenderError } from "../../operator/src/render/index.js";
import { canonicalJson } from "../../operator/src/contract/index.js";
import type { HostTask, KubeObject } from "../../operator/src/contract/index.js";
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
    expect(names).to.deep.equal(["Prerequisites", "NodeAgent", "NodeConfig", "ClusterDNS", "Storage", "GPU", "CoreServices"]);
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
    it("deploys no device plugin of its own for any sharing mode: the release's hami (CoreServices, kube-system) is the only one", () => {
      for (const sharing of [{ mode: "None" }, { mode: "TimeSlicing", replicas: 4 }, { mode: "HAMi" }] as const) {
        const d = render(spec({ gpu: { enabled: "true", sharing } }), FACTS);
        expect(d.stages.find((s) => s.name === "GPU")!.objects, sharing.mode).to.deep.equal([]);
        const kinds = allObjects(d).map((o) => `${o.kind}/${o.metadata.name}`);
        expect(kinds.filter((k) => /device-plugin|hami/.test(k)), sharing.mode).to.deep.equal([]);
        expect(d.stages.find((s) => s.name === "CoreServices")!.releases?.map((r) => `${r.namespace}/${r.name}`)).to.include("kube-system/hami");
      }
    });

    it("is absent when gpu.enabled is false", () => {
      expect(render(spec({ gpu: { enabled: "false" } }), FACTS).stages.map((s) => s.name)).to.not.include("GPU");
    });
  });

  describe("olaresd (host tasks of every node config, as olares-cli's prepare installs it)", () => {
    let rel: Unpacked;
    before(async () => {
      rel = await unpackFixture();
    });
    after(() => rel?.cleanup());
    const tasksOf = (sp: ReturnType<typeof spec>, release?: Partial<ReleaseFacts>) => {
      const facts = release ? { ...FACTS, release: { cdn: "https://cdn.olares.com", passwordLocation: "", source: { installerDir: rel.installerDir, charts: rel.charts }, manifest: rel.manifest, ...release } as ReleaseFacts } : FACTS;
      const d = render(sp, facts);
      expect(d.stages.map((x) => x.name)).to.not.include("Olaresd");
      const hook = d.stages.find((x) => x.name === "NodeConfig")!.hooks!.find((h) => h.kind === "NodeRollout") as { configs: Array<{ tasks: HostTask[] }> };
      return hook.configs[0]!.tasks;
    };
    const byId = (tasks: HostTask[], id: string) => tasks.find((t) => t.id === id) as any;

    it("from the manifest's olaresd component (MD5 per arch), the installer's unit and olaresd.service.env keys; images imported first", () => {
      const tasks = tasksOf(spec({ owner: { username: "alice", domain: "example.org" } }), { filesBase: "https://cdn.olares.com" });
      const bin = byId(tasks, "olaresd/binary");
      expect(bin.kind).to.equal("releaseComponent");
      expect(bin.file.filename).to.equal("olaresd-v1.12.1-linux-amd64.tar.gz");
      expect(bin.file.amd64.url).to.match(/^https:\/\/cdn\.olares\.com\/[0-9a-f]{32}$/);
      expect(bin.file.amd64.md5).to.match(/^[0-9a-f]{32}$/);
      expect(bin.install).to.deep.equal([{ member: "olaresd", path: "/usr/local/bin/olaresd", mode: 0o755 }]);
      const env = byId(tasks, "olaresd/service-env");
      expect(env.path).to.equal("/etc/systemd/system/olaresd.service.env");
      expect(env.content.split("\n").map((l: string) => l.split("=")[0]).filter(Boolean)).to.deep.equal(["INSTALLED_VERSION", "KUBE_TYPE", "REGISTRY_MIRRORS", "BASE_DIR", "LOCAL_GPU_ENABLE"]);
      expect(byId(tasks, "olaresd/unit").content).to.include("EnvironmentFile=/etc/systemd/system/olaresd.service.env").and.include("LimitNOFILE=40000");
      expect(byId(tasks, "olaresd/release").content).to.equal("OLARES_BASE_DIR=/olares\nOLARES_VERSION=1.12.1\nOLARES_NAME=alice@example.org\n");
      const ids = tasks.map((t) => t.id);
      expect(ids.indexOf("release/images")).to.be.greaterThan(-1).and.lessThan(ids.indexOf("olaresd/binary"));
      expect(byId(tasks, "release/images").images.length).to.equal(rel.manifest.filter((i) => i.type === "images.mf").length);
    });

    it("spec.olaresd.url/sha256 override the manifest; without a reachable manifest (airgap dir, plan) the release host's archive", () => {
      const sha = "a".repeat(64);
      const pinned = byId(tasksOf(spec({ olaresd: { url: "https://example.com/olaresd.tgz", sha256: sha } }), { filesBase: "https://cdn.olares.com" }), "olaresd/binary");
      expect(pinned).to.deep.include({ kind: "binary", url: "https://example.com/olaresd.tgz", sha256: sha });
      const airgap = tasksOf(spec(), {});
      expect(byId(airgap, "olaresd/binary").url).to.include("olaresd-v1.12.1-linux-{arch}.tar.gz");
      expect(airgap.map((t) => t.id)).to.not.include("release/images");
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
      (stageHook(stage, "OlaresRelease")?.steps ?? []).map((st) =>
        st.kind === "chart" ? `${st.release.namespace}/${st.release.name}` : st.kind === "createOnly" ? `${st.name}×${st.objects.length}` : st.kind === "pruneReleases" ? `prune keeping ${st.keep.length}` : "user-env",
      );
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
      // Last, the releases of ours the spec no longer wants are uninstalled (every listed one is kept).
      expect(withApps.slice(-5)).to.deep.equal(["user-space-alice/desktop", "user-space-alice/files", "user-space-alice/settings", "user-space-alice/wizard", "prune keeping 10"]);
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
