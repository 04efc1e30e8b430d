// What the golden plans (test/golden) show, asserted one behaviour at a time, so a golden diff is never
// the only thing standing between a regression and a green run. Inputs: the examples and test/golden/inputs.
import { expect } from "chai";
import { join } from "node:path";
import { render, allObjects } from "../../operator/src/render/index.js";
import type { DefaultedSpec } from "../../operator/src/api/index.js";
import {
  LABEL_GPU_NVIDIA,
  LABEL_STAGE,
  NODE_CONFIG_KEY,
  NODE_CONFIG_PREFIX,
  stageHook,
  type ClusterFacts,
  type DesiredState,
  type KubeObject,
} from "../../operator/src/contract/index.js";
import { FACTS, specFromFile } from "./fixtures.js";

const root = join(import.meta.dirname, "../..");
const GOLDEN_INPUTS = [
  "examples/olares.yaml",
  "examples/olares-gpu.yaml",
  "examples/olares-juicefs-minio.yaml",
  "examples/olares-juicefs-s3.yaml",
  "test/golden/inputs/cluster-dns-managed.yaml",
  "test/golden/inputs/hami-overrides.yaml",
  "test/golden/inputs/minimal-no-gpu.yaml",
];
const input = (file: string): DefaultedSpec => specFromFile(join(root, file));

const GPU_FACTS: ClusterFacts = {
  ...FACTS,
  nodes: [...FACTS.nodes, { name: "gpu-1", labels: { "kubernetes.io/hostname": "gpu-1", [LABEL_GPU_NVIDIA]: "true" } }],
};

type Task = { id: string; kind: string; disruption: string; [k: string]: unknown };
type Config = { group: string; id: string; tasks: Task[] };

function stage(desired: DesiredState, name: string) {
  const s = desired.stages.find((x) => x.name === name);
  if (!s) throw new Error(`stage ${name} not rendered`);
  return s;
}

/** The node configs as the agent reads them: decoded from the NodeConfig stage's ConfigMaps. */
function shippedConfigs(desired: DesiredState): Config[] {
  return stage(desired, "NodeConfig").objects.map((o) => JSON.parse((o as any).data[NODE_CONFIG_KEY]) as Config);
}

function task(config: Config | undefined, id: string): Task {
  const t = config?.tasks.find((x) => x.id === id);
  if (!t) throw new Error(`task ${id} not in ${config?.group ?? "(no config)"}: ${config?.tasks.map((x) => x.id).join(", ")}`);
  return t;
}

const inventory = (objects: KubeObject[]) => objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);

describe("what the golden plans show, one behaviour at a time", () => {
  describe("every object of every golden input", () => {
    for (const file of GOLDEN_INPUTS) {
      it(`${file}: carries the stage that rendered it, the standard labels and the CR as controller owner`, () => {
        const desired = render(input(file), GPU_FACTS);
        for (const s of desired.stages) {
          for (const o of s.objects) {
            const what = `${s.name}: ${o.kind}/${o.metadata.name}`;
            expect(o.metadata.labels?.[LABEL_STAGE], what).to.equal(s.name);
            expect(o.metadata.labels, what).to.include({
              "app.kubernetes.io/managed-by": "olares-operator",
              "app.kubernetes.io/part-of": "olares",
              "olares.com/installation": "olares",
            });
            expect(o.metadata.ownerReferences, what).to.deep.equal([
              { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", name: "olares", uid: FACTS.ownerUid, controller: true, blockOwnerDeletion: true },
            ]);
          }
        }
      });
    }
  });

  describe("object inventory per stage (examples/olares.yaml, LocalFS)", () => {
    const desired = () => render(input("examples/olares.yaml"), FACTS);

    it("Prerequisites: the system namespace and the node agent's ServiceAccount and RBAC", () => {
      expect(inventory(stage(desired(), "Prerequisites").objects)).to.deep.equal([
        "Namespace//olares-system",
        "ServiceAccount/olares-system/olares-node-agent",
        "ClusterRole//olares-node-agent",
        "ClusterRoleBinding//olares-node-agent",
        "Role/olares-system/olares-node-agent",
        "RoleBinding/olares-system/olares-node-agent",
      ]);
    });

    it("NodeAgent: one DaemonSet; NodeConfig: one ConfigMap for a cluster without GPUs; no Olaresd stage (olaresd is host tasks)", () => {
      const d = desired();
      expect(inventory(stage(d, "NodeAgent").objects)).to.deep.equal(["DaemonSet/olares-system/olares-node-agent"]);
      expect(stage(d, "NodeConfig").objects.map((o) => o.kind)).to.deep.equal(["ConfigMap"]);
      expect(d.stages.map((s) => s.name)).to.not.include("Olaresd");
    });

    it("Storage: the layout ConfigMap and the local-path provisioner with its StorageClass", () => {
      expect(inventory(stage(desired(), "Storage").objects)).to.have.members([
        "ConfigMap/olares-system/olares-storage",
        "ServiceAccount/olares-system/local-path-provisioner",
        "ClusterRole//local-path-provisioner",
        "ClusterRoleBinding//local-path-provisioner",
        "Role/olares-system/local-path-provisioner",
        "RoleBinding/olares-system/local-path-provisioner",
        "ConfigMap/olares-system/local-path-config",
        "Deployment/olares-system/local-path-provisioner",
        "StorageClass//local-path",
      ]);
    });

    it("the JuiceFS examples keep the same Storage objects (local-path volumes live under the JuiceFS rootfs), plus the agents' Role for the one credentials Secret", () => {
      const local = inventory(stage(desired(), "Storage").objects);
      const credentialsReader = ["Role/olares-system/olares-node-agent-storage-credentials", "RoleBinding/olares-system/olares-node-agent-storage-credentials"];
      for (const file of ["examples/olares-juicefs-minio.yaml", "examples/olares-juicefs-s3.yaml"]) {
        const objects = stage(render(input(file), FACTS), "Storage").objects;
        expect(inventory(objects), file).to.deep.equal([...local, ...credentialsReader]);
        const layout = JSON.parse((objects.find((o) => o.metadata.name === "olares-storage") as any).data["layout.json"]);
        expect(layout.type, file).to.equal("JuiceFS");
      }
    });

    it("gpu.enabled auto: the GPU stage renders nothing (the release's hami is the device plugin)", () => {
      expect(inventory(stage(desired(), "GPU").objects)).to.deep.equal([]);
    });
  });

  describe("the NodeConfig stage ships each node group's config as an immutable ConfigMap", () => {
    it("one ConfigMap per group, named by the config id, labelled with its group, holding exactly the rolled-out config", () => {
      const desired = render(input("examples/olares-gpu.yaml"), GPU_FACTS);
      const nodeConfig = stage(desired, "NodeConfig");
      const rolledOut = stageHook(nodeConfig, "NodeRollout")?.configs ?? [];
      expect(rolledOut.map((c) => c.group)).to.deep.equal(["default", "nvidia"]);
      expect(nodeConfig.objects).to.have.length(rolledOut.length);
      nodeConfig.objects.forEach((o, i) => {
        const config = rolledOut[i]!;
        const cm = o as any;
        expect(cm.kind).to.equal("ConfigMap");
        expect(cm.metadata.namespace).to.equal("olares-system");
        expect(cm.metadata.name).to.equal(`${NODE_CONFIG_PREFIX}${config.id}`);
        expect(cm.immutable).to.equal(true);
        expect(cm.metadata.labels).to.include({ "olares.com/node-config-group": config.group, "app.kubernetes.io/name": "node-config" });
        expect(JSON.parse(cm.data[NODE_CONFIG_KEY])).to.deep.equal(JSON.parse(JSON.stringify(config)));
      });
    });

    it("a changed host setting gives a new ConfigMap name rather than editing the old one", () => {
      const name = (timezone: string) =>
        stage(render({ ...input("examples/olares.yaml"), os: { ...input("examples/olares.yaml").os, timezone } } as DefaultedSpec, FACTS), "NodeConfig")
          .objects[0]!.metadata.name;
      expect(name("UTC")).to.not.equal(name("Europe/Berlin"));
      expect(name("UTC")).to.equal(name("UTC"));
    });
  });

  describe("host settings in the spec reach the shipped host tasks with their values", () => {
    it("olares-gpu: sysctl override merged over the base, time zone, registry mirror in both groups", () => {
      const [def, gpu] = shippedConfigs(render(input("examples/olares-gpu.yaml"), GPU_FACTS));
      for (const c of [def, gpu]) {
        expect(task(c, "sysctl/olares").values).to.deep.include({ "vm.max_map_count": "262144", "net.ipv4.ip_forward": "1" });
        expect(task(c, "time/timezone")).to.include({ kind: "timezone", name: "UTC" });
        expect(task(c, "containerd/mirrors")).to.deep.include({
          kind: "containerdMirrors",
          disruption: "restart-service",
          mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.gcr.io"] }],
        });
        expect(task(c, "ssh/sshd")).to.include({ port: 22, enabled: true, disruption: "restart-service" });
      }
    });

    it("olares.yaml: the NTP servers, and no time zone, mirror or resolv.conf task when the spec sets none", () => {
      const [def, ...rest] = shippedConfigs(render(input("examples/olares.yaml"), FACTS));
      expect(rest).to.deep.equal([]);
      expect(task(def, "ntp/timesync")).to.deep.include({ kind: "timesync", servers: ["pool.ntp.org"], disruption: "none" });
      const ids = def!.tasks.map((t) => t.id);
      expect(ids).to.not.include("time/timezone");
      expect(ids).to.not.include("containerd/mirrors");
      expect(ids).to.not.include("dns/resolv-conf");
    });

    it("DNS name servers and swap reach their tasks with the spec's values", () => {
      const s = input("examples/olares.yaml");
      const [def] = shippedConfigs(render({ ...s, os: { ...s.os, dns: { nameservers: ["9.9.9.9", "1.1.1.1"] }, swap: { enabled: true, sizeMiB: 4096 } } } as DefaultedSpec, FACTS));
      expect(task(def, "dns/resolv-conf")).to.deep.include({ kind: "resolvConf", nameservers: ["9.9.9.9", "1.1.1.1"] });
      expect(task(def, "swap/olares")).to.include({ sizeMiB: 4096 });
    });
  });

  describe("GPU host tasks (olares-gpu, hami-overrides)", () => {
    it("the nvidia group adds the pinned driver (reboot), the pinned toolkit and the containerd runtime; the default group has none", () => {
      const [def, gpu] = shippedConfigs(render(input("examples/olares-gpu.yaml"), GPU_FACTS));
      expect(gpu!.group).to.equal("nvidia");
      expect(task(gpu, "nvidia/driver")).to.include({ kind: "nvidiaDriver", version: "570", disruption: "reboot" });
      expect(task(gpu, "nvidia/toolkit")).to.include({ kind: "nvidiaToolkit", version: "1.17.5" });
      expect(task(gpu, "containerd/nvidia-runtime")).to.include({ kind: "containerdNvidiaRuntime", disruption: "restart-service" });
      expect(def!.tasks.filter((t) => t.id.startsWith("nvidia/") || t.id === "containerd/nvidia-runtime")).to.deep.equal([]);
      expect(def!.tasks.some((t) => t.disruption === "reboot"), "only the driver needs a reboot").to.equal(false);
    });

    it("gpu.enabled true ships the nvidia group even before a GPU node exists; auto waits for one", () => {
      expect(shippedConfigs(render(input("test/golden/inputs/hami-overrides.yaml"), FACTS)).map((c) => c.group)).to.deep.equal(["default", "nvidia"]);
      expect(shippedConfigs(render(input("examples/olares.yaml"), FACTS)).map((c) => c.group)).to.deep.equal(["default"]);
      expect(shippedConfigs(render(input("examples/olares.yaml"), GPU_FACTS)).map((c) => c.group)).to.deep.equal(["default", "nvidia"]);
    });

    it("gpu.enabled false: no nvidia group and no GPU stage, even with a GPU node", () => {
      const desired = render(input("test/golden/inputs/minimal-no-gpu.yaml"), GPU_FACTS);
      expect(shippedConfigs(desired).map((c) => c.group)).to.deep.equal(["default"]);
      expect(desired.stages.map((s) => s.name)).to.not.include("GPU");
    });
  });

  describe("olaresd on the host", () => {
    it("JuiceFS examples: the release record names the owner and the root path; olaresd.service.env has the installer's keys", () => {
      const [def] = shippedConfigs(render(input("examples/olares-juicefs-minio.yaml"), FACTS));
      expect(task(def, "olaresd/release").content).to.equal("OLARES_BASE_DIR=/olares\nOLARES_VERSION=1.12.1\nOLARES_NAME=alice@olares.com\n");
      expect(task(def, "olaresd/service-env").content).to.equal("INSTALLED_VERSION=1.12.1\nKUBE_TYPE=k3s\nREGISTRY_MIRRORS=\nBASE_DIR=/var/lib/olares-agent/release\nLOCAL_GPU_ENABLE=1\n");
    });

    it("hami-overrides: olaresd pinned below the Olares version downloads that version; the env says the installed Olares version", () => {
      const [def] = shippedConfigs(render(input("test/golden/inputs/hami-overrides.yaml"), FACTS));
      expect(task(def, "olaresd/binary").url).to.include("olaresd-v1.12.1-");
      const env = task(def, "olaresd/service-env").content as string;
      expect(env).to.include("INSTALLED_VERSION=1.12.2\n");
      expect(task(def, "olaresd/release").content).to.include("OLARES_NAME=bob@example.org\n");
    });

    it("minimal-no-gpu: olaresd disabled leaves no olaresd task and no Olaresd stage", () => {
      const desired = render(input("test/golden/inputs/minimal-no-gpu.yaml"), FACTS);
      expect(desired.stages.map((s) => s.name)).to.not.include("Olaresd");
      const [def] = shippedConfigs(desired);
      expect(def!.tasks.map((t) => t.id).filter((id) => id.startsWith("olaresd/"))).to.deep.equal([]);
    });
  });

  it("allObjects lists the stages' objects in stage order (the order plan prints and the controller applies)", () => {
    const desired = render(input("examples/olares-gpu.yaml"), GPU_FACTS);
    const stageOrder = desired.stages.map((s) => s.name);
    const seen = allObjects(desired).map((o) => stageOrder.indexOf(o.metadata.labels?.[LABEL_STAGE] as never));
    expect(seen).to.deep.equal([...seen].sort((a, b) => a - b));
    expect(seen.length).to.equal(desired.stages.reduce((n, s) => n + s.objects.length, 0));
  });
});
