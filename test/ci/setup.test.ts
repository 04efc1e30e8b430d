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

  it("builds the Go-built tools in the background when their scripts exist, and fetches helm", () => {
    const text = read("hack/setup.sh");
    expect(text).to.include('"$root/hack/fetch-tools.sh"');
    expect(text).to.match(/^builds=\(velero-tools storage-tools controlplane containerd-tools\)$/m);
    expect(text).to.include("setsid nohup");
    for (const tool of ["velero-tools", "storage-tools", "controlplane", "containerd-tools"]) expect(readFileSync(join(ROOT, `hack/${tool}.sh`), "utf8")).to.match(/build_lock "\$cache/);
  });

  it("a second build waits for the first on the build lock (real flock), then runs alone", () => {
    const dir = mkdtempSync(join(tmpdir(), "build-lock-"));
    try {
      const script = `source ${JSON.stringify(join(ROOT, "hack/lib/build-lock.sh"))}; build_lock ${dir}/.lock "$1"; echo "$1 in" >>${dir}/trace; sleep "$2"; echo "$1 out" >>${dir}/trace`;
      const first = spawnSync("bash", ["-c", `bash -c '${script}' _ first 1 & sleep 0.2; bash -c '${script}' _ second 0; wait`], { encoding: "utf8" });
      expect(first.status).to.equal(0);
      expect(readFileSync(join(dir, "trace"), "utf8").trim().split("\n")).to.deep.equal(["first in", "first out", "second in", "second out"]);
      expect(first.stderr).to.include("second: another build holds");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("npm test runs every test file once, tool-free tiers first, each tool tier after the build it waits for", async () => {
    const { createRequire } = await import("node:module");
    const order = createRequire(import.meta.url)(join(ROOT, "hack/test-order.cjs")) as { orderedSpec(): string[]; namesFiles(argv: string[]): boolean };
    const spec = order.orderedSpec();
    expect(order.namesFiles([])).to.equal(false);
    expect(order.namesFiles(["--grep", "x", "test/cluster/**/*.test.ts"])).to.equal(true);
    const all = execFileSync("find", ["test", "-name", "*.test.ts"], { cwd: ROOT, encoding: "utf8" }).trim().split("\n").sort();
    expect([...spec].sort()).to.deep.equal(all);
    const at = (f: string) => spec.indexOf(f);
    const waits = ["velero-tools", "storage-tools", "controlplane", "containerd-tools"].map((t) => at(`test/tools/${t}.test.ts`));
    const firstToolFile = Math.min(...waits);
    // the wait files lead their tiers, in setup's build order, and each tier's users come after them
    expect(waits).to.deep.equal([...waits].sort((a, b) => a - b));
    expect(at("test/e2e/lifecycle.test.ts")).to.be.greaterThan(at("test/tools/velero-tools.test.ts"));
    expect(at("test/storage/engine.test.ts")).to.be.greaterThan(at("test/tools/storage-tools.test.ts"));
    expect(at("test/tools/controlplane.test.ts")).to.be.greaterThan(at("test/storage/engine.test.ts"));
    expect(at("test/cluster/e2e.test.ts")).to.be.greaterThan(at("test/tools/controlplane.test.ts"));
    expect(at("test/release/image-import.test.ts")).to.be.greaterThan(at("test/tools/containerd-tools.test.ts"));
    // a file that needs no Go-built tool runs before every tool tier
    for (const f of ["test/api/validate-cli.test.ts", "test/simulator/ssa.test.ts", "test/render/storage-juicefs.test.ts"]) expect(at(f), f).to.be.lessThan(firstToolFile);
    expect(JSON.parse(read("package.json")).scripts.test).to.equal("mocha");
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
