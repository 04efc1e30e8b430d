// OlaresInstallation defaulting: CRD defaults as the apiserver applies them, plus operator-side defaults.
import { expect } from "chai";
import { applyCrdDefaults, applyDefaults, applyOperatorDefaults, defaultSpec, type DefaultedSpec } from "../../operator/src/api/defaults.js";
import { loadSchema } from "../../operator/src/api/crd.js";
import type { JSONSchemaProps } from "../../operator/src/api/schema-validation.js";
import { base } from "./helpers.js";

describe("OlaresInstallation defaults", () => {
  it("fills the outline defaults on a minimal spec", () => {
    const spec = applyCrdDefaults(base()).spec;
    expect(spec.paused).to.equal(false);
    expect(spec.owner.domain).to.equal("olares.com");
    expect(spec.kubernetes).to.deep.equal({ distribution: "k3s" });
    expect(spec.storage).to.deep.equal({ type: "LocalFS", rootPath: "/olares", retainPreviousData: true });
    expect(spec.gpu).to.deep.equal({ enabled: "auto", nvidia: { driver: { install: true } }, sharing: { mode: "None" } });
    expect(spec.os).to.deep.equal({ ssh: { enabled: true, port: 22 }, swap: { enabled: false } });
    // No default: forcing keys-only would lock out admins who log in with a password.
    expect(spec.os?.ssh).to.not.have.property("passwordAuthentication");
    expect(spec.olaresd).to.deep.equal({ enabled: true });
    expect(spec.nodes).to.deep.equal({ skipLabel: "olares.com/skip-config", driftPolicy: "Report", rollout: { maxUnavailable: 1, paused: false, allowReboot: false } });
    expect(spec.registry).to.equal(undefined);
  });

  it("defaults inside objects the user gave: JuiceFS, secret keys, mirrors, zram", () => {
    const doc = base();
    doc.spec.storage = { type: "JuiceFS", juicefs: { objectStore: { type: "S3", credentialsSecretRef: { name: "s3" } } } };
    doc.spec.owner.passwordSecretRef = { name: "pw" };
    doc.spec.registry = { mirrors: [{ endpoints: ["https://m.example.com"] }] };
    doc.spec.os = { swap: { enabled: true, zram: {} } };
    const spec = applyCrdDefaults(doc).spec;
    expect(spec.storage?.juicefs).to.deep.equal({
      name: "rootfs",
      metadata: { type: "ManagedRedis" },
      objectStore: { type: "S3", credentialsSecretRef: { name: "s3", accessKeyIdKey: "AWS_ACCESS_KEY_ID", secretAccessKeyKey: "AWS_SECRET_ACCESS_KEY" } },
      cache: { sizeMiB: 102400 },
    });
    expect(spec.owner.passwordSecretRef).to.deep.equal({ name: "pw", key: "password" });
    expect(spec.registry?.mirrors).to.deep.equal([{ registry: "docker.io", endpoints: ["https://m.example.com"] }]);
    expect(spec.os?.swap?.zram).to.deep.equal({ enabled: false, sizePercent: 50 });
  });

  it("never overrides what the user set", () => {
    const doc = base();
    doc.spec.storage = { rootPath: "/data/olares" };
    doc.spec.nodes = { rollout: { maxUnavailable: "25%" } };
    doc.spec.gpu = { enabled: "false" };
    const spec = applyCrdDefaults(doc).spec;
    expect(spec.storage?.rootPath).to.equal("/data/olares");
    expect(spec.nodes?.rollout?.maxUnavailable).to.equal("25%");
    expect(spec.gpu?.enabled).to.equal("false");
  });

  it("adds operator defaults that depend on other fields: cache dir under rootPath, olaresd version", () => {
    const doc = base();
    doc.spec.storage = { type: "JuiceFS", rootPath: "/srv/olares", juicefs: { objectStore: { type: "ManagedMinIO" } } };
    const spec = applyDefaults(doc).spec;
    expect(spec.storage?.juicefs?.cache).to.deep.equal({ sizeMiB: 102400, dir: "/srv/olares/jfscache" });
    expect(spec.olaresd?.version).to.equal("1.12.1");
    const pinned = applyOperatorDefaults({ ...spec, olaresd: { version: "1.12.0" }, storage: { juicefs: { objectStore: { type: "ManagedMinIO" }, cache: { dir: "/cache" } } } });
    expect(pinned.olaresd?.version).to.equal("1.12.0");
    expect(pinned.storage?.juicefs?.cache?.dir).to.equal("/cache");
  });

  it("is idempotent and leaves its input alone", () => {
    const doc = base();
    const before = JSON.stringify(doc);
    const once = applyDefaults(doc);
    expect(applyDefaults(once)).to.deep.equal(once);
    expect(JSON.stringify(doc)).to.equal(before);
  });

  // DefaultedSpec makes every defaulted field required (generated from the CRD's defaults); this proves the
  // runtime agrees for every such field, so a renderer may read one without a fallback of its own.
  it("sets every field DefaultedSpec declares required, wherever its parent exists", () => {
    const specSchema = loadSchema().properties!.spec!;
    const required: string[] = [];
    const walk = (node: JSONSchemaProps, path: string, guaranteed: boolean) => {
      for (const [k, child] of Object.entries(node.properties ?? {})) {
        const here = guaranteed && child.default !== undefined;
        if (here) required.push(`${path}.${k}`);
        if (child.type === "object") walk(child, `${path}.${k}`, here);
      }
    };
    walk(specSchema, "spec", true);
    expect(required).to.include.members(["spec.paused", "spec.storage.rootPath", "spec.gpu.nvidia.driver.install", "spec.nodes.rollout.maxUnavailable"]);
    const spec: DefaultedSpec = defaultSpec({ version: "1.12.1", owner: { username: "alice" } });
    const at = (p: string) => p.split(".").slice(1).reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], spec);
    for (const p of required) expect(at(p), p).to.not.equal(undefined);
    // Typed access with no optional chaining or fallback: these lines would not compile on a raw spec.
    expect([spec.storage.rootPath, spec.gpu.sharing.mode, spec.os.ssh.port, spec.olaresd.version, spec.nodes.rollout.allowReboot]).to.deep.equal(["/olares", "None", 22, "1.12.1", false]);
    const jfs = defaultSpec({ version: "1.12.1", owner: { username: "alice" }, storage: { type: "JuiceFS", juicefs: { objectStore: { type: "ManagedMinIO" } } } });
    expect([jfs.storage.juicefs?.cache.dir, jfs.storage.juicefs?.cache.sizeMiB, jfs.storage.juicefs?.metadata.type]).to.deep.equal(["/olares/jfscache", 102400, "ManagedRedis"]);
  });
});
