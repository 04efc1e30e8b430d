import { expect } from "chai";
import {
  isAllowedPath,
  isDownloadUrl,
  isHostname,
  isIP,
  nodeConfigId,
  validateHostTask,
  validateHostTasks,
  type HostTask,
} from "../../operator/src/contract/index.js";

const base = { id: "t", description: "d", disruption: "none" as const };
const SHA = "a".repeat(64);

describe("host task validation", () => {
  it("accepts well-formed tasks of every kind", () => {
    const tasks: HostTask[] = [
      { ...base, id: "f", kind: "file", path: "/etc/olares/x.env", content: "A=1\n", mode: 0o644 },
      { ...base, id: "d", kind: "dropin", unit: "containerd.service", name: "50-olares.conf", content: "[Service]\n" },
      { ...base, id: "u", kind: "unit", name: "olaresd.service", content: "[Unit]\n", enable: true, state: "started", restartOnChange: ["f"] },
      { ...base, id: "p", kind: "packages", names: ["gcc", "libstdc++6", "g++-12"] },
      { ...base, id: "r", kind: "resolvConf", nameservers: ["1.1.1.1", "2606:4700:4700::1111", "::ffff:10.0.0.1"] },
      { ...base, id: "n", kind: "timesync", servers: ["pool.ntp.org", "10.0.0.1"] },
      { ...base, id: "s", kind: "sshd", port: 2222, passwordAuthentication: false, enabled: true },
      { ...base, id: "s2", kind: "sshd", port: 22, enabled: true },
      { ...base, id: "pa", kind: "packagesAbsent", names: ["unattended-upgrades"] },
      { ...base, id: "k", kind: "sysctl", values: { "vm.max_map_count": "262144", "net.ipv4.ip_local_port_range": "32768 60999" } },
      { ...base, id: "w", kind: "swap", sizeMiB: 1024, swappiness: 10 },
      { ...base, id: "z", kind: "timezone", name: "America/Argentina/Buenos_Aires" },
      { ...base, id: "m", kind: "containerdMirrors", mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.gcr.io"] }, { registry: "registry.local:5000", endpoints: ["https://[::1]:5001/v2"] }] },
      { ...base, id: "c", kind: "containerdNvidiaRuntime" },
      { ...base, id: "b", kind: "binary", path: "/usr/local/bin/olaresd", url: "https://example.com/olaresd-{arch}.tar.gz", sha256: SHA, mode: 0o755 },
      { ...base, id: "v", kind: "nvidiaDriver", version: "570.133.20", disruption: "reboot" },
      { ...base, id: "x", kind: "nvidiaToolkit", version: "1.17.8-1" },
    ];
    expect(validateHostTasks(tasks)).to.deep.equal([]);
  });

  const hostile: Array<[string, HostTask, RegExp]> = [
    ["a nameserver with a shell tail", { ...base, kind: "resolvConf", nameservers: ["1.1.1.1; rm -rf /"] }, /t\.nameservers\[0\]: "1\.1\.1\.1; rm -rf \/" must be an IPv4 or IPv6 address/],
    ["more than three nameservers", { ...base, kind: "resolvConf", nameservers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "9.9.9.9"] }, /must be a list of 1 to 3/],
    ["an NTP server with a newline", { ...base, kind: "timesync", servers: ["pool.ntp.org\nserver evil"] }, /host name or IP/],
    ["a package with an option", { ...base, kind: "packages", names: ["--allow-unauthenticated"] }, /must be a package name/],
    ["a package with a command", { ...base, kind: "packages", names: ["gcc;reboot"] }, /must be a package name/],
    ["a package to remove with an option", { ...base, kind: "packagesAbsent", names: ["-y", "unattended-upgrades"] }, /t\.names\[0\]: "-y" must be a package name/],
    ["an empty list of packages to remove", { ...base, kind: "packagesAbsent", names: [] }, /t\.names: .* must be a list of 1 to 64 entries/],
    ["a password setting that is not a boolean", { ...base, kind: "sshd", port: 22, passwordAuthentication: "no" as unknown as boolean, enabled: true }, /passwordAuthentication: "no" must be a boolean or unset/],
    ["a port out of range", { ...base, kind: "sshd", port: 70000, passwordAuthentication: false, enabled: true }, /integer port/],
    ["a path outside the allowed roots", { ...base, kind: "file", path: "/root/.ssh/authorized_keys", content: "k", mode: 0o600 }, /plain absolute path under/],
    ["a path climbing out", { ...base, kind: "file", path: "/etc/../root/x", content: "k", mode: 0o600 }, /plain absolute path/],
    ["a path with a space", { ...base, kind: "file", path: "/etc/a b", content: "k", mode: 0o600 }, /plain absolute path/],
    ["a sysctl value with a command", { ...base, kind: "sysctl", values: { "kernel.core_pattern": "|/bin/sh -c evil" } }, /value must be/],
    ["a sysctl value with a newline", { ...base, kind: "sysctl", values: { "vm.swappiness": "10\nkernel.x = 1" } }, /value must be/],
    ["a sysctl key that climbs", { ...base, kind: "sysctl", values: { "../../etc/passwd": "1" } }, /key must match/],
    ["a plain http download", { ...base, kind: "binary", path: "/usr/local/bin/x", url: "http://example.com/x", sha256: SHA, mode: 0o755 }, /https URL/],
    ["a download without checksum", { ...base, kind: "binary", path: "/usr/local/bin/x", url: "https://example.com/x", mode: 0o755 }, /sha256: \(unset\) is required/],
    ["a bad checksum", { ...base, kind: "binary", path: "/usr/local/bin/x", url: "https://example.com/x", sha256: "abc", mode: 0o755 }, /64 lowercase hex/],
    ["a mirror with a quote", { ...base, kind: "containerdMirrors", mirrors: [{ registry: "docker.io", endpoints: ['https://m.example/"]\n[evil'] }] }, /https URL/],
    ["a mirror registry with a path", { ...base, kind: "containerdMirrors", mirrors: [{ registry: "../../etc", endpoints: ["https://m.example"] }] }, /host\[:port\]/],
    ["a time zone that climbs", { ...base, kind: "timezone", name: "../../../etc/shadow" }, /IANA time zone/],
    ["a driver version with a glob", { ...base, kind: "nvidiaDriver", version: "570*" }, /driver branch or version/],
    ["a unit name with a path", { ...base, kind: "unit", name: "../../x.service", enable: true, state: "started" }, /systemd unit name/],
    ["an unknown kind", { ...base, kind: "shell", command: "rm -rf /" } as unknown as HostTask, /kind: "shell" must be one of/],
    ["a disruption that does not exist", { ...base, disruption: "whenever", kind: "containerdNvidiaRuntime" } as unknown as HostTask, /disruption/],
  ];
  for (const [what, task, message] of hostile) {
    it(`rejects ${what}`, () => {
      const errors = validateHostTask(task);
      expect(errors.join("\n")).to.match(message);
    });
  }

  it("checks ids are unique and restartOnChange names a task of the config", () => {
    const tasks: HostTask[] = [
      { ...base, kind: "containerdNvidiaRuntime" },
      { ...base, kind: "containerdNvidiaRuntime" },
      { ...base, id: "u", kind: "unit", name: "a.service", enable: true, state: "started", restartOnChange: ["nope"] },
    ];
    expect(validateHostTasks(tasks)).to.deep.equal(['t.id: duplicate task id', 'u.restartOnChange: "nope" is not a task id of this config']);
  });

  it("refuses a package one task installs and another removes", () => {
    const tasks: HostTask[] = [
      { ...base, id: "p", kind: "packages", names: ["curl", "unattended-upgrades"] },
      { ...base, id: "a", kind: "packagesAbsent", names: ["unattended-upgrades"] },
    ];
    expect(validateHostTasks(tasks)).to.deep.equal(['a.names: "unattended-upgrades" must not also be installed by task p']);
  });

  it("knows addresses, host names, paths and download URLs", () => {
    expect(["10.0.0.1", "::1", "fe80::1", "2001:db8::8a2e:370:7334", "::ffff:192.0.2.1"].every(isIP)).to.equal(true);
    expect(["256.1.1.1", "1.1.1", "01.1.1.1", "1:2:3:4:5:6:7:8:9", "::1::", "1.1.1.1 "].some(isIP)).to.equal(false);
    expect(isHostname("time.cloudflare.com")).to.equal(true);
    expect(isHostname("-bad.example")).to.equal(false);
    expect(isAllowedPath("/olares/data/x")).to.equal(true);
    expect(isAllowedPath("/etcetera/x")).to.equal(false);
    expect(isDownloadUrl("http://127.0.0.1:8080/x")).to.equal(true);
    expect(isDownloadUrl("https://user:pw@example.com/x")).to.equal(false);
    expect(isDownloadUrl("file:///etc/passwd")).to.equal(false);
  });

  it("gives a config id that depends on content only, not key order", () => {
    const a: HostTask[] = [{ ...base, kind: "timezone", name: "UTC" }];
    const b = [{ name: "UTC", kind: "timezone", disruption: "none", description: "d", id: "t" }] as unknown as HostTask[];
    expect(nodeConfigId(a)).to.match(/^[0-9a-f]{10}$/);
    expect(nodeConfigId(a)).to.equal(nodeConfigId(b));
    expect(nodeConfigId(a)).to.not.equal(nodeConfigId([{ ...base, kind: "timezone", name: "Europe/Berlin" } as HostTask]));
  });
});
