// The README's test command on a fresh machine: `npm ci && npm test` must install and build what the
// tiers need by itself (npm's pretest runs hack/setup.sh), and .ci/run must be exactly that command.
import { expect } from "chai";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "../..");
const read = (p: string) => readFileSync(join(ROOT, p), "utf8");

/** The Debian packages hack/setup.sh installs. */
function setupPackages(): string[] {
  const m = /^packages=\(([^)]*)\)/m.exec(read("hack/setup.sh"));
  return m ? m[1]!.trim().split(/\s+/) : [];
}

describe("fresh-machine setup (hack/setup.sh as npm pretest)", () => {
  it("npm test runs hack/setup.sh first", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(scripts.pretest).to.equal("bash hack/setup.sh");
    expect(scripts.setup).to.equal("bash hack/setup.sh");
  });

  it(".ci/run runs exactly the README's test command", () => {
    const readme = /^npm ci && npm test\b/m.exec(read("README.md"));
    expect(readme, "README shows `npm ci && npm test`").to.not.equal(null);
    const commands = read(".ci/run")
      .split("\n")
      .filter((l) => l.trim() && !l.trim().startsWith("#") && !/^(set|cd) /.test(l.trim()));
    expect(commands).to.deep.equal(["npm ci && npm test"]);
  });

  it("installs every Debian tool a test tier calls", () => {
    const pkgs = setupPackages();
    // tool a tier runs → the package that brings it
    const needed: Record<string, string> = {
      bats: "bats",
      shellcheck: "shellcheck",
      debootstrap: "debootstrap",
      "lua5.1": "lua5.1",
      "lua5.4": "lua5.4",
      zstd: "zstd",
      unzip: "unzip",
      parallel: "parallel",
      "redis-server": "redis-server",
      fusermount3: "fuse3",
      rsync: "rsync",
    };
    expect(pkgs).to.include.members(Object.values(needed));
  });

  it("builds the Go-built tools when their scripts exist, and fetches helm", () => {
    const text = read("hack/setup.sh");
    expect(text).to.include('"$root/hack/fetch-tools.sh"');
    expect(text).to.match(/for tool in controlplane storage-tools/);
    expect(text).to.include('"$script" build');
  });

  it("is shellcheck-clean", () => {
    execFileSync("shellcheck", [join(ROOT, "hack/setup.sh")]);
  });

  it("as non-root without sudo, names the missing packages and fails (no tier silently skips)", () => {
    const stubs = mkdtempSync(join(tmpdir(), "setup-stubs-"));
    try {
      const stub = (name: string, body: string) => {
        writeFileSync(join(stubs, name), `#!/bin/sh\n${body}\n`);
        chmodSync(join(stubs, name), 0o755);
      };
      stub("dpkg-query", 'case "$*" in *lua5.1*|*bats*) exit 1 ;; *) echo "install ok installed" ;; esac');
      stub("id", "echo 1000");
      stub("sudo", "exit 1");
      const res = spawnSync("bash", [join(ROOT, "hack/setup.sh")], { env: { ...process.env, PATH: `${stubs}:/usr/bin:/bin` }, encoding: "utf8" });
      expect(res.status).to.equal(1);
      expect(res.stderr).to.include("missing Debian packages: bats lua5.1");
      expect(res.stderr).to.include("apt-get install -y bats lua5.1");
    } finally {
      rmSync(stubs, { recursive: true, force: true });
    }
  });
});
