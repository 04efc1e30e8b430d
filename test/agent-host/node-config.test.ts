import { expect } from "chai";
import { applyDefaults, type DefaultedSpec } from "../../operator/src/api/index.js";
import {
  BASE_PACKAGES,
  REMOVED_PACKAGES,
  nodeConfigFor,
  renderNodeConfigs,
  type HostNodeConfig,
} from "../../operator/src/render/node-config/index.js";
import { describeNodeConfig, type ClusterFacts } from "../../operator/src/contract/index.js";

function spec(extra: Record<string, unknown> = {}): DefaultedSpec {
  return applyDefaults({
    apiVersion: "olares.com/v1alpha1",
    kind: "OlaresInstallation",
    metadata: { name: "olares" },
    spec: { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" }, ...extra },
  }).spec;
}

function facts(nodes: ClusterFacts["nodes"] = []): ClusterFacts {
  return { nodes, ownerUid: "uid", operatorImage: "img" };
}

const gpuNode = { name: "g1", labels: { "olares.com/gpu.nvidia": "true" } };
const plainNode = { name: "n1", labels: {} };

function byId(c: HostNodeConfig, id: string) {
  return c.tasks.find((t) => t.id === id);
}

describe("node config rendering", () => {
  it("renders one default config in apply order with the right disruption per task", () => {
    const [c, ...rest] = renderNodeConfigs(spec({ os: { dns: { nameservers: ["1.1.1.1"] }, ntp: { servers: ["pool.ntp.org"] }, timezone: "UTC" } }), facts([plainNode]));
    expect(rest).to.deep.equal([]);
    expect(c!.group).to.equal("default");
    expect(c!.id).to.match(/^[0-9a-f]{10}$/);
    expect(c!.tasks.map((t) => `${t.id}:${t.disruption}`)).to.deep.equal([
      "packages/base:none",
      "packages/absent:none",
      "dns/resolv-conf:none",
      "ntp/timesync:none",
      "ssh/sshd:restart-service",
      "sysctl/olares:none",
      "time/timezone:none",
      "olaresd/binary:restart-service",
      "olaresd/service-env:none",
      "olaresd/release:none",
      "olaresd/unit:restart-service",
    ]);
  });

  it("installs the olares-cli base set plus spec.os.packages, once each", () => {
    const [c] = renderNodeConfigs(spec({ os: { packages: ["jq", "gcc"] } }), facts());
    const names = (byId(c!, "packages/base") as { names: string[] }).names;
    expect(names).to.include.members([...BASE_PACKAGES, "jq"]);
    expect(names.filter((n) => n === "gcc")).to.have.length(1);
  });

  it("merges spec sysctl over the base values and defaults SSH to port 22, leaving password login to the host", () => {
    const [c] = renderNodeConfigs(spec({ os: { sysctl: { "vm.max_map_count": "524288", "vm.overcommit_memory": "1" } } }), facts());
    expect((byId(c!, "sysctl/olares") as { values: Record<string, string> }).values).to.include({ "vm.max_map_count": "524288", "vm.overcommit_memory": "1", "net.ipv4.ip_forward": "1" });
    expect(byId(c!, "ssh/sshd")).to.include({ port: 22, enabled: true, description: "OpenSSH on port 22, password login as the host has it" });
    expect(byId(c!, "ssh/sshd")).to.not.have.property("passwordAuthentication");
    const text = describeNodeConfig(c!).join("\n");
    expect(text).to.contain("file /etc/ssh/sshd_config.d/50-olares.conf (Port 22), checked with sshd -t");
    expect(text).to.not.contain("PasswordAuthentication");
  });

  it("sets PasswordAuthentication only when the spec says so, either way", () => {
    for (const [value, word] of [[false, "no"], [true, "yes"]] as const) {
      const [c] = renderNodeConfigs(spec({ os: { ssh: { passwordAuthentication: value } } }), facts());
      expect(byId(c!, "ssh/sshd")).to.include({ passwordAuthentication: value });
      expect(describeNodeConfig(c!).join("\n")).to.contain(`file /etc/ssh/sshd_config.d/50-olares.conf (Port 22, PasswordAuthentication ${word}), checked with sshd -t`);
    }
  });

  it("removes unattended-upgrades like olares-cli, shown in plan, unless spec.os.packages asks for it", () => {
    const [c] = renderNodeConfigs(spec(), facts());
    expect(byId(c!, "packages/absent")).to.deep.include({ kind: "packagesAbsent", disruption: "none", names: [...REMOVED_PACKAGES] });
    expect(REMOVED_PACKAGES).to.include("unattended-upgrades");
    expect(describeNodeConfig(c!).join("\n")).to.contain("packages removed: unattended-upgrades (reinstalled on undo only where they were installed before)");
    const [kept] = renderNodeConfigs(spec({ os: { packages: ["unattended-upgrades"] } }), facts());
    expect(byId(kept!, "packages/absent")).to.equal(undefined);
    expect((byId(kept!, "packages/base") as { names: string[] }).names).to.include("unattended-upgrades");
  });

  it("installs olaresd from the release URL pattern, restarting it when the binary or env changes", () => {
    const [c] = renderNodeConfigs(spec(), facts());
    expect(byId(c!, "olaresd/binary")).to.deep.include({
      path: "/usr/local/bin/olaresd",
      url: "https://dc3p1870nn3cj.cloudfront.net/olaresd-v1.12.1-linux-{arch}.tar.gz",
      mode: 0o755,
    });
    expect(byId(c!, "olaresd/unit")).to.deep.include({ name: "olaresd.service", enable: true, state: "started", restartOnChange: ["olaresd/binary", "olaresd/service-env"] });
    expect((byId(c!, "olaresd/service-env") as { content: string }).content).to.contain("INSTALLED_VERSION=1.12.1\n");
    expect((byId(c!, "olaresd/release") as { content: string }).content).to.contain("OLARES_NAME=alice@olares.com\n");
  });

  it("requires a sha256 for an olaresd URL of our own choosing", () => {
    const s = spec();
    s.olaresd = { ...s.olaresd, url: "https://downloads.example.com/olaresd.tar.gz" };
    expect(() => renderNodeConfigs(s, facts())).to.throw(/olaresd\/binary\.sha256: \(unset\) is required/);
    s.olaresd.sha256 = "b".repeat(64);
    expect(byId(renderNodeConfigs(s, facts())[0]!, "olaresd/binary")).to.include({ sha256: "b".repeat(64) });
  });

  it("adds mirrors, swap and leaves olaresd out when disabled", () => {
    const [c] = renderNodeConfigs(
      spec({ registry: { mirrors: [{ endpoints: ["https://mirror.gcr.io"] }] }, os: { swap: { enabled: true, sizeMiB: 2048 } }, olaresd: { enabled: false } }),
      facts(),
    );
    expect(byId(c!, "containerd/mirrors")).to.deep.include({ disruption: "restart-service", mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.gcr.io"] }] });
    expect(byId(c!, "swap/olares")).to.include({ sizeMiB: 2048, swappiness: 10 });
    expect(c!.tasks.some((t) => t.id.startsWith("olaresd/"))).to.equal(false);
  });

  it("renders an nvidia group for labelled nodes: default tasks + driver (reboot), toolkit, containerd runtime", () => {
    const configs = renderNodeConfigs(spec({ gpu: { nvidia: { driver: { version: "570.133.20" } } } }), facts([plainNode, gpuNode]));
    expect(configs.map((c) => c.group)).to.deep.equal(["default", "nvidia"]);
    const [def, gpu] = configs as [HostNodeConfig, HostNodeConfig];
    expect(gpu.id).to.not.equal(def.id);
    const gpuIds = gpu.tasks.map((t) => t.id);
    expect(gpuIds.slice(gpuIds.indexOf("nvidia/driver"), gpuIds.indexOf("nvidia/driver") + 3)).to.deep.equal(["nvidia/driver", "nvidia/toolkit", "containerd/nvidia-runtime"]);
    expect(byId(gpu, "nvidia/driver")).to.include({ disruption: "reboot", version: "570.133.20" });
    expect(gpu.tasks.filter((t) => !t.id.startsWith("nvidia/") && t.id !== "containerd/nvidia-runtime")).to.deep.equal(def.tasks);
    expect(nodeConfigFor(configs, gpuNode.labels)?.group).to.equal("nvidia");
    expect(nodeConfigFor(configs, plainNode.labels)?.group).to.equal("default");
  });

  it("leaves GPUs alone when gpu.enabled is false, and skips the driver when it is preinstalled", () => {
    expect(renderNodeConfigs(spec({ gpu: { enabled: "false" } }), facts([gpuNode])).map((c) => c.group)).to.deep.equal(["default"]);
    expect(renderNodeConfigs(spec(), facts([plainNode])).map((c) => c.group)).to.deep.equal(["default"]);
    const [, gpu] = renderNodeConfigs(spec({ gpu: { enabled: "true", nvidia: { driver: { install: false } } } }), facts());
    expect(gpu!.tasks.some((t) => t.kind === "nvidiaDriver")).to.equal(false);
    expect(gpu!.tasks.some((t) => t.kind === "nvidiaToolkit")).to.equal(true);
  });

  it("is deterministic, and a changed spec value gives a new config id", () => {
    const a = renderNodeConfigs(spec({ os: { timezone: "UTC" } }), facts());
    expect(renderNodeConfigs(spec({ os: { timezone: "UTC" } }), facts())).to.deep.equal(a);
    expect(renderNodeConfigs(spec({ os: { timezone: "Europe/Berlin" } }), facts())[0]!.id).to.not.equal(a[0]!.id);
  });

  it("refuses hostile spec values, naming the task field", () => {
    const s = spec();
    s.os = { ...s.os, dns: { nameservers: ["1.1.1.1; rm -rf /"] }, packages: ["curl$(reboot)"] };
    expect(() => renderNodeConfigs(s, facts())).to.throw(/dns\/resolv-conf\.nameservers\[0\]: "1\.1\.1\.1; rm -rf \/" must be an IPv4 or IPv6 address/);
    expect(() => renderNodeConfigs(s, facts())).to.throw(/packages\/base\.names\[15\]: "curl\$\(reboot\)" must be a package name/);
  });

  it("describes every file, unit, package and reboot for plan", () => {
    const [, gpu] = renderNodeConfigs(spec({ gpu: { enabled: "true" }, os: { dns: { nameservers: ["9.9.9.9"] } } }), facts());
    const text = describeNodeConfig(gpu!).join("\n");
    expect(text).to.contain("most disruptive change: reboot");
    expect(text).to.contain("file /etc/resolv.conf (nameserver 9.9.9.9; no search line)");
    expect(text).to.contain("file /etc/ssh/sshd_config.d/50-olares.conf");
    expect(text).to.contain("packages curl ca-certificates");
    expect(text).to.contain("nvidia/driver: NVIDIA driver 570 [reboots the node]");
    expect(text).to.contain("unit olaresd.service enabled, started");
  });
});
