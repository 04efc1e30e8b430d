// values.schema.json is enforced: bad values fail `helm template` and `helm lint --strict` under both Helms,
// and the error names the offending field.
import { expect } from "chai";
import { HELMS, fetchTools, helmLint, helmTemplate } from "./tools.js";

const INSTALLATION_SPEC = { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" } };

const BAD_VALUES: Array<{ why: string; values: object; field: string }> = [
  { why: "a misspelled top-level key", values: { replicas: 2 }, field: "replicas" },
  { why: "replicaCount that is not an integer", values: { replicaCount: "two" }, field: "replicaCount" },
  { why: "two replicas without leader election", values: { replicaCount: 2, leaderElection: { enabled: false } }, field: "enabled" },
  { why: "a writable root filesystem", values: { securityContext: { readOnlyRootFilesystem: false } }, field: "readOnlyRootFilesystem" },
  { why: "privilege escalation", values: { securityContext: { allowPrivilegeEscalation: true } }, field: "allowPrivilegeEscalation" },
  { why: "an added capability", values: { securityContext: { capabilities: { drop: ["ALL"], add: ["NET_ADMIN"] } } }, field: "add" },
  { why: "capabilities without drop ALL", values: { securityContext: { capabilities: { drop: ["NET_RAW"] } } }, field: "drop" },
  { why: "running as root", values: { podSecurityContext: { runAsNonRoot: false } }, field: "runAsNonRoot" },
  { why: "uid 0", values: { podSecurityContext: { runAsNonRoot: true, runAsUser: 0 } }, field: "runAsUser" },
  { why: "a privileged metrics port", values: { metricsPort: 80 }, field: "metricsPort" },
  { why: "an unknown pull policy", values: { image: { pullPolicy: "Sometimes" } }, field: "pullPolicy" },
  { why: "a malformed digest", values: { image: { digest: "abc" } }, field: "digest" },
  { why: "a wildcard in the managed role names", values: { rbac: { managedClusterRoles: ["*"] } }, field: "managedClusterRoles" },
  { why: "an existing ServiceAccount without a name", values: { serviceAccount: { create: false } }, field: "name" },
  { why: "an installation without a spec", values: { installation: { enabled: true } }, field: "version" },
  {
    why: "an installation with a bad owner username",
    values: { installation: { enabled: true, spec: { ...INSTALLATION_SPEC, owner: { username: "Bad_Name" } } } },
    field: "username",
  },
  {
    why: "an installation with an unknown storage type",
    values: { installation: { enabled: true, spec: { ...INSTALLATION_SPEC, storage: { type: "NFS" } } } },
    field: "type",
  },
  { why: "a release-files port out of range", values: { release: { files: { port: 70000 } } }, field: "port" },
  { why: "a release-files URL that is not http(s)", values: { release: { files: { url: "file:///srv" } } }, field: "url" },
  { why: "a malformed scrape interval", values: { metrics: { serviceMonitor: { interval: "often" } } }, field: "interval" },
];

for (const helm of HELMS) {
  describe(`values.schema.json under ${helm.label}`, function () {
    this.timeout(180_000);
    before(() => fetchTools());

    for (const bad of BAD_VALUES) {
      it(`rejects ${bad.why}`, async () => {
        const [template, lint] = await Promise.all([helmTemplate(helm.bin, bad.values), helmLint(helm.bin, bad.values)]);
        expect(template.code, "helm template should fail").to.not.equal(0);
        expect(template.stderr).to.include("schema");
        expect(template.stderr).to.include(bad.field);
        expect(lint.code, "helm lint should fail").to.not.equal(0);
        expect(lint.stdout + lint.stderr).to.include(bad.field);
      });
    }

    it("rejects a ServiceMonitor without the metrics Service, naming both values", async () => {
      const res = await helmTemplate(helm.bin, { metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } } });
      expect(res.code).to.not.equal(0);
      expect(res.stderr).to.include("metrics.serviceMonitor.enabled needs metrics.service.enabled");
    });

    it("accepts a percentage for the PodDisruptionBudget", async () => {
      const res = await helmTemplate(helm.bin, { podDisruptionBudget: { enabled: true, minAvailable: "50%" } });
      expect(res.code, res.stderr).to.equal(0);
    });
  });
}
