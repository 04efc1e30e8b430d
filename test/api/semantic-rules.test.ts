// The one table of semantic rules (operator/src/api/semantic-rules.ts): every rule has cases, both its
// code and its CRD twin (the CEL rule the API server runs at admission) agree on them, and a rule without
// a twin says why. Adding a rule to one side only fails here.
import { expect } from "chai";
import { loadSchema } from "../../operator/src/api/crd.js";
import { SEMANTIC_RULES, type SemanticRule } from "../../operator/src/api/semantic-rules.js";
import { validateAgainstSchema } from "../../operator/src/api/schema-validation.js";
import type { OlaresInstallationSpec } from "../../operator/src/api/index.js";
import { collectNodes, collectRules, defaulted, type Doc } from "./helpers.js";

interface Cases {
  pass: (spec: Doc) => void;
  fail: (spec: Doc) => void;
  /** The stored spec, for transition rules. */
  old?: (spec: Doc) => void;
}

const minio = { type: "ManagedMinIO" };
const CASES: Record<string, Cases> = {
  "host-bound-characters": {
    pass: (s) => { s.os = { packages: ["nfs-common"] }; },
    fail: (s) => { s.os = { packages: ["nfs-common;reboot"] }; },
  },
  "url-dot-segments": {
    pass: (s) => { s.olaresd = { url: "https://dl.example.com/v1.2/olaresd.tar.gz", sha256: "a".repeat(64) }; },
    fail: (s) => { s.olaresd = { url: "https://dl.example.com/a/%2e%2e/olaresd.tar.gz", sha256: "a".repeat(64) }; },
  },
  "nameserver-ip": {
    pass: (s) => { s.os = { dns: { nameservers: ["1.1.1.1", "2606:4700:4700::1111"] } }; },
    fail: (s) => { s.os = { dns: { nameservers: ["1:2:3"] } }; },
  },
  "ntp-server": {
    pass: (s) => { s.os = { ntp: { servers: ["pool.ntp.org", "10.0.0.1"] } }; },
    fail: (s) => { s.os = { ntp: { servers: ["10.0.0"] } }; },
  },
  "host-directories": {
    pass: (s) => { s.storage = { rootPath: "/srv/olares" }; },
    fail: (s) => { s.storage = { rootPath: "/etc/olares" }; },
  },
  "cache-outside-root": {
    pass: (s) => { s.storage = { type: "JuiceFS", rootPath: "/data/olares", juicefs: { objectStore: minio, cache: { dir: "/data/jfs" } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", rootPath: "/data/olares", juicefs: { objectStore: minio, cache: { dir: "/data/olares" } } }; },
  },
  "sysctl-kernel-parameter": {
    pass: (s) => { s.os = { sysctl: { "vm.max_map_count": "262144" } }; },
    fail: (s) => { s.os = { sysctl: { "foo.bar": "1" } }; },
  },
  "sysctl-executing": {
    pass: (s) => { s.os = { sysctl: { "kernel.pid_max": "4194304" } }; },
    fail: (s) => { s.os = { sysctl: { "kernel.modprobe": "/tmp/evil" } }; },
  },
  "sysctl-value": {
    pass: (s) => { s.os = { sysctl: { "net.ipv4.tcp_rmem": "4096 87380 6291456" } }; },
    fail: (s) => { s.os = { sysctl: { "vm.swappiness": "../10" } }; },
  },
  "conflicting-packages": {
    pass: (s) => { s.os = { packages: ["nfs-common"] }; },
    fail: (s) => { s.os = { packages: ["docker.io"] }; },
  },
  "ssh-kubernetes-port": {
    pass: (s) => { s.os = { ssh: { port: 2222 } }; },
    fail: (s) => { s.os = { ssh: { port: 6443 } }; },
  },
  "registry-once": {
    pass: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com"] }, { registry: "quay.io", endpoints: ["https://b.example.com"] }] }; },
    fail: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com"] }, { registry: "index.docker.io", endpoints: ["https://b.example.com"] }] }; },
  },
  "mirror-once": {
    pass: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com", "https://b.example.com"] }] }; },
    fail: (s) => { s.registry = { mirrors: [{ endpoints: ["https://a.example.com", "https://A.example.com/"] }] }; },
  },
  "known-time-zone": {
    pass: (s) => { s.os = { timezone: "Europe/Berlin" }; },
    fail: (s) => { s.os = { timezone: "Europe/Atlantis" }; },
  },
  "juicefs-bucket-name": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares.data-1", region: "us-east-1", credentialsSecretRef: { name: "s3" } } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares..data", region: "us-east-1", credentialsSecretRef: { name: "s3" } } } }; },
  },
  "juicefs-endpoint-url": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "MinIO", bucket: "olares", endpoint: "http://minio.lan:9000", credentialsSecretRef: { name: "m" } } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "MinIO", bucket: "olares", endpoint: "http://minio.lan:99999", credentialsSecretRef: { name: "m" } } } }; },
  },
  "secret-key-names": {
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares", region: "us-east-1", credentialsSecretRef: { name: "s3", accessKeyIdKey: "access.key" } } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares", region: "us-east-1", credentialsSecretRef: { name: "s3", accessKeyIdKey: ".." } } } }; },
  },
  "juicefs-backend-fixed": {
    old: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares", region: "us-east-1", credentialsSecretRef: { name: "s3" } } } }; },
    pass: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares", region: "us-east-1", credentialsSecretRef: { name: "s3-rotated" } } } }; },
    fail: (s) => { s.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", bucket: "olares", region: "eu-west-1", credentialsSecretRef: { name: "s3" } } } }; },
  },
  "no-downgrade": {
    old: (s) => { s.version = "1.13.0"; },
    pass: (s) => { s.version = "1.13.1"; },
    fail: (s) => { s.version = "0.0.1-bogus"; },
  },
};

const schema = loadSchema();
const sites = collectRules(schema);

function codeFires(rule: SemanticRule, spec: Doc, old?: Doc): string[] {
  const found: string[] = [];
  rule.check(spec as OlaresInstallationSpec, (field, text) => found.push(`${field}: ${text}`), old as OlaresInstallationSpec | undefined);
  return found;
}

function twinFires(rule: SemanticRule, doc: Doc, old?: Doc): string[] {
  if (!Array.isArray(rule.cel)) return [];
  const messages = rule.cel.map((c) => c.message);
  return validateAgainstSchema(schema, doc, old)
    .filter((e) => messages.some((m) => e.message.endsWith(m)))
    .map((e) => `${e.field}: ${e.message}`);
}

describe("semantic rules table (code ↔ CRD twin)", () => {
  it("every rule has cases and every case a rule", () => {
    const ids = SEMANTIC_RULES.map((r) => r.id);
    expect(new Set(ids).size, "unique ids").to.equal(ids.length);
    expect(ids.filter((id) => !(id in CASES)), "rules without cases").to.deep.equal([]);
    expect(Object.keys(CASES).filter((id) => !ids.includes(id)), "cases without a rule").to.deep.equal([]);
  });

  for (const rule of SEMANTIC_RULES) {
    describe(rule.id, () => {
      const c = CASES[rule.id]!;
      const old = c.old ? defaulted(c.old) : undefined;

      if (Array.isArray(rule.cel)) {
        it("names CEL twins that exist in the CRD", () => {
          expect(rule.cel).to.not.be.empty;
          for (const twin of rule.cel as Array<{ path: string; message: string }>) {
            const site = sites.find((s) => s.path === twin.path && s.rule.message === twin.message);
            expect(site, `${twin.path} :: ${twin.message}`).to.not.equal(undefined);
          }
        });
      } else {
        it("says why it has no CEL twin", () => {
          expect((rule.cel as { none: string }).none).to.be.a("string").with.length.greaterThan(20);
        });
      }

      it("passes its valid case on both sides", () => {
        const doc = defaulted(c.pass);
        expect(codeFires(rule, doc.spec, old?.spec)).to.deep.equal([]);
        expect(twinFires(rule, doc, old)).to.deep.equal([]);
      });

      it(Array.isArray(rule.cel) ? "code and CRD twin both refuse its invalid case" : "code refuses its invalid case", () => {
        const doc = defaulted(c.fail);
        expect(codeFires(rule, doc.spec, old?.spec)).to.not.be.empty;
        if (Array.isArray(rule.cel)) expect(twinFires(rule, doc, old)).to.not.be.empty;
      });
    });
  }

  describe("host-bound-characters: every host-bound string field's schema refuses hostile characters", () => {
    const hostile = [";", "&", "|", "`", "$(", "<", ">", "'", '"', " ", "\n", "\\", "*", "?", "#", "!", "{", "("];
    // Strings that stay in the cluster (component overrides) or have their own rule (sysctl values).
    const exempt = (path: string) => path.startsWith("spec.coreServices") || path === "spec.os.sysctl{}";
    const leaves = collectNodes(schema)
      .filter((n) => n.path.startsWith("spec.") && n.schema.type === "string" && !exempt(n.path));

    it("finds the string fields", () => {
      expect(leaves.length).to.be.greaterThan(30);
    });

    for (const { path, schema: node } of leaves) {
      it(`${path}`, () => {
        if (node.enum) return; // a closed set of words
        expect(node.pattern, `${path} has no pattern`).to.be.a("string");
        const re = new RegExp(node.pattern!, "u");
        for (const ch of hostile) expect(re.test(`a${ch}b`), `${path} accepts ${JSON.stringify(`a${ch}b`)}`).to.equal(false);
      });
    }
  });
});

describe("docs/validation.md lists every semantic rule", () => {
  it("has a row per rule", async () => {
    const { readFileSync } = await import("node:fs");
    const doc = readFileSync(new URL("../../docs/validation.md", import.meta.url), "utf8");
    for (const rule of SEMANTIC_RULES) expect(doc, rule.id).to.include(`| \`${rule.id}\` |`);
  });
});
