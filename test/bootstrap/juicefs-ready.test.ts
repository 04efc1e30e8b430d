// The CR `install.sh --juicefs` builds reaches Ready, on the cluster simulator (not Kubernetes) with the
// real operator and node agent, the agent's storage engine running the real redis-server, MinIO and
// JuiceFS FUSE mount on this machine from the unit files it wrote. install.sh runs for real
// (--print-cr); only K3s and the hosts are the simulator's.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { isJuiceFSMount } from "../../operator/src/agent/storage/index.js";
import { explainNotReady, isReady, kubectlOk } from "../e2e/cluster.js";
import { StorageCluster } from "../storage/support/cluster.js";

const root = path.join(import.meta.dirname, "../..");

describe("install.sh --juicefs: its CR reaches Ready on JuiceFS (cluster simulator, real storage engine)", function () {
  this.timeout(15 * 60_000);
  let c: StorageCluster;
  before(async () => {
    c = await StorageCluster.start();
  });
  after(async () => {
    await c?.stop();
  });

  it("managed Redis + MinIO: Ready, activeType JuiceFS, <root>/rootfs a JuiceFS mount, Olares told jfs, the node reporting Done", async () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, TERMINUS_OS_USERNAME: "alice", OLARES_BASE_DIR: c.node.root };
    const cr = execFileSync("bash", [path.join(root, "bootstrap/install.sh"), "--juicefs", "--print-cr"], { env, encoding: "utf8" });
    expect(cr).to.include("type: JuiceFS").and.include("type: ManagedMinIO");
    await kubectlOk(c.kubeconfig, ["apply", "-f", "-"], { input: cr });
    const ready = await c.waitFor(
      () => {
        const live = c.cr();
        return isReady(live) && live?.status?.storage?.activeType === "JuiceFS" ? live : undefined;
      },
      12 * 60_000,
      () => `Ready on JuiceFS: ${explainNotReady(c.cr())}; storage ${JSON.stringify(c.cr()?.status?.storage)}; node ${c.nodeAnnotations()["olares.com/storage-report"]}`,
    );
    expect(ready.metadata.labels?.["app.kubernetes.io/managed-by"]).to.equal("olares-bootstrap");
    expect(await isJuiceFSMount(c.node.host, c.rootfs), `${c.rootfs} is a JuiceFS mount`).to.equal(true);
    const rootfsType = c.sim.store.list("sys.bytetrade.io/systemenvs").find((e) => e.envName === "OLARES_SYSTEM_ROOTFS_TYPE");
    // Created by the release at install: its default carries the rootfs type (a switch later sets value).
    expect(rootfsType?.value ?? rootfsType?.default, "SystemEnv OLARES_SYSTEM_ROOTFS_TYPE").to.equal("jfs");
    expect(JSON.parse(c.nodeAnnotations()["olares.com/storage-report"]!)).to.deep.include({ state: "Done", activeType: "JuiceFS" });
  });
});
