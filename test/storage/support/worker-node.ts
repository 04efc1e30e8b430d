// A second (third, …) node for the storage tier on this one machine. Every node of an Olares has the same
// root path (spec.storage.rootPath), so a worker gets its own mount namespace (unshare -m, private
// propagation) in which its own scratch directory is bind-mounted over that path: its agent's commands
// (rsync, findmnt, juicefs, the units' lines) run in there through nsenter, and its file operations go
// through /proc/<pid>/root, which resolves in that namespace. Its FUSE mounts are its own; the network
// is shared, so it reaches the primary's Redis/MinIO at the primary's node address as a real worker does.
import { execa } from "execa";
import { spawn, type ChildProcess } from "node:child_process";
import { promises as fs, readlinkSync } from "node:fs";
import path from "node:path";
import { createExecaExecutor } from "../../../operator/src/agent/host/exec.js";
import { createHost } from "../../../operator/src/agent/host/host.js";
import type { Executor, Host } from "../../../operator/src/agent/host/types.js";
import { JUICEFS_UNIT, type Binaries, type ServicePaths } from "../../../operator/src/agent/storage/index.js";
import { UnitRunner } from "../../support/unit-runner.js";
import { storageTools } from "./tools.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class WorkerNode {
  readonly host: Host;
  readonly runner: UnitRunner;
  readonly paths: ServicePaths;
  readonly bins: Binaries;

  private constructor(
    readonly name: string,
    /** Where the worker's files really are (in every namespace). */
    readonly base: string,
    /** The shared root path, which in the worker's namespace is its own base/olares. */
    readonly root: string,
    private readonly holder: ChildProcess,
  ) {
    const pid = holder.pid!;
    const wrap = (argv: readonly string[]) => ["nsenter", "-t", String(pid), "-m", "--", ...argv];
    const inner = createExecaExecutor();
    const exec: Executor = { run: (argv, o) => inner.run(wrap(argv), o) };
    this.host = createHost({ root: `/proc/${pid}/root`, mode: "direct", exec });
    this.paths = {
      unitDir: path.join(base, "etc/systemd/system"),
      k3sDropIn: path.join(base, "etc/systemd/system/k3s.service.d/10-olares-juicefs.conf"),
      minioEnv: path.join(base, "etc/default/minio"),
      juicefsEnv: path.join(base, "etc/olares/juicefs.env"),
    };
    this.runner = new UnitRunner({ unitDir: this.paths.unitDir, stateDir: path.join(base, "run/units"), wrap });
    const tools = storageTools();
    this.bins = { redisServer: tools.redisServer, minio: tools.minio, juicefs: tools.juicefs };
  }

  /** A mount namespace with `base/olares` over `root`; `root` must exist in the main namespace. */
  static async create(name: string, root: string, base: string): Promise<WorkerNode> {
    await fs.mkdir(path.join(base, "olares/rootfs"), { recursive: true });
    const holder = spawn("unshare", ["-m", "--propagation", "private", "sleep", "infinity"], { stdio: "ignore", detached: true });
    holder.unref();
    const own = readlinkSync("/proc/self/ns/mnt");
    for (let i = 0; ; i++) {
      const ns = holder.pid ? await fs.readlink(`/proc/${holder.pid}/ns/mnt`).catch(() => own) : own;
      if (ns !== own) break;
      if (i > 100) throw new Error("unshare -m did not give the worker its own mount namespace");
      await sleep(20);
    }
    const r = await execa("nsenter", ["-t", String(holder.pid), "-m", "--", "mount", "--bind", path.join(base, "olares"), root], { reject: false });
    if (r.exitCode !== 0) {
      holder.kill("SIGKILL");
      throw new Error(`bind mount of the worker's root failed: ${r.stderr}`);
    }
    return new WorkerNode(name, base, root, holder);
  }

  /** A path of this node's host, as the test process can read it. */
  local(p: string): string {
    return this.host.hostPath(p);
  }

  get rootfs(): string {
    return this.local(path.join(this.root, "rootfs"));
  }

  async juicefsMounts(): Promise<string[]> {
    const r = await this.host.run(["findmnt", "-rn", "-t", "fuse.juicefs", "-o", "TARGET"]);
    return r.stdout.split("\n").filter((t) => t.startsWith(this.root));
  }

  async cleanup(): Promise<void> {
    await this.runner.stop(JUICEFS_UNIT).catch(() => this.runner.crash(JUICEFS_UNIT));
    for (const m of (await this.juicefsMounts().catch(() => [])).reverse()) await this.host.run(["fusermount3", "-u", "-z", m]);
    this.holder.kill("SIGKILL");
    await fs.rm(this.base, { recursive: true, force: true }).catch(() => {});
  }
}
