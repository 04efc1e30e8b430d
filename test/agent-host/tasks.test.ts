import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readlink, rm, stat, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { applyNodeConfig, detectDrift, undoNodeConfig } from "../../operator/src/agent/tasks/index.js";
import type { HostTask } from "../../operator/src/contract/index.js";
import { mirrorsRecordPath } from "../../operator/src/agent/tasks/containerd-mirrors.js";
import { configImportsFragment } from "../../operator/src/agent/tasks/containerd-nvidia.js";
import { FakeSystem } from "./fake-system.js";
import { apply, applyIdempotent, base, configOf, hostText, mtimeOf } from "./helpers.js";

describe("host tasks against a temp root", () => {
  let sys: FakeSystem;
  afterEach(async () => {
    await sys?.cleanup();
  });

  describe("file", () => {
    const task: HostTask = { ...base, id: "motd", kind: "file", path: "/etc/motd", content: "olares\n", mode: 0o644 };

    it("writes, backs up the original, is idempotent and undoes to the original", async () => {
      sys = await FakeSystem.create();
      await sys.file("/etc/motd", "debian\n", 0o600);
      const config = configOf([task]);
      const r = await applyIdempotent(sys, config);
      expect(r.changed).to.deep.equal(["motd"]);
      expect(await hostText(sys, "/etc/motd")).to.equal("olares\n");
      expect(await sys.host.listBackups("original")).to.deep.equal(["/etc/motd"]);
      expect(await sys.host.listBackups(config.id)).to.deep.equal([]);
      const before = await mtimeOf(sys, "/etc/motd");
      await apply(sys, config);
      expect(await mtimeOf(sys, "/etc/motd")).to.equal(before);
      expect((await undoNodeConfig(sys.host, config, { log: sys.log })).undone).to.deep.equal(["motd"]);
      expect(await hostText(sys, "/etc/motd")).to.equal("debian\n");
      expect((await stat(path.join(sys.root, "etc/motd"))).mode & 0o777).to.equal(0o600);
    });

    it("deletes on undo a file that did not exist before", async () => {
      sys = await FakeSystem.create();
      const config = configOf([task]);
      await apply(sys, config);
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(await hostText(sys, "/etc/motd")).to.equal(undefined);
    });
  });

  describe("dropin and unit", () => {
    it("installs a unit, enables it offline with systemctl --root, and removes it on undo", async () => {
      sys = await FakeSystem.create();
      const config = configOf([{ ...base, id: "svc", kind: "unit", name: "olaresd.service", content: "[Unit]\n[Install]\nWantedBy=multi-user.target\n", enable: true, state: "started" }]);
      await applyIdempotent(sys, config);
      expect(sys.enabled.has("olaresd.service")).to.equal(true);
      expect(await hostText(sys, "/etc/systemd/system/olaresd.service")).to.contain("WantedBy");
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(sys.enabled.has("olaresd.service")).to.equal(false);
      expect(await hostText(sys, "/etc/systemd/system/olaresd.service")).to.equal(undefined);
    });

    it("restarts a running unit when a task it depends on changed, and only then", async () => {
      sys = await FakeSystem.create({ live: true });
      await sys.file("/lib/systemd/system/containerd.service", "[Unit]\n");
      sys.enabled.add("containerd.service");
      sys.active.add("containerd.service");
      const tasks: HostTask[] = [
        { ...base, id: "ctr-dropin", kind: "dropin", unit: "containerd.service", name: "50-olares.conf", content: "[Service]\nLimitNOFILE=1048576\n" },
        { ...base, id: "ctr", kind: "unit", name: "containerd.service", enable: true, state: "started", restartOnChange: ["ctr-dropin"] },
      ];
      const first = await apply(sys, configOf(tasks));
      expect(first.changed).to.deep.equal(["ctr-dropin", "ctr"]);
      expect(sys.exec.commands()).to.include.members(["systemctl daemon-reload", "systemctl restart containerd.service"]);
      sys.exec.clear();
      expect((await apply(sys, configOf(tasks))).changed).to.deep.equal([]);
      expect(sys.exec.commands().filter((c) => c.includes("restart"))).to.deep.equal([]);
    });
  });

  describe("packages", () => {
    it("installs only what is missing and removes on undo only what it installed", async () => {
      sys = await FakeSystem.create({ installed: ["curl"] });
      const config = configOf([{ ...base, id: "pkgs", kind: "packages", names: ["curl", "gcc", "socat"] }]);
      await applyIdempotent(sys, config);
      expect([...sys.installed].sort()).to.deep.equal(["curl", "gcc", "socat"]);
      sys.exec.clear();
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect([...sys.installed]).to.deep.equal(["curl"]);
      expect(sys.exec.commands().find((c) => c.startsWith("apt-get remove"))).to.equal("apt-get remove -y -q -o DPkg::Lock::Timeout=300 gcc socat");
    });
  });

  describe("packagesAbsent", () => {
    const absent: HostTask = { ...base, id: "absent", kind: "packagesAbsent", names: ["unattended-upgrades"] };

    it("removes unattended-upgrades, is idempotent, and reinstalls it on undo because it was there before", async () => {
      sys = await FakeSystem.create({ installed: ["unattended-upgrades", "curl"] });
      const config = configOf([absent]);
      const r = await applyIdempotent(sys, config);
      expect(r.changed).to.deep.equal(["absent"]);
      expect(sys.installed.has("unattended-upgrades")).to.equal(false);
      expect(sys.installed.has("curl")).to.equal(true);
      sys.exec.clear();
      expect((await undoNodeConfig(sys.host, config, { log: sys.log })).errors).to.deep.equal([]);
      expect(sys.installed.has("unattended-upgrades")).to.equal(true);
      expect(sys.exec.commands().some((c) => c.startsWith("apt-get install") && c.endsWith(" unattended-upgrades"))).to.equal(true);
    });

    it("does nothing where the package is absent, and installs nothing on undo", async () => {
      sys = await FakeSystem.create();
      const config = configOf([absent]);
      expect((await apply(sys, config)).changed).to.deep.equal([]);
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(sys.installed.has("unattended-upgrades")).to.equal(false);
      expect(sys.mutatingCommands()).to.deep.equal([]);
    });

    it("rolls the removal back when a later task of the config fails", async () => {
      sys = await FakeSystem.create({ installed: ["unattended-upgrades"] });
      sys.failInstall.add("nosuchpkg");
      const r = await apply(sys, configOf([absent, { ...base, id: "pkgs", kind: "packages", names: ["nosuchpkg"] }]));
      expect(r.rolledBack).to.deep.equal(["absent"]);
      expect(sys.installed.has("unattended-upgrades")).to.equal(true);
    });
  });

  describe("resolvConf", () => {
    it("takes resolv.conf from systemd-resolved, writes no search line, and gives it back on undo", async () => {
      sys = await FakeSystem.create({ live: true });
      await sys.file("/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\nsearch corp.example\n");
      await sys.link("/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
      await sys.file("/lib/systemd/system/systemd-resolved.service", "[Unit]\n");
      sys.enabled.add("systemd-resolved.service");
      sys.active.add("systemd-resolved.service");
      const config = configOf([{ ...base, id: "dns", kind: "resolvConf", nameservers: ["1.1.1.1", "2606:4700:4700::1111"] }]);
      await applyIdempotent(sys, config);
      const text = await hostText(sys, "/etc/resolv.conf");
      expect(text).to.match(/^nameserver 1\.1\.1\.1\nnameserver 2606:4700:4700::1111\n$/m);
      expect(text).to.not.match(/search/);
      expect(sys.enabled.has("systemd-resolved.service")).to.equal(false);
      expect(sys.active.has("systemd-resolved.service")).to.equal(false);
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(await readlink(path.join(sys.root, "etc/resolv.conf"))).to.equal("../run/systemd/resolve/stub-resolv.conf");
      expect(sys.enabled.has("systemd-resolved.service")).to.equal(true);
      expect(sys.active.has("systemd-resolved.service")).to.equal(true);
    });
  });

  describe("timesync", () => {
    it("installs and configures systemd-timesyncd when no chrony is present", async () => {
      sys = await FakeSystem.create();
      const config = configOf([{ ...base, id: "ntp", kind: "timesync", servers: ["ntp.ubuntu.com", "10.0.0.1"] }]);
      await applyIdempotent(sys, config);
      expect(sys.installed.has("systemd-timesyncd")).to.equal(true);
      expect(await hostText(sys, "/etc/systemd/timesyncd.conf.d/olares.conf")).to.contain("NTP=ntp.ubuntu.com 10.0.0.1\n");
      expect(sys.enabled.has("systemd-timesyncd.service")).to.equal(true);
    });

    it("uses chrony where it is installed", async () => {
      sys = await FakeSystem.create();
      await sys.file("/etc/chrony/chrony.conf", "sourcedir /etc/chrony/sources.d\n");
      await sys.file("/usr/sbin/chronyd", "", 0o755);
      await sys.file("/lib/systemd/system/chrony.service", "[Unit]\n");
      const config = configOf([{ ...base, id: "ntp", kind: "timesync", servers: ["pool.ntp.org"] }]);
      await applyIdempotent(sys, config);
      expect(await hostText(sys, "/etc/chrony/sources.d/olares.sources")).to.contain("server pool.ntp.org iburst\n");
      expect(sys.enabled.has("chrony.service")).to.equal(true);
      expect(sys.installed.has("systemd-timesyncd")).to.equal(false);
    });
  });

  describe("sshd", () => {
    const ssh: HostTask = { ...base, id: "ssh", kind: "sshd", port: 2222, passwordAuthentication: false, enabled: true, disruption: "restart-service" };

    it("installs openssh-server, writes the drop-in checked by sshd -t, enables and reloads ssh", async () => {
      sys = await FakeSystem.create({ live: true });
      await applyIdempotent(sys, configOf([ssh]));
      expect(sys.installed.has("openssh-server")).to.equal(true);
      expect(await hostText(sys, "/etc/ssh/sshd_config.d/50-olares.conf")).to.contain("Port 2222\nPasswordAuthentication no\n");
      expect(sys.enabled.has("ssh.service")).to.equal(true);
      expect(sys.active.has("ssh.service")).to.equal(true);
    });

    it("leaves PasswordAuthentication to the host when unset, dropping a line an earlier config wrote", async () => {
      sys = await FakeSystem.create({ live: true });
      await apply(sys, configOf([ssh]));
      expect(await hostText(sys, "/etc/ssh/sshd_config.d/50-olares.conf")).to.contain("PasswordAuthentication no\n");
      const { passwordAuthentication: _unset, ...rest } = ssh as Extract<HostTask, { kind: "sshd" }>;
      await applyIdempotent(sys, configOf([rest]));
      expect(await hostText(sys, "/etc/ssh/sshd_config.d/50-olares.conf")).to.equal("# Managed by olares-operator (spec.os.ssh)\nPort 2222\n");
    });

    it("keeps socket-activated sshd (Ubuntu 24.04) on its socket: regenerates and restarts ssh.socket", async () => {
      sys = await FakeSystem.create({ live: true, installed: ["openssh-server"] });
      await sys.file("/lib/systemd/system/ssh.socket", "[Socket]\nListenStream=22\n");
      sys.enabled.add("ssh.socket");
      sys.active.add("ssh.socket");
      await apply(sys, configOf([ssh]));
      const cmds = sys.exec.commands();
      expect(cmds.indexOf("systemctl daemon-reload")).to.be.greaterThan(-1).and.lessThan(cmds.indexOf("systemctl restart ssh.socket"));
      await applyIdempotent(sys, configOf([ssh]));
      expect(sys.enabled.has("ssh.service")).to.equal(false);
      expect(sys.active.has("ssh.socket")).to.equal(true);
    });

    it("puts the drop-in back when sshd -t rejects it, and rolls back the config's earlier tasks", async () => {
      sys = await FakeSystem.create({ installed: ["openssh-server"] });
      await sys.file("/etc/motd", "before\n");
      sys.sshdRejects = "/etc/ssh/sshd_config.d/50-olares.conf line 2: Bad configuration option";
      const r = await apply(sys, configOf([{ ...base, id: "motd", kind: "file", path: "/etc/motd", content: "after\n", mode: 0o644 }, ssh]));
      expect(r.error).to.deep.equal({ taskId: "ssh", message: `sshd -t rejected the configuration: ${sys.sshdRejects}` });
      expect(r.rolledBack).to.deep.equal(["motd"]);
      expect(await hostText(sys, "/etc/ssh/sshd_config.d/50-olares.conf")).to.equal(undefined);
      expect(await hostText(sys, "/etc/motd")).to.equal("before\n");
    });
  });

  describe("sysctl", () => {
    const task: HostTask = { ...base, id: "sysctl", kind: "sysctl", values: { "vm.max_map_count": "262144" } };

    it("only writes the file where no kernel runs (chroot)", async () => {
      sys = await FakeSystem.create();
      await applyIdempotent(sys, configOf([task]));
      expect(await hostText(sys, "/etc/sysctl.d/90-olares.conf")).to.equal("# Managed by olares-operator (spec.os.sysctl)\nvm.max_map_count = 262144\n");
      expect(sys.exec.calls.filter((c) => c.argv[0] === "sysctl")).to.deep.equal([]);
    });

    it("loads the values into a live kernel and puts the old values back on undo", async () => {
      sys = await FakeSystem.create({ live: true });
      await sys.file("/proc/sys/vm/max_map_count", "65530\n");
      const config = configOf([task]);
      await applyIdempotent(sys, config);
      expect(await hostText(sys, "/proc/sys/vm/max_map_count")).to.equal("262144\n");
      sys.exec.clear();
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(sys.exec.commands()).to.include("sysctl -w vm.max_map_count=65530");
      expect(await hostText(sys, "/etc/sysctl.d/90-olares.conf")).to.equal(undefined);
    });
  });

  describe("swap", () => {
    it("creates a swap file and its unit, and removes both on undo", async () => {
      sys = await FakeSystem.create();
      const config = configOf([{ ...base, id: "swap", kind: "swap", sizeMiB: 8, swappiness: 10 }]);
      await applyIdempotent(sys, config);
      const st = await stat(path.join(sys.root, "var/lib/olares-agent/swapfile"));
      expect([st.size, st.mode & 0o777]).to.deep.equal([8 * 1024 * 1024, 0o600]);
      expect(sys.enabled.has("olares-swap.service")).to.equal(true);
      expect(await hostText(sys, "/etc/sysctl.d/91-olares-swap.conf")).to.contain("vm.swappiness = 10");
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(await hostText(sys, "/var/lib/olares-agent/swapfile")).to.equal(undefined);
      expect(await hostText(sys, "/etc/systemd/system/olares-swap.service")).to.equal(undefined);
      expect(sys.enabled.has("olares-swap.service")).to.equal(false);
    });

    it("sets up zram with zram-tools instead of a file", async () => {
      sys = await FakeSystem.create();
      await applyIdempotent(sys, configOf([{ ...base, id: "swap", kind: "swap", sizeMiB: 0, swappiness: 60, zram: { sizePercent: 25 } }]));
      expect(sys.installed.has("zram-tools")).to.equal(true);
      expect(await hostText(sys, "/etc/default/zramswap")).to.contain("PERCENT=25\n");
      expect(sys.enabled.has("zramswap.service")).to.equal(true);
    });
  });

  describe("timezone", () => {
    it("links /etc/localtime, writes /etc/timezone, installing tzdata first when needed", async () => {
      sys = await FakeSystem.create();
      await sys.file("/etc/localtime", "old");
      const config = configOf([{ ...base, id: "tz", kind: "timezone", name: "Europe/Berlin" }]);
      await applyIdempotent(sys, config);
      expect(await readlink(path.join(sys.root, "etc/localtime"))).to.equal("/usr/share/zoneinfo/Europe/Berlin");
      expect(await hostText(sys, "/etc/timezone")).to.equal("Europe/Berlin\n");
      await undoNodeConfig(sys.host, config, { log: sys.log });
      expect(await hostText(sys, "/etc/localtime")).to.equal("old");
    });

    it("fails clearly on a zone the host does not have", async () => {
      sys = await FakeSystem.create({ installed: ["tzdata"] });
      const r = await apply(sys, configOf([{ ...base, id: "tz", kind: "timezone", name: "Mars/Olympus" }]));
      expect(r.error?.message).to.equal("time zone Mars/Olympus is not in /usr/share/zoneinfo on this host");
    });
  });

  describe("containerd", () => {
    const mirrors: HostTask = {
      ...base,
      id: "mirrors",
      kind: "containerdMirrors",
      disruption: "restart-service",
      mirrors: [
        { registry: "docker.io", endpoints: ["https://mirror.gcr.io", "https://docker.m.daocloud.io"] },
        { registry: "_default", endpoints: ["https://cache.internal:5000"] },
      ],
    };

    it("writes hosts.toml per registry and restarts a running containerd only when a file changed", async () => {
      sys = await FakeSystem.create({ live: true });
      await sys.file("/lib/systemd/system/containerd.service", "[Unit]\n");
      sys.active.add("containerd.service");
      const config = configOf([mirrors]);
      await apply(sys, config);
      expect(sys.exec.commands()).to.include("systemctl restart containerd.service");
      await applyIdempotent(sys, config);
      expect(await hostText(sys, "/etc/containerd/certs.d/docker.io/hosts.toml")).to.equal(
        [
          "# Managed by olares-operator (spec.registry.mirrors)",
          'server = "https://registry-1.docker.io"',
          "",
          '[host."https://mirror.gcr.io"]',
          '  capabilities = ["pull", "resolve"]',
          "",
          '[host."https://docker.m.daocloud.io"]',
          '  capabilities = ["pull", "resolve"]',
          "",
        ].join("\n"),
      );
      expect(await hostText(sys, "/etc/containerd/certs.d/_default/hosts.toml")).to.not.contain("server =");
    });

    describe("a registry leaving the list of a task that keeps its id", () => {
      const both: HostTask = { ...mirrors, mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.gcr.io"] }, { registry: "ghcr.io", endpoints: ["https://ghcr.m.example"] }] };
      const dockerOnly: HostTask = { ...mirrors, mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.gcr.io"] }] };
      const exists = (p: string) => sys.host.exists(p);

      it("removes the hosts.toml (and the directory) it created, and restores one that existed before", async () => {
        sys = await FakeSystem.create({ live: true });
        await sys.file("/lib/systemd/system/containerd.service", "[Unit]\n");
        sys.active.add("containerd.service");
        await sys.file("/etc/containerd/certs.d/docker.io/hosts.toml", "# the admin's own\n");
        await apply(sys, configOf([both]));
        expect(await hostText(sys, "/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.contain("ghcr.m.example");
        sys.exec.clear();
        await applyIdempotent(sys, configOf([dockerOnly]));
        expect(await exists("/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.equal(false);
        expect(await exists("/etc/containerd/certs.d/ghcr.io")).to.equal(false);
        expect(await hostText(sys, "/etc/containerd/certs.d/docker.io/hosts.toml")).to.contain("mirror.gcr.io");

        // Dropping docker.io too (empty list) gives the admin's original back.
        sys.exec.clear();
        await apply(sys, configOf([{ ...mirrors, mirrors: [] }]));
        expect(sys.exec.commands()).to.include("systemctl restart containerd.service");
        expect(await hostText(sys, "/etc/containerd/certs.d/docker.io/hosts.toml")).to.equal("# the admin's own\n");
        await applyIdempotent(sys, configOf([{ ...mirrors, mirrors: [] }]));
      });

      it("is undone to the original by cleanup, including a registry re-added later", async () => {
        sys = await FakeSystem.create();
        await sys.file("/etc/containerd/certs.d/ghcr.io/hosts.toml", "# pre-olares ghcr\n");
        await apply(sys, configOf([both]));
        await apply(sys, configOf([dockerOnly]));
        expect(await hostText(sys, "/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.equal("# pre-olares ghcr\n");
        const again = configOf([both]);
        await apply(sys, again);
        expect(await hostText(sys, "/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.contain("ghcr.m.example");
        expect((await undoNodeConfig(sys.host, again, { log: sys.log })).errors).to.deep.equal([]);
        expect(await hostText(sys, "/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.equal("# pre-olares ghcr\n");
        expect(await exists("/etc/containerd/certs.d/docker.io")).to.equal(false);
        expect(await exists(mirrorsRecordPath(mirrors.id))).to.equal(false);
      });

      it("puts the dropped registry back when a later task of the same config fails", async () => {
        sys = await FakeSystem.create();
        sys.failInstall.add("nosuchpkg");
        const v1 = configOf([both]);
        await apply(sys, v1);
        const r = await apply(sys, configOf([dockerOnly, { ...base, id: "pkgs", kind: "packages", names: ["nosuchpkg"] }]));
        expect(r.rolledBack).to.deep.equal([mirrors.id]);
        expect(await hostText(sys, "/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.contain("ghcr.m.example");
        // The record came back too: cleanup still knows ghcr.io is ours and removes it.
        await undoNodeConfig(sys.host, v1, { log: sys.log });
        expect(await exists("/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.equal(false);
      });

      it("finds registries an agent without the record wrote, from their original backups", async () => {
        sys = await FakeSystem.create();
        await apply(sys, configOf([both]));
        await rm(path.join(sys.root, mirrorsRecordPath(mirrors.id)));
        await apply(sys, configOf([dockerOnly]));
        expect(await exists("/etc/containerd/certs.d/ghcr.io/hosts.toml")).to.equal(false);
      });

      it("refuses a tampered record naming a path instead of a registry", async () => {
        sys = await FakeSystem.create();
        await apply(sys, configOf([both]));
        await sys.file(mirrorsRecordPath(mirrors.id), JSON.stringify({ registries: ["../../ssh"] }));
        const r = await apply(sys, configOf([dockerOnly]));
        expect(r.error?.message).to.match(/containerd-mirrors\/mirrors\.json: registries must be a list of host\[:port\] or _default names/);
      });
    });

    describe("containerdNvidiaRuntime", () => {
      const runtime: HostTask = { ...base, id: "rt", kind: "containerdNvidiaRuntime", disruption: "restart-service" };
      const DROPIN = "/etc/containerd/conf.d/99-olares-nvidia.toml";
      // What bootstrap/install.sh writes: the agent must leave it byte-identical.
      const bootstrapConfig = `version = 3\nimports = ["/etc/containerd/conf.d/*.toml"]\n\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/etc/containerd/certs.d'\n`;

      it("writes its own drop-in, never config.toml, restarts containerd only on change, and undoes", async () => {
        sys = await FakeSystem.create({ live: true });
        await sys.file("/lib/systemd/system/containerd.service", "[Unit]\n");
        sys.active.add("containerd.service");
        await sys.file("/usr/bin/nvidia-ctk", "", 0o755);
        await sys.file("/etc/containerd/config.toml", bootstrapConfig);
        const config = configOf([runtime]);
        await apply(sys, config);
        expect(sys.exec.commands()).to.include("systemctl restart containerd.service");
        expect(sys.exec.commands().filter((c) => c.startsWith("nvidia-ctk"))).to.deep.equal([]);
        await applyIdempotent(sys, config);
        expect(await hostText(sys, DROPIN)).to.equal(
          [
            "# Managed by olares-operator (spec.gpu)",
            "version = 3",
            "",
            "[plugins.'io.containerd.cri.v1.runtime'.containerd]",
            '  default_runtime_name = "nvidia"',
            "",
            "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia]",
            '  runtime_type = "io.containerd.runc.v2"',
            "",
            "[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.nvidia.options]",
            '  BinaryName = "/usr/bin/nvidia-container-runtime"',
            "",
          ].join("\n"),
        );
        expect(await hostText(sys, "/etc/containerd/config.toml")).to.equal(bootstrapConfig);
        sys.exec.clear();
        await undoNodeConfig(sys.host, config, { log: sys.log });
        expect(await hostText(sys, DROPIN)).to.equal(undefined);
        expect(await hostText(sys, "/etc/containerd/config.toml")).to.equal(bootstrapConfig);
        expect(sys.exec.commands()).to.include("systemctl restart containerd.service");
      });

      it("reports a drop-in changed behind its back and rewrites it", async () => {
        sys = await FakeSystem.create();
        await sys.file("/etc/containerd/config.toml", bootstrapConfig);
        await apply(sys, configOf([runtime]));
        await sys.file(DROPIN, "version = 3\n", 0o644);
        const r = await apply(sys, configOf([runtime]));
        expect(r.error).to.equal(undefined);
        expect(r.changed).to.deep.equal(["rt"]);
        expect(await hostText(sys, DROPIN)).to.contain('default_runtime_name = "nvidia"');
      });

      it("fails naming config.toml and the fix when it does not import conf.d, leaving it untouched", async () => {
        sys = await FakeSystem.create();
        await sys.file("/etc/containerd/config.toml", "version = 3\n[plugins.x]\n  imports = [\"/etc/containerd/conf.d/*.toml\"]\n");
        const r = await apply(sys, configOf([runtime]));
        expect(r.error?.message).to.match(/\/etc\/containerd\/config\.toml does not import \/etc\/containerd\/conf\.d\/99-olares-nvidia\.toml.*add imports = \["\/etc\/containerd\/conf\.d\/\*\.toml"\]/);
        expect(await hostText(sys, "/etc/containerd/config.toml")).to.equal("version = 3\n[plugins.x]\n  imports = [\"/etc/containerd/conf.d/*.toml\"]\n");
        expect(await hostText(sys, DROPIN)).to.equal(undefined);
      });

      it("fails the same way when config.toml is absent (containerd defaults ignore conf.d)", async () => {
        sys = await FakeSystem.create();
        const r = await apply(sys, configOf([runtime]));
        expect(r.error?.message).to.match(/\/etc\/containerd\/config\.toml is missing.*ignores \/etc\/containerd\/conf\.d\/99-olares-nvidia\.toml.*add imports/);
        expect(await hostText(sys, "/etc/containerd/config.toml")).to.equal(undefined);
      });

      it("accepts an imports line naming the drop-in itself or another glob covering it", () => {
        expect(configImportsFragment(`imports = ['/etc/containerd/conf.d/99-olares-nvidia.toml']\n`)).to.equal(true);
        expect(configImportsFragment(`version = 3\nimports = ["/etc/other/*.toml", "/etc/containerd/conf.d/*"]\n`)).to.equal(true);
        expect(configImportsFragment(`imports = ["/etc/containerd/conf.d/*.conf"]\n`)).to.equal(false);
      });
    });
  });

  describe("binary", () => {
    let server: http.Server;
    let baseUrl: string;
    let requests: number;
    let archive: Buffer;
    const binaryContent = Buffer.from("#!/bin/sh\necho olaresd\n");

    before(async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "olares-bin-"));
      await writeFile(path.join(dir, "olaresd"), binaryContent, { mode: 0o755 });
      await writeFile(path.join(dir, "README"), "not this one\n");
      execFileSync("tar", ["-czf", path.join(dir, "olaresd.tar.gz"), "-C", dir, "README", "olaresd"]);
      archive = execFileSync("cat", [path.join(dir, "olaresd.tar.gz")]);
      await rm(dir, { recursive: true, force: true });
      server = http.createServer((req, res) => {
        requests++;
        if (req.url === "/olaresd-v1.0.0-linux-amd64.tar.gz") res.end(archive);
        else if (req.url === "/olaresd-plain") res.end(binaryContent);
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      requests = 0;
    });

    const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

    it("downloads an archive over loopback, checks its sha256, installs the binary 0755 and skips the download next time", async () => {
      sys = await FakeSystem.create();
      const config = configOf([
        { ...base, id: "olaresd", kind: "binary", path: "/usr/local/bin/olaresd", url: `${baseUrl}/olaresd-v1.0.0-linux-{arch}.tar.gz`, sha256: sha(archive), mode: 0o755 },
      ]);
      await applyIdempotent(sys, config);
      expect(requests).to.equal(1);
      expect(await hostText(sys, "/usr/local/bin/olaresd")).to.equal(binaryContent.toString());
      expect((await stat(path.join(sys.root, "usr/local/bin/olaresd"))).mode & 0o777).to.equal(0o755);
      expect(await detectDrift(sys.host, config)).to.deep.equal([]);
      await writeFile(path.join(sys.root, "usr/local/bin/olaresd"), "tampered");
      expect(await detectDrift(sys.host, config)).to.deep.equal([{ taskId: "olaresd", path: "/usr/local/bin/olaresd", message: "content changed" }]);
    });

    it("refuses a download whose sha256 does not match and installs nothing", async () => {
      sys = await FakeSystem.create();
      const r = await apply(sys, configOf([{ ...base, id: "bin", kind: "binary", path: "/usr/local/bin/tool", url: `${baseUrl}/olaresd-plain`, sha256: "0".repeat(64), mode: 0o755 }]));
      expect(r.error?.message).to.match(/sha256 [0-9a-f]{64} does not match the expected 0{64}/);
      expect(await hostText(sys, "/usr/local/bin/tool")).to.equal(undefined);
    });
  });

  describe("nvidia driver and toolkit", () => {
    const driver: HostTask = { ...base, id: "driver", kind: "nvidiaDriver", version: "570.133.20", disruption: "reboot" };

    it("leaves the driver pending while reboots are not allowed", async () => {
      sys = await FakeSystem.create();
      sys.aptVersions.set("nvidia-driver-570", ["570.133.20-0ubuntu1", "570.124.06-0ubuntu1"]);
      const r = await apply(sys, configOf([driver]));
      expect(r).to.deep.equal({ changed: [], rebootRequired: true, rolledBack: [] });
      expect(sys.exec.commands().some((c) => c.startsWith("apt-get"))).to.equal(false);
    });

    it("installs the pinned driver when reboots are allowed, and is done once that driver is loaded", async () => {
      sys = await FakeSystem.create();
      sys.aptVersions.set("nvidia-driver-570", ["570.144.01-0ubuntu1", "570.133.20-0ubuntu1"]);
      await sys.file("/proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX x86_64 Kernel Module  550.54.14  Thu Feb 22 2024\n");
      const config = configOf([driver]);
      const r = await apply(sys, config, true);
      expect(r).to.deep.equal({ changed: ["driver"], rebootRequired: true, rolledBack: [] });
      expect(sys.exec.commands()).to.include(
        "apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold nvidia-driver-570=570.133.20-0ubuntu1",
      );
      // Not rebooted yet: the old module is still loaded, so the task is still pending.
      expect((await apply(sys, config, false)).rebootRequired).to.equal(true);
      await sys.file("/proc/driver/nvidia/version", "NVRM version: NVIDIA UNIX Open Kernel Module for x86_64  570.133.20  Release Build\n");
      expect(await apply(sys, config, false)).to.deep.equal({ changed: [], rebootRequired: false, rolledBack: [] });
    });

    it("pins every toolkit package to the same version", async () => {
      sys = await FakeSystem.create();
      sys.aptVersions.set("nvidia-container-toolkit", ["1.17.8-1", "1.17.5-1"]);
      await applyIdempotent(sys, configOf([{ ...base, id: "tk", kind: "nvidiaToolkit", version: "1.17.5" }]));
      expect([...sys.packageVersions.entries()]).to.deep.equal([
        ["nvidia-container-toolkit", "1.17.5-1"],
        ["nvidia-container-toolkit-base", "1.17.5-1"],
        ["libnvidia-container-tools", "1.17.5-1"],
        ["libnvidia-container1", "1.17.5-1"],
      ]);
    });
  });

  describe("engine", () => {
    it("rolls back the applied tasks in reverse when a later task fails", async () => {
      sys = await FakeSystem.create();
      await sys.file("/etc/a.conf", "A0\n");
      sys.failInstall.add("nosuchpkg");
      const r = await apply(
        sys,
        configOf([
          { ...base, id: "a", kind: "file", path: "/etc/a.conf", content: "A1\n", mode: 0o644 },
          { ...base, id: "b", kind: "file", path: "/etc/b.conf", content: "B1\n", mode: 0o644 },
          { ...base, id: "pkgs", kind: "packages", names: ["nosuchpkg"] },
          { ...base, id: "c", kind: "file", path: "/etc/c.conf", content: "C1\n", mode: 0o644 },
        ]),
      );
      expect(r.error?.taskId).to.equal("pkgs");
      expect(r.error?.message).to.match(/Unable to locate package nosuchpkg/);
      expect(r.rolledBack).to.deep.equal(["b", "a"]);
      expect(await hostText(sys, "/etc/a.conf")).to.equal("A0\n");
      expect(await hostText(sys, "/etc/b.conf")).to.equal(undefined);
      expect(await hostText(sys, "/etc/c.conf")).to.equal(undefined);
    });

    it("rejects hostile values again at apply, before running or writing anything", async () => {
      sys = await FakeSystem.create();
      const hostile = [
        { ...base, id: "ok", kind: "file", path: "/etc/ok", content: "x", mode: 0o644 },
        { ...base, id: "dns", kind: "resolvConf", nameservers: ["1.1.1.1; rm -rf /"] },
        { ...base, id: "escape", kind: "file", path: "/etc/../root/.ssh/authorized_keys", content: "ssh-rsa evil", mode: 0o600 },
      ] as HostTask[];
      const r = await apply(sys, configOf(hostile));
      expect(r.error?.taskId).to.equal("dns");
      expect(r.error?.message).to.contain('dns.nameservers[0]: "1.1.1.1; rm -rf /" must be an IPv4 or IPv6 address');
      expect(r.error?.message).to.contain("escape.path");
      expect(r.changed).to.deep.equal([]);
      expect(sys.exec.calls).to.deep.equal([]);
      expect(await hostText(sys, "/etc/ok")).to.equal(undefined);
    });

    it("reports drift of managed files: changed and missing", async () => {
      sys = await FakeSystem.create();
      const config = configOf([
        { ...base, id: "sysctl", kind: "sysctl", values: { "vm.swappiness": "10" } },
        { ...base, id: "tz", kind: "file", path: "/etc/timezone", content: "UTC\n", mode: 0o644 },
      ]);
      await apply(sys, config);
      expect(await detectDrift(sys.host, config)).to.deep.equal([]);
      await writeFile(path.join(sys.root, "etc/sysctl.d/90-olares.conf"), "vm.swappiness = 90\n");
      await rm(path.join(sys.root, "etc/timezone"));
      expect(await detectDrift(sys.host, config)).to.deep.equal([
        { taskId: "sysctl", path: "/etc/sysctl.d/90-olares.conf", message: "content changed" },
        { taskId: "tz", path: "/etc/timezone", message: "missing" },
      ]);
      const healed = await apply(sys, config);
      expect(healed.changed).to.deep.equal(["sysctl", "tz"]);
      expect(await detectDrift(sys.host, config)).to.deep.equal([]);
    });

    it("undoes the previous config's tasks that the new config dropped", async () => {
      sys = await FakeSystem.create();
      const motd: HostTask = { ...base, id: "motd", kind: "file", path: "/etc/motd", content: "olares\n", mode: 0o644 };
      const v1 = configOf([motd, { ...base, id: "swap", kind: "swap", sizeMiB: 4, swappiness: 10 }]);
      const v2 = configOf([motd]);
      await apply(sys, v1);
      expect(await hostText(sys, "/etc/sysctl.d/91-olares-swap.conf")).to.contain("vm.swappiness");
      const r = await applyNodeConfig(sys.host, v2, { allowReboot: false, log: sys.log, previous: v1 });
      expect(r).to.deep.equal({ changed: [], rebootRequired: false, rolledBack: [], removed: ["swap"] });
      expect(await hostText(sys, "/etc/sysctl.d/91-olares-swap.conf")).to.equal(undefined);
      expect(await hostText(sys, "/var/lib/olares-agent/swapfile")).to.equal(undefined);
      expect(await hostText(sys, "/etc/motd")).to.equal("olares\n");
    });

    it("leaves to the new config what it still owns: a file, a package, a removed package", async () => {
      sys = await FakeSystem.create({ installed: ["unattended-upgrades"] });
      const v1 = configOf([
        { ...base, id: "motd", kind: "file", path: "/etc/motd", content: "olares\n", mode: 0o644 },
        { ...base, id: "pkgs", kind: "packages", names: ["gcc", "socat"] },
        { ...base, id: "absent", kind: "packagesAbsent", names: ["unattended-upgrades"] },
      ]);
      const v2 = configOf([
        { ...base, id: "motd-renamed", kind: "file", path: "/etc/motd", content: "olares\n", mode: 0o644 },
        { ...base, id: "pkgs-renamed", kind: "packages", names: ["gcc"] },
        { ...base, id: "absent-renamed", kind: "packagesAbsent", names: ["unattended-upgrades"] },
      ]);
      await apply(sys, v1);
      const r = await applyNodeConfig(sys.host, v2, { allowReboot: false, log: sys.log, previous: v1 });
      expect(r.removed).to.deep.equal(["pkgs"]);
      expect(await hostText(sys, "/etc/motd")).to.equal("olares\n");
      expect([...sys.installed].sort()).to.deep.equal(["gcc"]);
    });

    it("keeps the previous config's tasks while a reboot task is held back", async () => {
      sys = await FakeSystem.create();
      const motd: HostTask = { ...base, id: "motd", kind: "file", path: "/etc/motd", content: "olares\n", mode: 0o644 };
      const v1 = configOf([motd]);
      const v2 = configOf([{ ...base, id: "drv", kind: "nvidiaDriver", version: "570", disruption: "reboot" }]);
      await apply(sys, v1);
      const r = await applyNodeConfig(sys.host, v2, { allowReboot: false, log: sys.log, previous: v1 });
      expect(r.rebootRequired).to.equal(true);
      expect(r.removed).to.equal(undefined);
      expect(await hostText(sys, "/etc/motd")).to.equal("olares\n");
    });

    it("reports a dropped task whose undo fails, without failing the new config", async () => {
      sys = await FakeSystem.create();
      const v1 = configOf([{ ...base, id: "pkgs", kind: "packages", names: ["gcc"] }]);
      await apply(sys, v1);
      sys.exec.on(["apt-get", "remove"], { exitCode: 100, stderr: "E: dpkg was interrupted" });
      const v2 = configOf([{ ...base, id: "motd", kind: "file", path: "/etc/motd", content: "x\n", mode: 0o644 }]);
      const r = await applyNodeConfig(sys.host, v2, { allowReboot: false, log: sys.log, previous: v1 });
      expect(r.error).to.equal(undefined);
      expect(r.removed).to.deep.equal([]);
      expect(r.removeErrors?.map((e) => e.taskId)).to.deep.equal(["pkgs"]);
      expect(r.removeErrors?.[0]?.message).to.match(/dpkg was interrupted/);
    });

    it("undo keeps the pre-Olares original across two configs", async () => {
      sys = await FakeSystem.create();
      await sys.file("/etc/motd", "pristine\n");
      const v1 = configOf([{ ...base, id: "motd", kind: "file", path: "/etc/motd", content: "v1\n", mode: 0o644 }]);
      const v2 = configOf([{ ...base, id: "motd", kind: "file", path: "/etc/motd", content: "v2\n", mode: 0o644 }]);
      await apply(sys, v1);
      await apply(sys, v2);
      await undoNodeConfig(sys.host, v2, { log: sys.log });
      expect(await hostText(sys, "/etc/motd")).to.equal("pristine\n");
    });
  });
});
