// The real tier: a debootstrapped Debian bookworm rootfs, the agent's tasks applied through chroot with
// real apt, dpkg, systemctl (offline) and sshd -t. Timings of the default config are printed.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, mkdtemp, readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyDefaults, type DefaultedSpec } from "../../operator/src/api/index.js";
import { createExecaExecutor, createHost, type Host } from "../../operator/src/agent/host/index.js";
import { applyNodeConfig, detectDrift, undoNodeConfig, type TaskLog, type TypedNodeConfig } from "../../operator/src/agent/tasks/index.js";
import { nodeConfigId, type HostTask } from "../../operator/src/contract/index.js";
import { BASE_PACKAGES, renderNodeConfigs } from "../../operator/src/render/node-config/index.js";
import { inRootfs, prepareRootfs, type Rootfs } from "./rootfs.js";

const quiet: TaskLog = { info: () => {}, warn: () => {} };

/** mtime and size of every file under the trees the agent may touch, to prove a re-run writes nothing. */
async function treeStamp(root: string, dirs: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    let entries;
    try {
      entries = await readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(d, e.name);
      const st = await lstat(full);
      out.set(full.slice(root.length), `${st.mtimeMs}:${st.size}:${st.mode}`);
      if (e.isDirectory()) await walk(full);
    }
  };
  for (const d of dirs) await walk(path.join(root, d));
  return out;
}

function changedEntries(a: Map<string, string>, b: Map<string, string>): string[] {
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

function installed(dir: string, names: readonly string[]): string[] {
  const r = inRootfs(dir, ["dpkg-query", "-W", "-f=${Package} ${db:Status-Abbrev}\n", ...names]);
  return r.stdout.split("\n").filter((l) => / ii ?$/.test(l)).map((l) => l.split(" ")[0]!);
}

describe("real Debian bookworm rootfs (debootstrap + chroot)", function () {
  this.timeout(5 * 60_000);
  let rootfs: Rootfs;
  let host: Host;
  let server: http.Server;
  let config: TypedNodeConfig;
  let originalResolv: string;
  const olaresd = Buffer.from("#!/bin/sh\nexec sleep infinity\n");
  let archive: Buffer;

  before(async function () {
    this.timeout(25 * 60_000);
    rootfs = await prepareRootfs(BASE_PACKAGES);
    host = createHost({ root: rootfs.dir, exec: createExecaExecutor(), mode: "chroot" });
    originalResolv = await readFile(path.join(rootfs.dir, "etc/resolv.conf"), "utf8");

    const work = await mkdtemp(path.join(tmpdir(), "olaresd-"));
    await writeFile(path.join(work, "olaresd"), olaresd, { mode: 0o755 });
    execFileSync("tar", ["-czf", path.join(work, "a.tar.gz"), "-C", work, "olaresd"]);
    archive = await readFile(path.join(work, "a.tar.gz"));
    await rm(work, { recursive: true, force: true });
    server = http.createServer((_req, res) => res.end(archive));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));

    const spec: DefaultedSpec = applyDefaults({
      apiVersion: "olares.com/v1alpha1",
      kind: "OlaresInstallation",
      metadata: { name: "olares" },
      spec: {
        version: "1.12.1",
        owner: { username: "alice" },
        storage: { type: "LocalFS" },
        registry: { mirrors: [{ endpoints: ["https://mirror.gcr.io"] }] },
        os: {
          dns: { nameservers: ["1.1.1.1", "9.9.9.9"] },
          ntp: { servers: ["pool.ntp.org"] },
          ssh: { port: 2222 },
          sysctl: { "vm.overcommit_memory": "1" },
          swap: { enabled: true, sizeMiB: 16, swappiness: 10 },
          timezone: "Europe/Berlin",
        },
      },
    }).spec;
    spec.olaresd = { ...spec.olaresd, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/olaresd-v1.12.1-linux-{arch}.tar.gz`, sha256: createHash("sha256").update(archive).digest("hex") };
    config = renderNodeConfigs(spec, { nodes: [], ownerUid: "uid", operatorImage: "img" })[0]!;
    console.log(`      rootfs: ${rootfs.tarball} (hack/rootfs.sh ${rootfs.buildSeconds.toFixed(1)}s, extract ${rootfs.extractSeconds.toFixed(1)}s)`);
  });

  after(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await rootfs?.dispose();
  });

  it("rejects hostile input before touching the rootfs", async () => {
    const hostile = [
      { kind: "resolvConf", id: "dns", description: "d", disruption: "none", nameservers: ["1.1.1.1; rm -rf /"] },
      { kind: "packages", id: "pkgs", description: "d", disruption: "none", names: ["openssh-server", "-o=APT::Get::AllowUnauthenticated=1"] },
      { kind: "file", id: "key", description: "d", disruption: "none", path: "/root/.ssh/authorized_keys", content: "ssh-ed25519 AAAA evil", mode: 0o600 },
    ] as HostTask[];
    const before = await treeStamp(rootfs.dir, ["etc", "root", "var/lib/dpkg"]);
    const r = await applyNodeConfig(host, { id: nodeConfigId(hostile), group: "default", tasks: hostile }, { allowReboot: false, log: quiet });
    expect(r.error?.message).to.contain('dns.nameservers[0]: "1.1.1.1; rm -rf /" must be an IPv4 or IPv6 address');
    expect(r.error?.message).to.contain("pkgs.names[1]");
    expect(r.error?.message).to.contain("key.path");
    expect(changedEntries(before, await treeStamp(rootfs.dir, ["etc", "root", "var/lib/dpkg"]))).to.deep.equal([]);
  });

  it("applies the default config: apt packages, files, offline-enabled units, backups", async () => {
    const started = Date.now();
    const r = await applyNodeConfig(host, config, { allowReboot: false, log: quiet });
    const seconds = (Date.now() - started) / 1000;
    console.log(`      default config ${config.id}: first apply ${seconds.toFixed(1)}s, ${r.changed.length}/${config.tasks.length} tasks changed`);
    expect(r.error).to.equal(undefined);
    expect(r.rebootRequired).to.equal(false);
    expect(r.changed).to.include.members(["packages/base", "dns/resolv-conf", "ssh/sshd", "olaresd/unit"]);

    expect(installed(rootfs.dir, BASE_PACKAGES)).to.have.members([...BASE_PACKAGES]);
    const etc = (p: string) => readFile(path.join(rootfs.dir, "etc", p), "utf8");
    expect(await etc("resolv.conf")).to.equal("# Managed by olares-operator (spec.os.dns); changes are reverted.\nnameserver 1.1.1.1\nnameserver 9.9.9.9\n");
    // spec.os.ssh.passwordAuthentication unset: the drop-in leaves Debian's own setting (yes) alone.
    expect(await etc("ssh/sshd_config.d/50-olares.conf")).to.equal("# Managed by olares-operator (spec.os.ssh)\nPort 2222\n");
    const effective = inRootfs(rootfs.dir, ["sshd", "-T", "-C", "user=root,host=x,addr=127.0.0.1"]).stdout;
    expect(effective).to.match(/^port 2222$/m);
    expect(effective).to.match(/^passwordauthentication yes$/m);
    expect(await etc("systemd/timesyncd.conf.d/olares.conf")).to.contain("NTP=pool.ntp.org");
    expect(await etc("sysctl.d/90-olares.conf")).to.contain("vm.overcommit_memory = 1");
    expect(await readlink(path.join(rootfs.dir, "etc/localtime"))).to.equal("/usr/share/zoneinfo/Europe/Berlin");
    expect(await etc("containerd/certs.d/docker.io/hosts.toml")).to.contain('[host."https://mirror.gcr.io"]');
    expect(await readFile(path.join(rootfs.dir, "usr/local/bin/olaresd"))).to.deep.equal(olaresd);
    // The installer's env file beside the unit, and /etc/olares/release as SaveReleaseInfo writes it.
    expect(await etc("systemd/system/olaresd.service.env")).to.contain("INSTALLED_VERSION=1.12.1").and.contain("KUBE_TYPE=k3s");
    expect(await etc("olares/release")).to.contain("OLARES_NAME=alice@olares.com");
    // Enabled offline: the [Install] symlinks exist and systemctl agrees.
    expect(await readlink(path.join(rootfs.dir, "etc/systemd/system/multi-user.target.wants/olaresd.service"))).to.equal("/etc/systemd/system/olaresd.service");
    expect(await readlink(path.join(rootfs.dir, "etc/systemd/system/multi-user.target.wants/olares-swap.service"))).to.equal("/etc/systemd/system/olares-swap.service");
    for (const unit of ["ssh.service", "systemd-timesyncd.service", "olaresd.service", "olares-swap.service"]) {
      expect(inRootfs(rootfs.dir, ["systemctl", "--root=/", "is-enabled", unit]).stdout.trim(), unit).to.equal("enabled");
    }
    expect((await lstat(path.join(rootfs.dir, "var/lib/olares-agent/swapfile"))).size).to.equal(16 * 1024 * 1024);
    const backups = await host.listBackups("original");
    expect(backups).to.include.members(["/etc/resolv.conf", "/etc/localtime", "/etc/ssh/sshd_config.d/50-olares.conf", "/usr/local/bin/olaresd"]);
    expect(await host.listBackups(config.id)).to.deep.equal([]);
  });

  it("re-applies with no change and no write", async () => {
    const trees = ["etc", "usr/local", "var/lib/olares-agent", "var/lib/dpkg"];
    const before = await treeStamp(rootfs.dir, trees);
    const started = Date.now();
    const r = await applyNodeConfig(host, config, { allowReboot: false, log: quiet });
    const seconds = (Date.now() - started) / 1000;
    console.log(`      default config ${config.id}: no-op re-apply ${seconds.toFixed(2)}s, ${r.changed.length} tasks changed`);
    expect(r).to.deep.equal({ changed: [], rebootRequired: false, rolledBack: [] });
    expect(changedEntries(before, await treeStamp(rootfs.dir, trees))).to.deep.equal([]);
    expect(await detectDrift(host, config)).to.deep.equal([]);
  });

  it("reports a managed file changed behind its back, and heals it on apply", async () => {
    await writeFile(path.join(rootfs.dir, "etc/ssh/sshd_config.d/50-olares.conf"), "PasswordAuthentication yes\n");
    expect(await detectDrift(host, config)).to.deep.equal([{ taskId: "ssh/sshd", path: "/etc/ssh/sshd_config.d/50-olares.conf", message: "content changed" }]);
    const r = await applyNodeConfig(host, config, { allowReboot: false, log: quiet });
    expect(r.changed).to.deep.equal(["ssh/sshd"]);
    expect(await detectDrift(host, config)).to.deep.equal([]);
  });

  it("rolls a failing config back, leaving the host as it was", async () => {
    const tasks: HostTask[] = [
      { kind: "file", id: "probe", description: "d", disruption: "none", path: "/etc/olares/probe.conf", content: "x\n", mode: 0o644 },
      { kind: "sysctl", id: "sysctl", description: "d", disruption: "none", values: { "vm.swappiness": "1" } },
      { kind: "timezone", id: "tz", description: "d", disruption: "none", name: "Mars/Olympus" },
    ];
    const sysctlBefore = await readFile(path.join(rootfs.dir, "etc/sysctl.d/90-olares.conf"), "utf8");
    const r = await applyNodeConfig(host, { id: nodeConfigId(tasks), group: "default", tasks }, { allowReboot: false, log: quiet });
    expect(r.error).to.deep.equal({ taskId: "tz", message: "time zone Mars/Olympus is not in /usr/share/zoneinfo on this host" });
    expect(r.rolledBack).to.deep.equal(["sysctl", "probe"]);
    expect(await host.exists("/etc/olares/probe.conf")).to.equal(false);
    expect(await readFile(path.join(rootfs.dir, "etc/sysctl.d/90-olares.conf"), "utf8")).to.equal(sysctlBefore);
  });

  it("undoes everything on cleanup: files, units, packages it installed, backups", async () => {
    const started = Date.now();
    const r = await undoNodeConfig(host, config, { log: quiet });
    console.log(`      cleanup (undo) ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect(r.errors).to.deep.equal([]);
    expect(await readFile(path.join(rootfs.dir, "etc/resolv.conf"), "utf8")).to.equal(originalResolv);
    expect(await readlink(path.join(rootfs.dir, "etc/localtime"))).to.equal("/usr/share/zoneinfo/Etc/UTC");
    for (const gone of [
      "usr/local/bin/olaresd",
      "etc/systemd/system/olaresd.service",
      "etc/systemd/system/multi-user.target.wants/olaresd.service",
      "etc/ssh/sshd_config.d/50-olares.conf",
      "etc/sysctl.d/90-olares.conf",
      "etc/containerd/certs.d/docker.io/hosts.toml",
      "etc/containerd/certs.d/docker.io",
      "var/lib/olares-agent/records/containerd-mirrors/containerd_mirrors.json",
      "var/lib/olares-agent/swapfile",
      "var/lib/olares-agent/backup/original",
    ]) {
      expect(await host.exists(`/${gone}`), gone).to.equal(false);
    }
    expect(installed(rootfs.dir, ["openssh-server", "gcc", "socat"])).to.deep.equal([]);
  });
});
