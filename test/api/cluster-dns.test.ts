// spec.kubernetes.clusterDNS: defaults, and the address checks that keep the Corefile and the Service sane.
import { expect } from "chai";
import { applyDefaults } from "../../operator/src/api/defaults.js";
import { formatProblem, validateInstallation } from "../../operator/src/api/validate.js";
import { base, type Doc } from "./helpers.js";

function problems(edit: (spec: Doc) => void): string[] {
  const doc = base();
  edit(doc.spec);
  return validateInstallation(doc).problems.map(formatProblem);
}

describe("spec.kubernetes.clusterDNS", () => {
  it("is absent unless written (render treats that as mode Auto); written empty, mode defaults to Auto", () => {
    expect(applyDefaults(base()).spec.kubernetes).to.deep.equal({ distribution: "k3s" });
    const doc = base();
    doc.spec.kubernetes = { clusterDNS: {} };
    expect(applyDefaults(doc).spec.kubernetes?.clusterDNS).to.deep.equal({ mode: "Auto" });
  });

  it("accepts IPv4 and IPv6 literals for clusterIP and upstreamNameservers", () => {
    expect(problems((s) => { s.kubernetes = { clusterDNS: { mode: "Managed", clusterIP: "10.96.0.10", upstreamNameservers: ["1.1.1.1", "2001:4860:4860::8888"] } }; })).to.deep.equal([]);
    expect(problems((s) => { s.kubernetes = { clusterDNS: { clusterIP: "fd00:10:96::a" } }; })).to.deep.equal([]);
  });

  it("rejects host names, out-of-range octets and Corefile injection, naming the field", () => {
    const found = problems((s) => {
      s.kubernetes = { clusterDNS: { mode: "Managed", clusterIP: "10.43.0.300", upstreamNameservers: ["dns.google", "1.1.1.1\n}\nimport /etc/passwd"] } };
    });
    expect(found).to.have.length(3);
    expect(found[0]).to.match(/^spec\.kubernetes\.clusterDNS\.clusterIP: /);
    expect(found[1]).to.match(/^spec\.kubernetes\.clusterDNS\.upstreamNameservers\[0\]: /);
    expect(found[2]).to.match(/^spec\.kubernetes\.clusterDNS\.upstreamNameservers\[1\]: /);
  });

  it("rejects an unknown mode and more than 15 upstreams (the forward plugin's limit)", () => {
    expect(problems((s) => { s.kubernetes = { clusterDNS: { mode: "Off" } }; })[0]).to.match(/^spec\.kubernetes\.clusterDNS\.mode: Unsupported value: "Off"/);
    const many = Array.from({ length: 16 }, (_, i) => `10.0.0.${i + 1}`);
    expect(problems((s) => { s.kubernetes = { clusterDNS: { upstreamNameservers: many } }; })[0]).to.match(/^spec\.kubernetes\.clusterDNS\.upstreamNameservers: Too many/);
  });
});
