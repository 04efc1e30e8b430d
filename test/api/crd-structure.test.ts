// The CRD itself: identity, printer columns, and a structural walk (descriptions, types, bounds).
import { expect } from "chai";
import { loadCrd, loadSchema, readCrdYaml } from "../../operator/src/api/crd.js";
import { applySchemaDefaults, compileCelRule, validateAgainstSchema } from "../../operator/src/api/schema-validation.js";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition";
import { collectNodes, collectRules } from "./helpers.js";

/** apiextensions.k8s.io/v1 JSONSchemaProps fields (a typo such as maxlength would be silently ignored). */
const SCHEMA_KEYWORDS = new Set([
  "type", "description", "title", "format", "default", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum",
  "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
  "required", "properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "not", "nullable", "example",
  "externalDocs", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource",
  "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
]);
const RULE_KEYS = new Set(["rule", "message", "messageExpression", "reason", "fieldPath", "optionalOldSelf"]);

describe("OlaresInstallation CRD", () => {
  const crd = loadCrd();
  const schema = loadSchema();
  const nodes = collectNodes(schema);

  it("is cluster-scoped olares.com/v1alpha1 with short names and a status subresource", () => {
    expect(crd.metadata.name).to.equal("olaresinstallations.olares.com");
    expect(crd.spec.group).to.equal("olares.com");
    expect(crd.spec.scope).to.equal("Cluster");
    expect(crd.spec.names).to.include({ kind: "OlaresInstallation", plural: "olaresinstallations", singular: "olaresinstallation" });
    expect(crd.spec.names.shortNames).to.deep.equal(["olares", "oi"]);
    expect(crd.spec.versions.map((v) => [v.name, v.served, v.storage])).to.deep.equal([["v1alpha1", true, true]]);
    expect(crd.spec.versions[0].subresources?.status).to.deep.equal({});
  });

  it("prints Phase, Version, Storage, Progress (of a storage migration), Ready and Age by default", () => {
    const columns = crd.spec.versions[0].additionalPrinterColumns ?? [];
    const visible = columns.filter((c) => !c.priority);
    expect(visible.map((c) => c.name)).to.deep.equal(["Phase", "Version", "Storage", "Progress", "Ready", "Age"]);
    expect(visible.find((c) => c.name === "Progress")?.jsonPath).to.equal(".status.storage.migration.progress");
    expect(visible.find((c) => c.name === "Ready")?.jsonPath).to.equal('.status.conditions[?(@.type=="Ready")].status');
    expect(visible.find((c) => c.name === "Storage")?.jsonPath).to.equal(".status.storage.activeType");
    expect(columns.find((c) => c.name === "Requested-Storage")?.jsonPath).to.equal(".spec.storage.type");
  });

  it("is a valid apiextensions.k8s.io/v1 CustomResourceDefinition", () => {
    expect(() => new CustomResourceDefinition(structuredClone(crd) as never).validate()).to.not.throw();
  });

  it("uses only JSONSchemaProps keywords and ValidationRule fields", () => {
    for (const n of nodes) expect(Object.keys(n.schema).filter((k) => !SCHEMA_KEYWORDS.has(k)), n.path).to.deep.equal([]);
    for (const site of collectRules(schema)) expect(Object.keys(site.rule).filter((k) => !RULE_KEYS.has(k)), site.path).to.deep.equal([]);
  });

  it("gives every property a description (kubectl explain)", () => {
    // Root metadata is ObjectMeta, described by the apiserver itself; the CRD may only restrict name there.
    const missing = nodes.filter((n) => n.path !== "" && n.path !== "metadata" && !n.schema.description?.trim()).map((n) => n.path);
    expect(missing).to.deep.equal([]);
  });

  it("is structural: every node has a type, except int-or-string", () => {
    const untyped = nodes.filter((n) => !n.schema.type && !n.schema["x-kubernetes-int-or-string"]).map((n) => n.path);
    expect(untyped).to.deep.equal([]);
    for (const n of nodes.filter((x) => x.schema["x-kubernetes-int-or-string"])) {
      expect(n.schema.anyOf, n.path).to.deep.equal([{ type: "integer" }, { type: "string" }]);
    }
  });

  it("bounds every string, list and map (CEL cost estimation, request size)", () => {
    const spec = nodes.filter((n) => n.path.startsWith("spec") || n.path.startsWith("status"));
    const unboundedStrings = spec.filter((n) => n.schema.type === "string" && n.schema.maxLength === undefined && !n.schema.enum && !n.schema.format);
    const unboundedLists = spec.filter((n) => n.schema.type === "array" && n.schema.maxItems === undefined);
    const unboundedMaps = spec.filter((n) => typeof n.schema.additionalProperties === "object" && n.schema.maxProperties === undefined);
    expect(unboundedStrings.map((n) => n.path), "strings without maxLength").to.deep.equal([]);
    expect(unboundedLists.map((n) => n.path), "lists without maxItems").to.deep.equal([]);
    expect(unboundedMaps.map((n) => n.path), "maps without maxProperties").to.deep.equal([]);
  });

  it("declares list types for lists of scalars and keyed lists", () => {
    for (const n of nodes.filter((x) => x.schema.type === "array" && x.path.startsWith("spec"))) {
      expect(n.schema["x-kubernetes-list-type"], n.path).to.be.oneOf(["set", "map", "atomic"]);
    }
  });

  it("every default, once defaulted itself, validates against its node (schema and CEL), as the apiserver requires", () => {
    const withDefaults = nodes.filter((x) => x.schema.default !== undefined);
    expect(withDefaults.length).to.be.greaterThan(20);
    for (const n of withDefaults) {
      const value = applySchemaDefaults(n.schema, n.schema.default);
      expect(validateAgainstSchema(n.schema, value), n.path).to.deep.equal([]);
    }
  });

  it("every CEL rule compiles and every fieldPath names a declared field", () => {
    for (const site of collectRules(schema)) {
      expect(() => compileCelRule(site.rule.rule), site.rule.rule).to.not.throw();
      if (!site.rule.fieldPath) continue;
      let node = site.schema;
      for (const part of site.rule.fieldPath.split(".").slice(1)) {
        node = node.properties?.[part] as typeof node;
        expect(node, `${site.path}${site.rule.fieldPath}`).to.not.equal(undefined);
      }
    }
  });

  it("leaves root metadata to the apiserver (structural schema rule)", () => {
    expect(schema.properties?.metadata).to.deep.equal({ type: "object" });
  });

  it("has the api-outline field names", () => {
    const paths = new Set(nodes.map((n) => n.path));
    for (const path of [
      "spec.version", "spec.paused", "spec.owner.username", "spec.owner.domain", "spec.owner.email", "spec.owner.passwordSecretRef.key",
      "spec.kubernetes.distribution", "spec.registry.mirrors[].registry", "spec.registry.mirrors[].endpoints",
      "spec.storage.type", "spec.storage.rootPath", "spec.storage.juicefs.name", "spec.storage.juicefs.metadata.urlSecretRef",
      "spec.storage.juicefs.objectStore.credentialsSecretRef.sessionTokenKey", "spec.storage.juicefs.cache.sizeMiB",
      "spec.gpu.enabled", "spec.gpu.nvidia.driver.install", "spec.gpu.nvidia.toolkit.version", "spec.gpu.nvidia.devicePlugin.image",
      "spec.gpu.sharing.replicas", "spec.os.dns.nameservers", "spec.os.ntp.servers", "spec.os.ssh.passwordAuthentication",
      "spec.os.packages", "spec.os.sysctl", "spec.os.swap.zram.sizePercent", "spec.os.timezone", "spec.olaresd.sha256",
      "spec.coreServices{}.values", "spec.coreServices{}.resources", "spec.nodes.selector", "spec.nodes.skipLabel",
      "spec.nodes.driftPolicy", "spec.nodes.rollout.maxUnavailable", "spec.nodes.rollout.allowReboot",
      "status.observedGeneration", "status.phase", "status.conditions[].observedGeneration", "status.components[].stage",
      "status.nodes.degradedNodes[].reason", "status.storage.activeType", "status.storage.migration.progressPercent",
    ]) {
      expect(paths.has(path), path).to.equal(true);
    }
    expect(schema.properties?.status?.properties?.phase?.enum).to.include("Ignored");
  });

  it("loads from the repository crds/ folder", () => {
    expect(readCrdYaml()).to.match(/^# OlaresInstallation/);
  });
});
