// One simulated node for the storage tier: a scratch Olares root, unit and config directories, the
// unit runner standing in for systemd, free loopback ports, generated secrets and migration plans.
import { execa } from "execa";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createExecaExecutor } from "../../../operator/src/agent/host/exec.js";
import { createHost } from "../../../operator/src/agent/host/host.js";
import type { Host } from "../../../operator/src/agent/host/types.js";
import {
  JUICEFS_UNIT,
  MINIO_UNIT,
  REDIS_UNIT,
  objectStoreFromBucketUrl,
  redactRedisUrl,
  type Binaries,
  type MigrationPlan,
  type ServicePaths,
  type StorageType,
} from "../../../operator/src/agent/storage/index.js";
import { UnitRunner } from "../../support/unit-runner.js";
import { storageTools } from "./tools.js";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export const secret = (n = 24) => randomBytes(n).toString("base64url").slice(0, n);

export interface ExternalStore {
  endpoint: string;
  bucket: string;
  accessKey: string;
  secretKey: string;
  stop(): Promise<void>;
}

export class StorageNode {
  readonly host: Host;
  readonly runner: UnitRunner;
  readonly paths: ServicePaths;
  readonly bins: Binaries;
  readonly root: string;
  readonly redisPassword = secret();
  readonly minioPassword = secret();
  private externals: ExternalStore[] = [];

  private constructor(
    readonly base: string,
    readonly ports: { redis: number; minio: number; console: number },
  ) {
    const tools = storageTools();
    this.root = path.join(base, "olares");
    this.host = createHost({ root: "/", mode: "direct", exec: createExecaExecutor() });
    this.paths = {
      unitDir: path.join(base, "etc/systemd/system"),
      k3sDropIn: path.join(base, "etc/systemd/system/k3s.service.d/10-olares-juicefs.conf"),
      minioEnv: path.join(base, "etc/default/minio"),
      juicefsEnv: path.join(base, "etc/olares/juicefs.env"),
    };
    this.runner = new UnitRunner({ unitDir: this.paths.unitDir, stateDir: path.join(base, "run/units") });
    this.bins = { redisServer: tools.redisServer, minio: tools.minio, juicefs: tools.juicefs };
  }

  static async create(opts: { base?: string } = {}): Promise<StorageNode> {
    const base = opts.base ?? (await fs.mkdtemp(path.join(os.tmpdir(), "olares-storage-")));
    const node = new StorageNode(base, { redis: await freePort(), minio: await freePort(), console: await freePort() });
    await fs.mkdir(path.join(node.root, "rootfs"), { recursive: true });
    return node;
  }

  get metaUrl(): string {
    return `redis://127.0.0.1:${this.ports.redis}/1`;
  }

  /** A LocalFS → JuiceFS (or back) plan on managed Redis + MinIO, or on an external store. */
  plan(from: StorageType, to: StorageType, o: { id?: string; external?: ExternalStore; cacheSizeMiB?: number; name?: string } = {}): MigrationPlan {
    const ext = o.external;
    const bucketUrl = ext ? `${ext.endpoint}/${ext.bucket}` : `http://127.0.0.1:${this.ports.minio}/olares`;
    const accessKey = ext ? ext.accessKey : "minioadmin";
    const secretKey = ext ? ext.secretKey : this.minioPassword;
    return {
      id: o.id ?? `${from}-to-${to}`,
      root: this.root,
      from,
      to,
      juicefs: {
        name: o.name ?? "rootfs",
        storage: "minio",
        bucketUrl,
        accessKey,
        secretKey,
        metaUrl: this.metaUrl,
        metaPassword: this.redisPassword,
        cacheSizeMiB: o.cacheSizeMiB ?? 1024,
        binary: this.bins.juicefs,
      },
      managed: {
        redis: { bind: "127.0.0.1", port: this.ports.redis, password: this.redisPassword },
        ...(ext ? {} : { minio: { address: "127.0.0.1", port: this.ports.minio, consolePort: this.ports.console, rootUser: "minioadmin", rootPassword: this.minioPassword, bucket: "olares" } }),
      },
      objectStore: objectStoreFromBucketUrl(bucketUrl, { accessKeyId: accessKey, secretAccessKey: secretKey }),
      binaries: this.bins,
      servicePaths: this.paths,
      retryDelayMs: 500,
    };
  }

  /** A second, independent MinIO with its own credentials: the "external S3-compatible endpoint". */
  async externalStore(bucket = "external-olares"): Promise<ExternalStore> {
    const port = await freePort();
    const dir = path.join(this.base, `external-minio-${port}`);
    await fs.mkdir(dir, { recursive: true });
    const accessKey = `ext-${secret(8)}`;
    const secretKey = secret(32);
    const child = execa(this.bins.minio, ["server", "--address", `127.0.0.1:${port}`, "--console-address", `127.0.0.1:${await freePort()}`, dir], {
      env: { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: "off" },
      reject: false,
      stdio: "ignore",
      detached: true,
    });
    const endpoint = `http://127.0.0.1:${port}`;
    // Registered before it is known to be ready, so cleanup stops it even when start-up fails.
    const stop = async () => {
      child.kill("SIGKILL");
      await child;
    };
    this.externals.push({ endpoint, bucket, accessKey, secretKey, stop });
    for (let i = 0; ; i++) {
      const ok = await fetch(`${endpoint}/minio/health/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      if (i > 150) throw new Error("external MinIO did not become ready");
      await new Promise((r) => setTimeout(r, 100));
    }
    // The bucket exists already, as it would at a provider.
    const { probeObjectStore } = await import("../../../operator/src/agent/storage/index.js");
    // "ready" can come before MinIO has initialized its drive (503 XMinioServerNotInitialized): retry.
    for (let i = 0; ; i++) {
      try {
        await probeObjectStore({ endpoint, bucket, credentials: { accessKeyId: accessKey, secretAccessKey: secretKey } }, { createBucket: true });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 150));
      }
    }
    return this.externals.at(-1)!;
  }

  /** A simulated reboot: every unit dies (no ExecStop), mounts go, then enabled units start in order. */
  async reboot(): Promise<void> {
    for (const u of [JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT]) await this.runner.crash(u);
    await this.unmountAll();
    await this.runner.boot([REDIS_UNIT, MINIO_UNIT, JUICEFS_UNIT]);
  }

  async juicefsMounts(): Promise<string[]> {
    const r = await execa("findmnt", ["-rn", "-t", "fuse.juicefs", "-o", "TARGET"], { reject: false });
    return String(r.stdout).split("\n").filter((t) => t.startsWith(this.base));
  }

  async unmountAll(): Promise<void> {
    for (const m of (await this.juicefsMounts()).reverse()) {
      await execa("fusermount3", ["-u", "-z", m], { reject: false });
    }
    const tmpfs = await execa("findmnt", ["-rn", "-o", "TARGET"], { reject: false });
    for (const m of String(tmpfs.stdout).split("\n").filter((t) => t.startsWith(this.base)).reverse()) await execa("umount", ["-l", m], { reject: false });
  }

  /** Stops every unit and external store, kills any juicefs client of ours, unmounts, removes the scratch tree. */
  async cleanup(): Promise<void> {
    for (const u of [JUICEFS_UNIT, MINIO_UNIT, REDIS_UNIT]) await this.runner.stop(u).catch(() => this.runner.crash(u));
    for (const e of this.externals) await e.stop().catch(() => {});
    await this.unmountAll();
    // Background `juicefs mount -d` daemons of ours (staging mounts) exit on unmount; make sure.
    const ps = await execa("pgrep", ["-f", `juicefs.*${this.base}`], { reject: false });
    for (const pid of String(ps.stdout).split("\n").filter(Boolean)) {
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        // gone
      }
    }
    await fs.rm(this.base, { recursive: true, force: true }).catch(() => {});
  }

  redacted(): string {
    return redactRedisUrl(this.metaUrl);
  }
}
