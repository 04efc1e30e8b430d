// First file of the image-import tier (.mocharc.cjs orders it there): waits for setup's background build
// of containerd and ctr (the same build lock), or builds them now, and checks their version.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { containerdTools } from "../release/containerd.js";

describe("containerd and ctr built from github.com/containerd/containerd/v2", function () {
  it("are built (waiting for setup's background build) at the version bootstrap installs", function () {
    this.timeout(60 * 60_000);
    const tools = containerdTools();
    const pinned = execFileSync("bash", ["hack/containerd-tools.sh", "version"], { encoding: "utf8" }).trim();
    expect(execFileSync(tools.ctr, ["--version"], { encoding: "utf8" })).to.include(`v${pinned}`);
    expect(execFileSync(tools.containerd, ["--version"], { encoding: "utf8" })).to.include(`v${pinned}`);
  });
});
