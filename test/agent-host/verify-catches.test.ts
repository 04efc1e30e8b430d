// For every task kind: when apply "succeeds" but leaves the host as it was, verify must catch it and
// the engine must fail the task (and roll back). Deleting the engine's `await mod.verify(ctx, task)`,
// or a kind's verify that checks nothing, fails here.
import { expect } from "chai";
import { applyNodeConfig } from "../../operator/src/agent/tasks/index.js";
import { TASK_MODULES } from "../../operator/src/agent/tasks/registry.js";
import { HOST_TASK_KINDS, nodeConfigId, type HostTask, type HostTaskKind } from "../../operator/src/contract/index.js";
import { FakeSystem } from "./fake-system.js";

const base = (kind: string, id: string) => ({ kind, id, description: `a ${kind} task`, disruption: "none" as const });

const STORAGE_BACKEND = {
  name: "rootfs",
  storage: "minio" as const,
  bucketUrl: "http://127.0.0.1:9000/olares",
  metaUrl: "redis://127.0.0.1:6379/1",
  cacheDir: "/olares/jfscache",
  cacheSizeMiB: 1024,
  managedRedis: { bind: "127.0.0.1", port: 6379 },
  managedMinio: { address: "127.0.0.1", port: 9000, consolePort: 9001, rootUser: "minioadmin", bucket: "olares" },
};
const STORAGE_CREDENTIALS = { namespace: "olares-system", name: "olares-storage-credentials", hash: "0123456789abcdef" };

/** One realistic task per kind, and the host it runs on. */
const SAMPLES: Record<HostTaskKind, { task: HostTask; installed?: string[]; files?: Record<string, string> }> = {
  file: { task: { ...base("file", "t/file"), kind: "file", path: "/etc/olares/test.conf", content: "a = 1\n", mode: 0o644 } },
  dropin: { task: { ...base("dropin", "t/dropin"), kind: "dropin", unit: "containerd.service", name: "10-olares.conf", content: "[Service]\nLimitNOFILE=1048576\n" } },
  unit: {
    task: { ...base("unit", "t/unit"), kind: "unit", name: "olares-test.service", content: "[Unit]\n[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n", enable: true, state: "started" },
  },
  packages: { task: { ...base("packages", "t/packages"), kind: "packages", names: ["nfs-common"] } },
  packagesAbsent: { task: { ...base("packagesAbsent", "t/absent"), kind: "packagesAbsent", names: ["unattended-upgrades"] }, installed: ["unattended-upgrades"] },
  resolvConf: { task: { ...base("resolvConf", "t/resolv"), kind: "resolvConf", nameservers: ["1.1.1.1"] } },
  timesync: { task: { ...base("timesync", "t/ntp"), kind: "timesync", servers: ["pool.ntp.org"] }, installed: ["systemd-timesyncd"] },
  sshd: { task: { ...base("sshd", "t/sshd"), kind: "sshd", port: 2222, enabled: true }, installed: ["openssh-server"] },
  sysctl: { task: { ...base("sysctl", "t/sysctl"), kind: "sysctl", values: { "vm.max_map_count": "262144" } } },
  swap: { task: { ...base("swap", "t/swap"), kind: "swap", sizeMiB: 256, swappiness: 10 } },
  timezone: { task: { ...base("timezone", "t/tz"), kind: "timezone", name: "Europe/Berlin" }, installed: ["tzdata"] },
  containerdMirrors: { task: { ...base("containerdMirrors", "t/mirrors"), kind: "containerdMirrors", mirrors: [{ registry: "docker.io", endpoints: ["https://mirror.example.com"] }] } },
  containerdNvidiaRuntime: {
    task: { ...base("containerdNvidiaRuntime", "t/nvidia-runtime"), kind: "containerdNvidiaRuntime" },
    files: { "/etc/containerd/config.toml": 'version = 3\nimports = ["/etc/containerd/conf.d/*.toml"]\n' },
  },
  binary: { task: { ...base("binary", "t/binary"), kind: "binary", path: "/usr/local/bin/olares-test", url: "https://dl.example.com/olares-test", sha256: "a".repeat(64), mode: 0o755 } },
  nvidiaDriver: { task: { ...base("nvidiaDriver", "t/driver"), kind: "nvidiaDriver", version: "570" } },
  nvidiaToolkit: { task: { ...base("nvidiaToolkit", "t/toolkit"), kind: "nvidiaToolkit", version: "" } },
  juicefsRootfs: { task: { ...base("juicefsRootfs", "t/juicefs"), kind: "juicefsRootfs", root: "/olares", role: "primary", backend: STORAGE_BACKEND, credentials: STORAGE_CREDENTIALS } },
  storageMigration: {
    task: { ...base("storageMigration", "t/migration"), kind: "storageMigration", migrationId: "m-1", root: "/olares", from: "LocalFS", to: "JuiceFS", backend: STORAGE_BACKEND, credentials: STORAGE_CREDENTIALS, retainPreviousData: true },
  },
  releaseComponent: {
    task: {
      ...base("releaseComponent", "t/component"),
      kind: "releaseComponent",
      component: "olaresd",
      file: { filename: "olaresd-v1.12.1-linux-amd64.tar.gz", path: "pkg/components", amd64: { url: "https://cdn.example.com/0a1b", md5: "a".repeat(32) }, arm64: { url: "https://cdn.example.com/arm64/0a1b", md5: "a".repeat(32) } },
      baseDir: "/var/lib/olares-agent/release",
      install: [{ member: "olaresd", path: "/usr/local/bin/olaresd", mode: 0o755 }],
    },
  },
  imageImport: {
    task: {
      ...base("imageImport", "t/images"),
      kind: "imageImport",
      images: [{ ref: "beclab/app-service:v0.1.0", file: { filename: `${"b".repeat(32)}.tar.gz`, path: "images", amd64: { url: "https://cdn.example.com/img", md5: "c".repeat(32) }, arm64: { url: "https://cdn.example.com/arm64/img", md5: "c".repeat(32) } } }],
      baseDir: "/var/lib/olares-agent/release",
      namespace: "k8s.io",
    },
  },
};

describe("verify catches an apply that changed nothing (every task kind)", () => {
  it("has a sample for every kind", () => {
    expect(Object.keys(SAMPLES).sort()).to.deep.equal([...HOST_TASK_KINDS].sort());
  });

  for (const kind of HOST_TASK_KINDS) {
    it(kind, async () => {
      const { task, installed, files } = SAMPLES[kind];
      const sys = await FakeSystem.create({ live: true, installed: installed ?? [] });
      for (const [path, content] of Object.entries(files ?? {})) await sys.file(path, content);
      const mod = TASK_MODULES[kind] as unknown as { apply: (...a: unknown[]) => Promise<void>; verify: (...a: unknown[]) => Promise<void> };
      const realApply = mod.apply;
      const realVerify = mod.verify;
      let verifyThrew: string | undefined;
      mod.apply = async () => undefined; // "succeeds", changes nothing
      mod.verify = async (...args: unknown[]) => {
        try {
          await realVerify.apply(mod, args);
        } catch (err) {
          verifyThrew = (err as Error).message;
          throw err;
        }
      };
      try {
        const config = { id: nodeConfigId([task]), group: "default", tasks: [task] };
        const result = await applyNodeConfig(sys.host, config, { allowReboot: true, log: sys.log });
        expect(verifyThrew, `verify of ${kind} accepted a host that apply did not change`).to.be.a("string");
        expect(result.error?.taskId).to.equal(task.id);
        expect(result.changed).to.not.include(task.id);
      } finally {
        mod.apply = realApply;
        mod.verify = realVerify;
        await sys.cleanup();
      }
    });
  }
});
