// A real containerd 2.x (built from github.com/containerd/containerd/v2 by hack/containerd-tools.sh,
// cached) running as root on a temp root/state/socket with the native snapshotter and the CRI plugins
// off: what the image-import tier imports into with the real ctr.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT } from "../e2e/tools.js";

export interface Containerd {
  dir: string;
  address: string;
  ctr: string;
  /** `ctr` against this containerd, namespace k8s.io. */
  ctrRun(args: string[]): string;
  stop(): Promise<void>;
}

export function containerdTools(): { containerd: string; ctr: string } {
  const script = join(ROOT, "hack/containerd-tools.sh");
  execFileSync(script, ["build"], { stdio: ["ignore", "ignore", "inherit"] });
  const path = (tool: string) => execFileSync(script, ["path", tool]).toString().trim();
  return { containerd: path("containerd"), ctr: path("ctr") };
}

export async function startContainerd(): Promise<Containerd> {
  if (process.getuid?.() !== 0) throw new Error("the image-import tier runs containerd, which needs root");
  const tools = containerdTools();
  const dir = mkdtempSync(join(tmpdir(), "olares-containerd-"));
  const address = join(dir, "containerd.sock");
  const config = join(dir, "config.toml");
  writeFileSync(
    config,
    [
      "version = 3",
      `root = ${JSON.stringify(join(dir, "root"))}`,
      `state = ${JSON.stringify(join(dir, "state"))}`,
      // Image import needs the content store, the metadata and a snapshotter, not the CRI or runtimes.
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri", "io.containerd.snapshotter.v1.overlayfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.blockfile", "io.containerd.snapshotter.v1.erofs"]',
      // The transfer service (what ctr images import uses) unpacks into the native snapshotter here.
      '[plugins."io.containerd.transfer.v1.local"]',
      '  [[plugins."io.containerd.transfer.v1.local".unpack_config]]',
      `    platform = "linux/${process.arch === "arm64" ? "arm64" : "amd64"}"`,
      '    snapshotter = "native"',
      "[grpc]",
      `  address = ${JSON.stringify(address)}`,
      "[ttrpc]",
      `  address = ${JSON.stringify(`${address}.ttrpc`)}`,
      "",
    ].join("\n"),
  );
  const child: ChildProcess = spawn(tools.containerd, ["--config", config], { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  child.stderr?.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-4000)));
  const ctrRun = (args: string[]) => execFileSync(tools.ctr, ["--address", address, "-n", "k8s.io", ...args], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (existsSync(address)) {
      try {
        execFileSync(tools.ctr, ["--address", address, "version"], { stdio: "ignore" });
        break;
      } catch {
        // not serving yet
      }
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`containerd did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    dir,
    address,
    ctr: tools.ctr,
    ctrRun,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
