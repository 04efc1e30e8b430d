// JuiceFS specs through `validate` (in process, the same validateInstallation the CLI, plan and the
// controller run): every edge of the storage fields gets an error naming the field and the rule, and a
// backend change while on JuiceFS is refused against the stored object (the CEL twins of these rules are
// checked on kube-apiserver v1.33.5 by test/cluster/crd.test.ts).
import { expect } from "chai";
import { formatProblem, validateInstallation } from "../../operator/src/api/index.js";

type Doc = Record<string, any>;

function installation(storage: Doc): Doc {
  return { apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, spec: { version: "1.12.1", owner: { username: "alice" }, storage } };
}
const s3 = (objectStore: Doc = {}, rest: Doc = {}): Doc => ({
  type: "JuiceFS",
  juicefs: { objectStore: { type: "S3", bucket: "olares-data", region: "us-east-1", credentialsSecretRef: { name: "s3" }, ...objectStore }, ...rest },
});
function problems(storage: Doc, old?: Doc): string[] {
  return validateInstallation(installation(storage), old ? { oldObject: installation(old) } : {}).problems.map(formatProblem);
}
/** Exactly the problems on `field` (and none elsewhere), each matching `rule`. */
function expectOnly(storage: Doc, field: string, rule: RegExp, old?: Doc): void {
  const found = problems(storage, old);
  expect(found, JSON.stringify(found)).to.not.be.empty;
  for (const p of found) {
    expect(p.startsWith(`${field}: `), `names ${field}: ${p}`).to.equal(true);
    expect(p, p).to.match(rule);
  }
}

describe("validate: JuiceFS specs, field and rule for every edge (in process)", () => {
  it("accepts the three shapes: managed Redis + MinIO, an external S3 bucket, an external metadata engine", () => {
    expect(problems({ type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" } } })).to.deep.equal([]);
    expect(problems(s3())).to.deep.equal([]);
    expect(problems(s3({}, { metadata: { type: "External", urlSecretRef: { name: "olares-meta", namespace: "olares-operator", key: "url" } } }))).to.deep.equal([]);
  });

  describe("bucket names", () => {
    for (const ok of ["abc", "olares-data", "olares.data.1", "a".repeat(63), "1bucket"]) {
      it(`accepts ${JSON.stringify(ok)}`, () => expect(problems(s3({ bucket: ok }))).to.deep.equal([]));
    }
    const bad: Array<[string, RegExp, string?]> = [
      ["ab", /at least 3|minLength|should match|must have at least/i],
      ["a".repeat(64), /Too long: may not be more than 63 bytes|should match '\^\[a-z0-9\]\[-a-z0-9\.\]\{1,61\}/],
      ["Olares", /should match|pattern|must match/i],
      ["-olares", /should match|pattern|must match/i],
      ["olares-", /should match|pattern|must match/i],
      ["olares_data", /should match|pattern|must match/i],
      ["olares..data", /two adjacent dots/],
      ["olares.-data", /dot next to a hyphen/],
      ["olares-.data", /dot next to a hyphen/],
      ["192.168.1.10", /IP address/],
      ["xn--olares", /reserved/],
      ["olares-s3alias", /reserved/],
      ["olares.data", /OSS bucket names have no dots/, "OSS"],
      ["olares.data", /COS bucket names have no dots/, "COS"],
    ];
    for (const [bucket, rule, type] of bad) {
      it(`refuses ${JSON.stringify(bucket)}${type ? ` on ${type}` : ""}`, () => {
        expectOnly(s3({ bucket, ...(type ? { type, region: type === "OSS" ? "oss-cn-hangzhou" : "ap-guangzhou" } : {}) }), "spec.storage.juicefs.objectStore.bucket", rule);
      });
    }
  });

  describe("endpoints as URLs", () => {
    for (const ok of ["https://s3.example.com", "http://10.0.0.5:9000", "https://minio.lan:65535/prefix", "https://oss-cn-hangzhou.aliyuncs.com"]) {
      it(`accepts ${ok}`, () => expect(problems(s3({ endpoint: ok, type: "MinIO", region: undefined }))).to.deep.equal([]));
    }
    const bad: Array<[string, RegExp]> = [
      ["s3.example.com", /should match|pattern|must match/i],
      ["ftp://s3.example.com", /should match|pattern|must match/i],
      ["https://user:pw@s3.example.com", /should match|pattern|must match|credentials/i],
      ["https://s3.example.com?x=1", /should match|pattern|must match|query/i],
      ["https://s3.example.com:0", /port 0 is outside 1-65535/],
      ["https://s3.example.com:65536", /port 65536 is outside 1-65535/],
      ["https://s3.example.com/a/../b", /\. or \.\. path segments/],
      ["https://s3.example.com/a/%2e%2e/b", /\. or \.\. path segments/],
      ["https://" + "a".repeat(520) + ".com", /512|maxLength|at most|long/i],
    ];
    for (const [endpoint, rule] of bad) {
      it(`refuses ${endpoint.slice(0, 60)}`, () => expectOnly(s3({ endpoint, type: "MinIO", region: undefined }), "spec.storage.juicefs.objectStore.endpoint", rule));
    }
  });

  describe("cache sizes at every numeric edge", () => {
    for (const ok of [1024, 1025, 102400, 16777216]) {
      it(`accepts sizeMiB ${ok}`, () => expect(problems(s3({}, { cache: { sizeMiB: ok } }))).to.deep.equal([]));
    }
    it("takes sizeMiB null as unset (the apiserver drops it and defaults 102400)", () => {
      const r = validateInstallation(installation(s3({}, { cache: { sizeMiB: null } })));
      expect(r.problems).to.deep.equal([]);
      expect(r.object.spec.storage?.juicefs?.cache?.sizeMiB).to.equal(102400);
    });
    const bad: Array<[unknown, RegExp]> = [
      [1023, /1024/],
      [0, /1024/],
      [-1, /1024/],
      [16777217, /16777216/],
      [2 ** 53, /16777216/],
      [1024.5, /must be of type (int64|integer)/],
      ["2048", /must be of type integer/],
    ];
    for (const [size, rule] of bad) {
      it(`refuses sizeMiB ${JSON.stringify(size)}`, () => expectOnly(s3({}, { cache: { sizeMiB: size } }), "spec.storage.juicefs.cache.sizeMiB", rule));
    }
  });

  describe("Secret references: names are DNS subdomains, keys are Secret keys", () => {
    for (const name of ["S3", "s3_creds", "-s3", "s3-", "s3..creds", "a".repeat(254)]) {
      it(`refuses credentialsSecretRef.name ${JSON.stringify(name.slice(0, 20))}`, () => {
        expectOnly(s3({ credentialsSecretRef: { name } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.name", /should match|pattern|must match|253|at most/i);
      });
    }
    it("refuses a namespace that is not a DNS label", () => {
      expectOnly(s3({ credentialsSecretRef: { name: "s3", namespace: "Olares.Operator" } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.namespace", /should match|pattern|must match/i);
    });
    for (const key of [".", ".."]) {
      it(`refuses the key ${key}`, () => expectOnly(s3({ credentialsSecretRef: { name: "s3", secretAccessKeyKey: key } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.secretAccessKeyKey", /must not be \. or \.\./));
    }
    it("refuses a key with a slash", () => {
      expectOnly(s3({ credentialsSecretRef: { name: "s3", accessKeyIdKey: "aws/key" } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.accessKeyIdKey", /should match|pattern|must match/i);
    });
    it("refuses metadata.urlSecretRef.key .. and a missing name", () => {
      expectOnly(s3({}, { metadata: { type: "External", urlSecretRef: { name: "meta", key: ".." } } }), "spec.storage.juicefs.metadata.urlSecretRef.key", /must not be \. or \.\./);
      expectOnly(s3({}, { metadata: { type: "External", urlSecretRef: { key: "url" } } }), "spec.storage.juicefs.metadata.urlSecretRef.name", /required/i);
    });
  });

  describe("other spellings of keys are named, with the field they most likely mean", () => {
    const cases: Array<[Doc, string, string]> = [
      [{ type: "JuiceFS", juicefs: { objectstore: { type: "ManagedMinIO" }, objectStore: { type: "ManagedMinIO" } } }, "spec.storage.juicefs.objectstore", "objectStore"],
      [s3({ bucketName: "x" }), "spec.storage.juicefs.objectStore.bucketName", "bucket"],
      [s3({ credentialsSecretRef: { name: "s3", accessKey: "A" } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.accessKey", "accessKeyIdKey"],
      [s3({ credentialsSecretRef: { name: "s3", secret_access_key_key: "B" } }), "spec.storage.juicefs.objectStore.credentialsSecretRef.secret_access_key_key", "secretAccessKeyKey"],
      [s3({}, { cache: { sizeMib: 2048 } }), "spec.storage.juicefs.cache.sizeMib", "sizeMiB"],
      [s3({}, { cache: { cacheSize: 2048 } }), "spec.storage.juicefs.cache.cacheSize", "sizeMiB"],
      [s3({}, { metadata: { type: "ManagedRedis", secretRef: { name: "m" } } }), "spec.storage.juicefs.metadata.secretRef", "urlSecretRef"],
      [{ type: "JuiceFS", juiceFS: {}, juicefs: { objectStore: { type: "ManagedMinIO" } } }, "spec.storage.juiceFS", "juicefs"],
    ];
    for (const [storage, field, meant] of cases) {
      it(`${field} → ${meant}`, () => expectOnly(storage, field, new RegExp(`unknown field.*did you mean "${meant}"\\?`)));
    }
  });

  describe("backend changes while on JuiceFS are refused against the stored object", () => {
    const was = s3();
    const changed: Array<[string, Doc, string]> = [
      ["the bucket", s3({ bucket: "olares-other" }), "spec.storage.juicefs.objectStore.bucket"],
      ["the region", s3({ region: "eu-west-1" }), "spec.storage.juicefs.objectStore.region"],
      ["the endpoint", s3({ endpoint: "https://s3.eu-west-1.amazonaws.com" }), "spec.storage.juicefs.objectStore.endpoint"],
      ["the object store type", s3({ type: "OSS" }), "spec.storage.juicefs.objectStore.type"],
      ["the metadata engine", s3({}, { metadata: { type: "External", urlSecretRef: { name: "meta" } } }), "spec.storage.juicefs.metadata.type"],
      ["the volume name", s3({}, { name: "rootfs2" }), "spec.storage.juicefs.name"],
      ["the bucket in the edit that switches back to LocalFS", { ...s3({ bucket: "olares-other" }), type: "LocalFS" }, "spec.storage.juicefs.objectStore.bucket"],
      ["the juicefs block in the edit that switches back to LocalFS", { type: "LocalFS" }, "spec.storage.juicefs"],
    ];
    for (const [what, now, field] of changed) {
      it(`refuses a change of ${what}, naming ${field}`, () => expectOnly(now, field, /Forbidden: .*(switch storage.type to LocalFS|keep it until the switch)/, was));
    }
    it("refuses a metadata URL Secret swapped for another", () => {
      const ext = (name: string) => s3({}, { metadata: { type: "External", urlSecretRef: { name } } });
      expectOnly(ext("meta-b"), "spec.storage.juicefs.metadata.urlSecretRef", /Forbidden: changed from .*meta-a.* to .*meta-b/, ext("meta-a"));
    });
    it("allows rotating the credentials, resizing the cache, the way back to LocalFS with the same backend, and any backend from LocalFS", () => {
      expect(problems(s3({ credentialsSecretRef: { name: "s3-rotated" } }, { cache: { sizeMiB: 4096 } }), was)).to.deep.equal([]);
      expect(problems({ ...s3(), type: "LocalFS" }, was)).to.deep.equal([]);
      expect(problems(s3({ bucket: "olares-other" }), { ...s3(), type: "LocalFS" })).to.deep.equal([]);
      expect(problems(s3({ bucket: "olares-other" }), { type: "LocalFS" })).to.deep.equal([]);
    });
  });
});
