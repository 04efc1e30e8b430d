import { expect } from "chai";
import { matchesFieldSelector, matchesLabelSelector, parseLabelSelector } from "../support/label-selector.js";
import { ApiError, apiErrorFromResponse, isConflict, isAlreadyExists, isGone, isNotFound, isNoKindMatch, isTransient } from "../../operator/src/kube/errors.js";

describe("label and field selectors", () => {
  const labels = { app: "olares", tier: "db", "olares.com/gpu": "true" };
  it("matches every operator of the label selector grammar", () => {
    const cases: Array<[string, boolean]> = [
      ["", true],
      ["app=olares", true],
      ["app==olares,tier=db", true],
      ["app!=olares", false],
      ["tier in (db, web)", true],
      ["tier notin (db)", false],
      ["olares.com/gpu", true],
      ["!missing", true],
      ["!app", false],
      ["missing!=x", true],
      ["app=olares,tier in (web)", false],
    ];
    for (const [sel, want] of cases) expect(matchesLabelSelector(sel, labels), sel).to.equal(want);
  });
  it("rejects malformed selectors naming the problem", () => {
    expect(() => parseLabelSelector("app in db")).to.throw(/labelSelector: .*"app in db"/);
    expect(() => parseLabelSelector("-bad=x")).to.throw(/invalid key "-bad"/);
  });
  it("matches field selectors on nested fields", () => {
    const pod = { metadata: { name: "p", namespace: "ns" }, spec: { nodeName: "n1" } };
    expect(matchesFieldSelector("spec.nodeName=n1,metadata.namespace!=kube-system", pod)).to.equal(true);
    expect(matchesFieldSelector("metadata.name=q", pod)).to.equal(false);
  });
});

describe("API errors", () => {
  it("classifies errors like apimachinery's helpers", () => {
    expect(isNotFound(new ApiError(404, "NotFound", "x"))).to.equal(true);
    expect(isNotFound(new ApiError(404, "NoKindMatch", "x"))).to.equal(false);
    expect(isNoKindMatch(new ApiError(404, "NoKindMatch", "x"))).to.equal(true);
    expect(isConflict(new ApiError(409, "Conflict", "x"))).to.equal(true);
    expect(isConflict(new ApiError(409, "AlreadyExists", "x"))).to.equal(false);
    expect(isAlreadyExists(new ApiError(409, "AlreadyExists", "x"))).to.equal(true);
    expect(isGone(new ApiError(410, "Expired", "x"))).to.equal(true);
    expect([0, 429, 500, 503].map((s) => isTransient(new ApiError(s, "", "")))).to.deep.equal([true, true, true, true]);
    expect(isTransient(new ApiError(422, "Invalid", ""))).to.equal(false);
    expect(isNotFound(new Error("404"))).to.equal(false);
  });
  it("reads a metav1.Status and falls back to the HTTP code for anything else", () => {
    const err = apiErrorFromResponse(409, JSON.stringify({ kind: "Status", reason: "AlreadyExists", message: 'leases "l" already exists', details: { causes: [{ field: "metadata.name" }] } }), "POST /x");
    expect(err).to.include({ status: 409, reason: "AlreadyExists", message: 'leases "l" already exists', request: "POST /x" });
    expect(err.causes).to.deep.equal([{ field: "metadata.name" }]);
    expect(apiErrorFromResponse(503, "<html>bad gateway</html>")).to.include({ reason: "ServiceUnavailable", message: "HTTP 503" });
  });
});
