// Deciding "unchanged" from Helm's release records alone (no helm run): newest revision, status deployed,
// the input hash the operator recorded.
import { expect } from "chai";
import { LABEL_RELEASE_INPUT, latestRecord, needsApply, releaseInputHash } from "../../operator/src/helm/index.js";
import type { KubeObject } from "../../operator/src/contract/objects.js";

const release = { name: "os-framework", namespace: "os-framework", chart: { path: "/x/os-framework", digest: "sha256:aa" }, values: { gpu: "none", rootPath: "/olares" } };

function record(version: number, status: string, input?: string, name = "os-framework", namespace = "os-framework"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "helm.sh/release.v1",
    metadata: { name: `sh.helm.release.v1.${name}.v${version}`, namespace, labels: { owner: "helm", name, status, version: String(version), ...(input ? { [LABEL_RELEASE_INPUT]: input } : {}) } },
  } as KubeObject;
}

describe("helm release records", () => {
  it("hashes chart digest and values, independent of key order", () => {
    const a = releaseInputHash(release);
    expect(a).to.match(/^[0-9a-f]{40}$/);
    expect(releaseInputHash({ ...release, values: { rootPath: "/olares", gpu: "none" } })).to.equal(a);
    expect(releaseInputHash({ ...release, chart: { ...release.chart, digest: "sha256:bb" } })).to.not.equal(a);
    expect(releaseInputHash({ ...release, values: { ...release.values, gpu: "nvidia" } })).to.not.equal(a);
  });

  it("reads the newest revision of the named release in its namespace only", () => {
    const h = releaseInputHash(release);
    const secrets = [record(1, "superseded", "old"), record(3, "deployed", h), record(2, "superseded", "x"), record(9, "deployed", h, "other"), record(7, "deployed", h, "os-framework", "elsewhere")];
    expect(latestRecord(secrets, "os-framework", "os-framework")).to.deep.equal({ name: "os-framework", namespace: "os-framework", revision: 3, status: "deployed", input: h });
    expect(latestRecord(secrets, "missing", "os-framework")).to.equal(undefined);
  });

  it("applies when there is no record, the last one failed or is pending, the input differs, or someone else installed it", () => {
    const h = releaseInputHash(release);
    expect(needsApply(release, undefined)).to.equal(true);
    expect(needsApply(release, { name: "x", namespace: "x", revision: 2, status: "failed", input: h })).to.equal(true);
    expect(needsApply(release, { name: "x", namespace: "x", revision: 2, status: "pending-upgrade", input: h })).to.equal(true);
    expect(needsApply(release, { name: "x", namespace: "x", revision: 2, status: "deployed", input: "other" })).to.equal(true);
    expect(needsApply(release, { name: "x", namespace: "x", revision: 2, status: "deployed" })).to.equal(true);
    expect(needsApply(release, { name: "x", namespace: "x", revision: 2, status: "deployed", input: h })).to.equal(false);
  });
});
