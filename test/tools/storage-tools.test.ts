// First file of the storage tier (.mocharc.cjs orders it there): waits for setup's background build of
// JuiceFS and MinIO (the same build lock), or builds them now, and checks what was built runs.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import path from "node:path";
import { REPO, storageTools } from "../storage/support/tools.js";

const run = (bin: string, args: string[]) => execFileSync(bin, args, { encoding: "utf8" });

describe("storage tools: JuiceFS and MinIO built from their Go modules, Redis and rsync from Debian", function () {
  it("are built (waiting for setup's background build) and run at the pinned versions", function () {
    this.timeout(90 * 60_000);
    const tools = storageTools();
    const pinned = Object.fromEntries(run(path.join(REPO, "hack/storage-tools.sh"), ["versions"]).trim().split("\n").map((l) => l.split(" ")));
    expect(run(tools.juicefs, ["version"])).to.include(`juicefs version ${pinned.juicefs}`);
    expect(run(tools.minio, ["--version"])).to.include(pinned.minio.replace(/^RELEASE\./, ""));
    expect(run(tools.redisServer, ["--version"])).to.match(/^Redis server v=\d+\.\d+/);
    expect(run(tools.rsync, ["--version"])).to.match(/^rsync\s+version\s+3\./);
  });
});
