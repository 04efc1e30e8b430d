// validateInstallation: identity, unknown fields, schema + CEL, semantic checks and hostile input.
import { expect } from "chai";
import { compareSemver, formatProblem, validateInstallation } from "../../operator/src/api/validate.js";
import { base, type Doc } from "./helpers.js";

function problems(edit: (doc: Doc) => void, oldEdit?: (doc: Doc) => void): string[] {
  const doc = base();
  edit(doc);
  let old: Doc | undefined;
  if (oldEdit) {
    old = base();
    oldEdit(old);
  }
  return validateInstallation(doc, { oldObject: old }).problems.map(formatProblem);
}

describe("validateInstallation", () => {
  it("accepts the minimal installation and returns the defaulted object", () => {
    const result = validateInstallation(base());
    expect(result.problems).to.deep.equal([]);
    expect(result.valid).to.equal(true);
    expect(result.object.spec.storage?.type).to.equal("LocalFS");
  });

  it("checks apiVersion, kind, name and scope", () => {
    expect(problems((d) => { d.apiVersion = "olares.com/v1"; d.kind = "Olares"; d.metadata = { name: "Olares!", namespace: "x" }; })).to.deep.equal([
      'apiVersion: Unsupported value: "olares.com/v1": supported values: "olares.com/v1alpha1"',
      'kind: Unsupported value: "Olares": supported values: "OlaresInstallation"',
      'metadata.name: Invalid value: "Olares!": must be a lowercase RFC 1123 subdomain',
      "metadata.namespace: Forbidden: OlaresInstallation is cluster-scoped and has no namespace",
    ]);
    expect(validateInstallation("text").problems.map(formatProblem)).to.deep.equal(["the document must be a YAML/JSON object"]);
  });

  it("reports unknown fields (a typo the apiserver would silently drop)", () => {
    expect(problems((d) => { d.spec.storage = { typ: "JuiceFS" }; })).to.deep.equal([
      'spec.storage.typ: Forbidden: unknown field, not declared in the CRD (the apiserver would drop it); did you mean "type"?',
    ]);
    expect(validateInstallation({ ...base(), extra: 1 }, { strict: false }).valid).to.equal(true);
  });

  it("reports schema and CEL problems with field and rule", () => {
    expect(problems((d) => { d.spec.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "MinIO", bucket: "olares" } } }; })).to.deep.equal([
      "spec.storage.juicefs.objectStore.credentialsSecretRef: Required value: storage.juicefs.objectStore.credentialsSecretRef is required unless objectStore.type is ManagedMinIO",
      "spec.storage.juicefs.objectStore.endpoint: Required value: storage.juicefs.objectStore.endpoint is required when objectStore.type is MinIO",
    ]);
  });

  it("never throws on wrongly shaped input", () => {
    const shapes: Array<(spec: Doc) => void> = [
      (s) => { s.os = { dns: { nameservers: "1.1.1.1" } }; },
      (s) => { s.os = { sysctl: ["vm.swappiness=10"] }; },
      (s) => { s.registry = { mirrors: [{ endpoints: "https://m.example.com" }] }; },
      (s) => { s.storage = "JuiceFS"; },
      (s) => { s.owner = null; },
    ];
    for (const shape of shapes) {
      const found = problems((d) => shape(d.spec));
      expect(found.length, JSON.stringify(found)).to.be.greaterThan(0);
    }
    expect(problems((d) => { d.spec = "x"; })[0]).to.match(/^spec: Invalid value: "string": spec in body must be of type object/);
  });

  it("hints at quoting gpu.enabled", () => {
    expect(problems((d) => { d.spec.gpu = { enabled: true }; })[0]).to.match(/spec.gpu.enabled: .* must be of type string: "boolean" \(quote it in YAML/);
  });

  it("enforces immutable fields and refuses downgrades against the stored object", () => {
    expect(problems((d) => { d.spec.owner.username = "bob"; }, () => {})).to.deep.equal(['spec.owner.username: Invalid value: "string": owner.username is immutable']);
    expect(problems((d) => { d.spec.version = "1.11.9"; }, () => {})).to.deep.equal(["spec.version: Forbidden: downgrade from 1.12.1 to 1.11.9 is not supported"]);
    expect(problems((d) => { d.spec.version = "1.13.0"; }, () => {})).to.deep.equal([]);
  });

  describe("semantic checks", () => {
    const cases: Array<[string, (spec: Doc) => void, string]> = [
      ["nameserver that is not an IP", (s) => { s.os = { dns: { nameservers: ["1:2:3"] } }; }, 'spec.os.dns.nameservers[0]: Invalid value: "1:2:3": must be an IPv4 or IPv6 address'],
      ["NTP server that looks like a broken IP", (s) => { s.os = { ntp: { servers: ["10.0.0"] } }; }, 'spec.os.ntp.servers[0]: Invalid value: "10.0.0": must be a host name or an IP address'],
      ["rootPath in a system directory", (s) => { s.storage = { rootPath: "/usr/olares" }; }, 'spec.storage.rootPath: Invalid value: "/usr/olares": must not be inside the system directory /usr'],
      ["cache dir that contains rootPath", (s) => { s.storage = { type: "JuiceFS", rootPath: "/data/olares", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/data" } } }; }, 'spec.storage.juicefs.cache.dir: Invalid value: "/data": must not be storage.rootPath or one of its parents'],
      ["sysctl outside /proc/sys", (s) => { s.os = { sysctl: { "foo.bar": "1" } }; }, 'spec.os.sysctl[\"foo.bar\"]: Invalid value: "foo.bar": not a kernel parameter (must start with one of abi, crypto, debug, dev, fs, kernel, net, sunrpc, user, vm)'],
      ["sysctl that runs a program", (s) => { s.os = { sysctl: { "kernel.modprobe": "/sbin/modprobe" } }; }, "spec.os.sysctl[\"kernel.modprobe\"]: Forbidden: kernel.modprobe makes the kernel run a program and cannot be set through the CR"],
      ["sysctl value with odd characters", (s) => { s.os = { sysctl: { "vm.swappiness": "(10)" } }; }, 'spec.os.sysctl[\"vm.swappiness\"]: Invalid value: "(10)": sysctl values are numbers or words separated by spaces (letters, digits, - _ . : , / + =)'],
      ["empty sysctl value", (s) => { s.os = { sysctl: { "vm.swappiness": "" } }; }, 'spec.os.sysctl[\"vm.swappiness\"]: Invalid value: "": sysctl values are numbers or words separated by spaces (letters, digits, - _ . : , / + =)'],
      ["a second container runtime", (s) => { s.os = { packages: ["nfs-common", "docker-ce"] }; }, "spec.os.packages[1]: Forbidden: docker-ce conflicts with the containerd that Olares installs and manages"],
      ["ssh on the kube-apiserver port", (s) => { s.os = { ssh: { port: 6443 } }; }, "spec.os.ssh.port: Invalid value: 6443: the port is used by Kubernetes (2379, 2380, 6443, 10250, 10257, 10259)"],
      ["Docker Hub twice under two names", (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com"] }, { registry: "index.docker.io", endpoints: ["https://b.example.com"] }] }; }, 'spec.registry.mirrors[1].registry: Duplicate value: "index.docker.io": the same registry as spec.registry.mirrors[0]'],
      ["the same mirror twice", (s) => { s.registry = { mirrors: [{ endpoints: ["https://m.example.com", "https://M.example.com/"] }] }; }, 'spec.registry.mirrors[0].endpoints[1]: Duplicate value: "https://M.example.com/": the same mirror as endpoints[0]'],
      ["an unknown time zone", (s) => { s.os = { timezone: "Europe/Atlantis" }; }, 'spec.os.timezone: Invalid value: "Europe/Atlantis": not an IANA time zone name'],
    ];
    for (const [name, edit, expected] of cases) {
      it(`rejects ${name}`, () => {
        expect(problems((d) => edit(d.spec))).to.deep.equal([expected]);
      });
    }
    it("accepts realistic values", () => {
      expect(problems((d) => {
        d.spec.os = {
          dns: { nameservers: ["1.1.1.1", "2606:4700:4700::1111"] },
          ntp: { servers: ["pool.ntp.org", "192.168.1.1"] },
          sysctl: { "net.ipv4.tcp_rmem": "4096 87380 6291456", "net/core/somaxconn": "4096" },
          packages: ["nfs-common", "libstdc++6"],
          timezone: "America/Argentina/Buenos_Aires",
        };
        d.spec.registry = { mirrors: [{ endpoints: ["https://mirror.gcr.io"] }, { registry: "ghcr.io", endpoints: ["https://ghcr.mirror.example.com/v2"] }] };
      })).to.deep.equal([]);
    });
  });

  describe("hostile input never passes", () => {
    const payloads = ["1.1.1.1; rm -rf /", "$(reboot)", "`id`", "a && b", "x|nc 1.2.3.4 9", "a\nb", "../../etc", "a'b", "a b"];
    const fields: Array<[string, (spec: Doc, value: string) => void]> = [
      ["spec.os.dns.nameservers[0]", (s, v) => { s.os = { dns: { nameservers: [v] } }; }],
      ["spec.os.ntp.servers[0]", (s, v) => { s.os = { ntp: { servers: [v] } }; }],
      ["spec.os.packages[0]", (s, v) => { s.os = { packages: [v] }; }],
      ["spec.os.timezone", (s, v) => { s.os = { timezone: v }; }],
      ["spec.os.sysctl[\"vm.swappiness\"]", (s, v) => { s.os = { sysctl: { "vm.swappiness": v } }; }],
      ["spec.os.sysctl", (s, v) => { s.os = { sysctl: { [v]: "1" } }; }],
      ["spec.storage.rootPath", (s, v) => { s.storage = { rootPath: `/olares/${v}` }; }],
      ["spec.storage.juicefs.cache.dir", (s, v) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: `/cache/${v}` } } }; }],
      ["spec.storage.juicefs.objectStore.bucket", (s, v) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", region: "us-east-1", bucket: v, credentialsSecretRef: { name: "s3" } } } }; }],
      ["spec.storage.juicefs.objectStore.endpoint", (s, v) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "MinIO", endpoint: `https://${v}`, bucket: "olares", credentialsSecretRef: { name: "s3" } } } }; }],
      ["spec.registry.mirrors[0].endpoints[0]", (s, v) => { s.registry = { mirrors: [{ endpoints: [`https://m.example.com/${v}`] }] }; }],
      ["spec.registry.mirrors[0].registry", (s, v) => { s.registry = { mirrors: [{ registry: v, endpoints: ["https://m.example.com"] }] }; }],
      ["spec.olaresd.url", (s, v) => { s.olaresd = { url: `https://dl.example.com/${v}`, sha256: "a".repeat(64) }; }],
      ["spec.gpu.nvidia.driver.version", (s, v) => { s.gpu = { nvidia: { driver: { version: `570${v}` } } }; }],
      ["spec.gpu.nvidia.devicePlugin.image", (s, v) => { s.gpu = { nvidia: { devicePlugin: { image: `nvcr.io/nvidia/k8s-device-plugin:${v}` } } }; }],
      ["spec.owner.username", (s, v) => { s.owner.username = `alice${v}`; }],
      ["spec.owner.domain", (s, v) => { s.owner.domain = `olares.com${v}`; }],
      ["spec.version", (s, v) => { s.version = `1.12.1-${v}`; }],
      ["spec.nodes.skipLabel", (s, v) => { s.nodes = { skipLabel: v }; }],
      ["spec.nodes.selector[kubernetes.io/hostname]", (s, v) => { s.nodes = { selector: { "kubernetes.io/hostname": v } }; }],
    ];
    for (const [field, place] of fields) {
      it(`rejects shell payloads in ${field}`, () => {
        // Sysctl values are space-separated words by nature ("4096 87380 6291456").
        for (const payload of payloads.filter((p) => !(field.startsWith("spec.os.sysctl[") && p === "a b"))) {
          const found = problems((d) => place(d.spec, payload));
          expect(found.some((p) => p.startsWith(field)), `${JSON.stringify(payload)} → ${JSON.stringify(found)}`).to.equal(true);
        }
      });
    }
  });

  it("compares versions by semver precedence", () => {
    expect(compareSemver("1.12.1", "1.12.0")).to.be.greaterThan(0);
    expect(compareSemver("1.12.0-rc.1", "1.12.0")).to.be.lessThan(0);
    expect(compareSemver("1.10.0", "1.9.9")).to.be.greaterThan(0);
    expect(compareSemver("1.12.0+build.5", "1.12.0")).to.equal(0);
  });
});
