// First file of the real-control-plane tier (.mocharc.cjs orders it there): waits for setup's background
// build of etcd, kwok and Kubernetes (the same build lock), or builds them now, and checks their versions.
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { CONTROLPLANE_SH, ETCD_VERSION, KUBE_VERSION, KWOK_VERSION, requireControlPlane } from "../support/controlplane.js";

describe(`real control plane binaries: kube-apiserver ${KUBE_VERSION}, etcd ${ETCD_VERSION}, kwok ${KWOK_VERSION}`, function () {
  it("are built (waiting for setup's background build) and report the pinned versions", function () {
    this.timeout(120 * 60_000);
    requireControlPlane(this);
    const env = Object.fromEntries(
      [...execFileSync("bash", [CONTROLPLANE_SH, "env"], { encoding: "utf8" }).matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!.replace(/^['"]|['"]$/g, "")]),
    );
    const bin = (name: string) => {
      const path = env[`CONTROLPLANE_${name.toUpperCase().replace(/-/g, "_")}`];
      expect(path, `hack/controlplane.sh env names the ${name} binary`).to.be.a("string");
      return path!;
    };
    const version = (name: string, args: string[]) => execFileSync(bin(name), args, { encoding: "utf8" });
    for (const name of ["kube-apiserver", "kube-controller-manager", "kube-scheduler"]) {
      expect(version(name, ["--version"]).trim(), name).to.equal(`Kubernetes ${KUBE_VERSION}`);
    }
    expect(version("etcd", ["--version"])).to.include(`etcd Version: ${ETCD_VERSION.replace(/^v/, "")}`);
    expect(version("kwok", ["--version"])).to.include(KWOK_VERSION);
  });
});
