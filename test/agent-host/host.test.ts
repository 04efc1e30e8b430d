import { expect } from "chai";
import { lstat, readdir, readFile, readlink, stat } from "node:fs/promises";
import path from "node:path";
import { createExecaExecutor, createHost, hostArgv, HostCommandError } from "../../operator/src/agent/host/index.js";
import { RecordingExecutor } from "../support/recording-executor.js";
import { FakeSystem } from "./fake-system.js";

describe("agent host layer", () => {
  let sys: FakeSystem;
  beforeEach(async () => {
    sys = await FakeSystem.create();
  });
  afterEach(async () => {
    await sys.cleanup();
  });

  it("writes atomically with mode, under the root, leaving no temp file", async () => {
    await sys.host.writeFile("/etc/olares/x.conf", "hello\n", { mode: 0o640 });
    const full = path.join(sys.root, "etc/olares/x.conf");
    expect(await readFile(full, "utf8")).to.equal("hello\n");
    expect((await stat(full)).mode & 0o7777).to.equal(0o640);
    expect(await readdir(path.join(sys.root, "etc/olares"))).to.deep.equal(["x.conf"]);
  });

  it("resolves absolute symlinks inside the root, never in the agent's own filesystem", async () => {
    await sys.file("/run/systemd/resolve/stub-resolv.conf", "nameserver 127.0.0.53\n");
    await sys.link("/etc/resolv.conf", "/run/systemd/resolve/stub-resolv.conf");
    expect(await sys.host.readText("/etc/resolv.conf")).to.equal("nameserver 127.0.0.53\n");
    await sys.link("/etc/escape", "../../../../../../etc/hostname");
    expect(await sys.host.readText("/etc/escape")).to.equal(undefined);
    // A write replaces the link itself, the target stays untouched.
    await sys.host.writeFile("/etc/resolv.conf", "nameserver 1.1.1.1\n", { mode: 0o644 });
    expect((await lstat(path.join(sys.root, "etc/resolv.conf"))).isSymbolicLink()).to.equal(false);
    expect(await readFile(path.join(sys.root, "run/systemd/resolve/stub-resolv.conf"), "utf8")).to.equal("nameserver 127.0.0.53\n");
  });

  it("backs up an existing file once per scope and restores it", async () => {
    await sys.file("/etc/a.conf", "original\n", 0o600);
    await sys.host.backup("/etc/a.conf", "original");
    await sys.host.writeFile("/etc/a.conf", "first\n", { mode: 0o644 });
    await sys.host.backup("/etc/a.conf", "original"); // first call wins
    await sys.host.writeFile("/etc/a.conf", "second\n", { mode: 0o644 });
    expect(await sys.host.listBackups("original")).to.deep.equal(["/etc/a.conf"]);
    expect(await sys.host.restore("/etc/a.conf", "original")).to.equal(true);
    expect(await sys.host.readText("/etc/a.conf")).to.equal("original\n");
    expect((await stat(path.join(sys.root, "etc/a.conf"))).mode & 0o777).to.equal(0o600);
    expect(await sys.host.hasBackup("/etc/a.conf", "original")).to.equal(false);
  });

  it("stamps a path that did not exist, so restore deletes it", async () => {
    await sys.host.backup("/etc/new.conf", "abc123");
    await sys.host.writeFile("/etc/new.conf", "x", { mode: 0o644 });
    const meta = await readFile(path.join(sys.root, "var/lib/olares-agent/backup/abc123/etc/new.conf.olares-meta.json"), "utf8");
    expect(JSON.parse(meta)).to.deep.equal({ type: "none" });
    await sys.host.restore("/etc/new.conf", "abc123");
    expect(await sys.host.exists("/etc/new.conf")).to.equal(false);
  });

  it("restores and keeps the backup when asked to", async () => {
    await sys.file("/etc/a.conf", "original\n");
    await sys.host.backup("/etc/a.conf", "original");
    await sys.host.writeFile("/etc/a.conf", "ours\n", { mode: 0o644 });
    expect(await sys.host.restore("/etc/a.conf", "original", { keep: true })).to.equal(true);
    expect(await sys.host.readText("/etc/a.conf")).to.equal("original\n");
    expect(await sys.host.hasBackup("/etc/a.conf", "original")).to.equal(true);
  });

  it("removes a directory only when it is empty", async () => {
    await sys.file("/etc/containerd/certs.d/a/hosts.toml", "x");
    await sys.host.removeEmptyDir("/etc/containerd/certs.d/a");
    expect(await sys.host.exists("/etc/containerd/certs.d/a/hosts.toml")).to.equal(true);
    await sys.host.remove("/etc/containerd/certs.d/a/hosts.toml");
    await sys.host.removeEmptyDir("/etc/containerd/certs.d/a");
    expect(await sys.host.exists("/etc/containerd/certs.d/a")).to.equal(false);
    await sys.host.removeEmptyDir("/etc/containerd/certs.d/missing");
  });

  it("backs up and restores a symlink as a symlink", async () => {
    await sys.link("/etc/resolv.conf", "../run/systemd/resolve/stub-resolv.conf");
    await sys.host.backup("/etc/resolv.conf", "original");
    await sys.host.writeFile("/etc/resolv.conf", "nameserver 9.9.9.9\n", { mode: 0o644 });
    await sys.host.restore("/etc/resolv.conf", "original");
    expect(await readlink(path.join(sys.root, "etc/resolv.conf"))).to.equal("../run/systemd/resolve/stub-resolv.conf");
  });

  it("rejects backup scopes and paths that could escape", async () => {
    let err: unknown;
    try {
      await sys.host.backup("/etc/a", "../x");
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/backup scope/);
  });

  it("prefixes host commands per mode, as argv arrays", () => {
    expect(hostArgv("chroot", "/host", ["systemctl", "enable", "ssh.service"])).to.deep.equal(["chroot", "/host", "systemctl", "enable", "ssh.service"]);
    expect(hostArgv("nsenter", "/host", ["apt-get", "install", "-y", "gcc"])).to.deep.equal([
      "nsenter", "-t", "1", "-m", "-u", "-i", "-n", "-p", "--", "apt-get", "install", "-y", "gcc",
    ]);
    expect(hostArgv("direct", "/tmp/x", ["true"])).to.deep.equal(["true"]);
  });

  it("runs real commands as argv with captured output, exit codes, timeouts and no shell", async () => {
    const exec = createExecaExecutor();
    expect(await exec.run(["sh", "-c", "echo out; echo err >&2; exit 3"])).to.deep.equal({ exitCode: 3, stdout: "out\n", stderr: "err\n", timedOut: false });
    expect(await exec.run(["echo", "1.1.1.1; rm -rf /"])).to.include({ exitCode: 0, stdout: "1.1.1.1; rm -rf /\n" });
    expect(await exec.run(["sleep", "5"], { timeoutMs: 100 })).to.include({ timedOut: true });
    expect((await exec.run(["olares-no-such-command"])).exitCode).to.equal(127);
  });

  it("runChecked throws a HostCommandError naming the command and its stderr", async () => {
    const exec = new RecordingExecutor().on(["chroot", sys.root, "false"], { exitCode: 1, stderr: "boom" });
    const host = createHost({ root: sys.root, exec, mode: "chroot" });
    let err: unknown;
    try {
      await host.runChecked(["false"]);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(HostCommandError);
    expect((err as Error).message).to.equal("false exited 1: boom");
    expect(exec.commands()).to.deep.equal([`chroot ${sys.root} false`]);
  });

  it("detects apt and installs non-interactively without recommends", async () => {
    expect(await sys.host.packages.kind()).to.equal("apt");
    await sys.host.packages.install(["gcc", "make"]);
    const call = sys.exec.calls.find((c) => c.argv[0] === "apt-get")!;
    expect(call.argv).to.include("--no-install-recommends");
    expect(call.argv.slice(-2)).to.deep.equal(["gcc", "make"]);
    expect(call.opts.env).to.deep.equal({ DEBIAN_FRONTEND: "noninteractive" });
    expect(await sys.host.packages.installed(["gcc", "curl"])).to.deep.equal(["gcc"]);
  });

  it("refreshes the package lists once when an install fails, then reports the failure", async () => {
    sys.failInstall.add("nosuchpkg");
    let err: unknown;
    try {
      await sys.host.packages.install(["nosuchpkg"]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/Unable to locate package nosuchpkg/);
    expect(sys.exec.commands().filter((c) => c.startsWith("apt-get"))).to.have.length(3);
    expect(sys.exec.commands()).to.include("apt-get update -q -o DPkg::Lock::Timeout=300");
  });

  it("maps Debian names for dnf hosts and queries rpm", async () => {
    const rpm = await FakeSystem.create({ manager: "dnf" });
    try {
      expect(await rpm.host.packages.kind()).to.equal("dnf");
      await rpm.host.packages.install(["conntrack", "gcc"]);
      expect(rpm.exec.commands()).to.include("dnf install -y conntrack-tools gcc");
    } finally {
      await rpm.cleanup();
    }
  });

  it("refuses package names that are not package names", async () => {
    let err: unknown;
    try {
      await sys.host.packages.install(["gcc; rm -rf /"]);
    } catch (e) {
      err = e;
    }
    expect(String(err)).to.match(/is not a package name/);
    expect(sys.exec.calls).to.have.length(0);
  });

  it("uses offline systemctl --root when systemd does not run, and skips start", async () => {
    expect(await sys.host.systemd.live()).to.equal(false);
    await sys.host.systemd.enable("ssh.service");
    await sys.host.systemd.start("ssh.service");
    expect(sys.exec.commands()).to.deep.equal([`systemctl --root=${sys.root} enable ssh.service`]);
  });

  it("uses live systemctl when systemd runs", async () => {
    const live = await FakeSystem.create({ live: true });
    try {
      await live.host.systemd.enable("ssh.service");
      await live.host.systemd.restart("ssh.service");
      expect(live.exec.commands()).to.deep.equal(["systemctl enable ssh.service", "systemctl restart ssh.service"]);
      expect(await live.host.liveKernel()).to.equal(true);
    } finally {
      await live.cleanup();
    }
  });

  it("finds executables on the host, not in the agent image", async () => {
    await sys.file("/usr/sbin/sshd", "", 0o755);
    await sys.link("/sbin", "usr/sbin");
    expect(await sys.host.which("sshd")).to.equal("/usr/sbin/sshd");
    expect(await sys.host.which("nvidia-ctk")).to.equal(undefined);
  });
});
