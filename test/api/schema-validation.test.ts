// The generic machinery on small, non-Olares schemas: apiserver error shapes, defaulting, pruning, CEL.
import { expect } from "chai";
import {
  applySchemaDefaults,
  findUnknownFields,
  formatFieldError,
  pruneUnknownFields,
  toStatusBody,
  validateAgainstSchema,
  type JSONSchemaProps,
} from "../../operator/src/api/schema-validation.js";

const widget: JSONSchemaProps = {
  type: "object",
  properties: {
    apiVersion: { type: "string" },
    kind: { type: "string" },
    metadata: { type: "object" },
    spec: {
      type: "object",
      required: ["size"],
      properties: {
        size: { type: "integer", minimum: 1, maximum: 10 },
        color: { type: "string", enum: ["red", "blue"], default: "red" },
        name: { type: "string", maxLength: 5, pattern: "^[a-z]+$" },
        tags: { type: "array", maxItems: 2, "x-kubernetes-list-type": "set", items: { type: "string" } },
        ports: {
          type: "array",
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["name"],
          items: { type: "object", properties: { name: { type: "string", default: "http" }, port: { type: "integer", default: 80 } } },
        },
        labels: { type: "object", additionalProperties: { type: "object", properties: { weight: { type: "integer", default: 1 } } } },
        surge: { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }], pattern: "^[0-9]+%$" },
        note: { type: "string", nullable: true },
        free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, properties: { known: { type: "object", properties: { a: { type: "string" } } } } },
        nested: { type: "object", default: {}, properties: { level: { type: "integer", default: 3 } } },
        address: { type: "string", format: "ipv4" },
        immutable: { type: "string", "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "immutable is immutable" }] },
      },
      "x-kubernetes-validations": [
        { rule: "self.size < 5 || self.color == 'blue'", message: "big widgets are blue", fieldPath: ".color" },
        { rule: "!has(self.name) || self.name != 'bad'", messageExpression: "'name ' + self.name + ' is taken'", reason: "FieldValueForbidden", fieldPath: ".name" },
        { rule: "self.size != 7" },
      ],
    },
  },
};

function obj(spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return { apiVersion: "x.io/v1", kind: "Widget", metadata: { name: "w" }, spec, ...extra };
}

describe("schema-validation (generic, apiserver semantics)", () => {
  describe("error shapes", () => {
    const lines = (spec: Record<string, unknown>) => validateAgainstSchema(widget, applySchemaDefaults(widget, obj(spec))).map(formatFieldError);

    const skipped = 'Invalid value: "null": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation';
    it("Required value (and CEL rules are skipped, as the apiserver does)", () => {
      expect(lines({})).to.deep.equal(["spec.size: Required value", skipped]);
    });
    it("Unsupported value for enums", () => {
      expect(lines({ size: 1, color: "green" })).to.deep.equal(['spec.color: Unsupported value: "green": supported values: "red", "blue"', skipped]);
    });
    it("type errors name the expected type", () => {
      const errors = validateAgainstSchema(widget, obj({ size: "3" }));
      expect(errors.map(formatFieldError)).to.deep.equal(['spec.size: Invalid value: "string": spec.size in body must be of type integer: "string"', skipped]);
      expect(errors[0].type).to.equal("FieldValueTypeInvalid");
    });
    it("pattern, maxLength, minimum, maximum, format", () => {
      expect(lines({ size: 0, name: "ABCDEF", address: "300.1.1.1" })).to.include.members([
        "spec.size: Invalid value: 0: spec.size in body should be greater than or equal to 1",
        "spec.name: Too long: may not be more than 5 bytes",
        "spec.name: Invalid value: \"ABCDEF\": spec.name in body should match '^[a-z]+$'",
        'spec.address: Invalid value: "300.1.1.1": spec.address in body must be of type ipv4: "300.1.1.1"',
      ]);
      // A range error does not block CEL: the rule on size >= 5 still runs.
      expect(lines({ size: 11 })).to.deep.equal(["spec.size: Invalid value: 11: spec.size in body should be less than or equal to 10", 'spec.color: Invalid value: "object": big widgets are blue']);
    });
    it("Too many for maxItems and Duplicate value for list-type set and map", () => {
      expect(lines({ size: 1, tags: ["a", "b", "a"] })).to.have.members(["spec.tags: Too many: 3: must have at most 2 items", 'spec.tags[2]: Duplicate value: "a"', skipped]);
      expect(lines({ size: 1, ports: [{ port: 1 }, { name: "http", port: 2 }] })).to.deep.equal(['spec.ports[1]: Duplicate value: {"name":"http"}']);
    });
    it("map values are addressed as [key]", () => {
      expect(lines({ size: 1, labels: { "a.b/c": { weight: "x" } } })).to.deep.equal([
        'spec.labels[a.b/c].weight: Invalid value: "string": spec.labels[a.b/c].weight in body must be of type integer: "string"',
        skipped,
      ]);
    });
    it("int-or-string accepts both; the pattern applies to strings only", () => {
      expect(lines({ size: 1, surge: 3 })).to.deep.equal([]);
      expect(lines({ size: 1, surge: "30%" })).to.deep.equal([]);
      expect(lines({ size: 1, surge: "x" })[0]).to.match(/^spec.surge: Invalid value: "x": spec.surge in body should match/);
      expect(lines({ size: 1, surge: true })[0]).to.match(/^spec.surge: Invalid value: "boolean": spec.surge in body must be of type integer/);
    });
    it("nullable accepts null", () => {
      expect(lines({ size: 1, note: null })).to.deep.equal([]);
    });
  });

  describe("CEL rules", () => {
    const errorsOf = (spec: Record<string, unknown>, old?: Record<string, unknown>) =>
      validateAgainstSchema(widget, applySchemaDefaults(widget, obj(spec)), old && applySchemaDefaults(widget, obj(old)));

    it("uses message, fieldPath and reason", () => {
      const [error] = errorsOf({ size: 6 });
      expect(error).to.deep.equal({ field: "spec.color", type: "FieldValueInvalid", value: "object", message: 'Invalid value: "object": big widgets are blue' });
    });
    it("evaluates messageExpression", () => {
      expect(errorsOf({ size: 1, name: "bad" }).map(formatFieldError)).to.deep.equal(["spec.name: Forbidden: name bad is taken"]);
    });
    it("falls back to 'failed rule: <rule>'", () => {
      expect(errorsOf({ size: 7, color: "blue" }).map(formatFieldError)).to.deep.equal(['spec: Invalid value: "object": failed rule: self.size != 7']);
    });
    it("evaluates transition rules only when the old value exists", () => {
      expect(errorsOf({ size: 1, immutable: "a" })).to.deep.equal([]);
      expect(errorsOf({ size: 1, immutable: "a" }, { size: 1 })).to.deep.equal([]);
      expect(errorsOf({ size: 1, immutable: "a" }, { size: 1, immutable: "a" })).to.deep.equal([]);
      expect(errorsOf({ size: 1, immutable: "b" }, { size: 1, immutable: "a" }).map(formatFieldError)).to.deep.equal([
        'spec.immutable: Invalid value: "string": immutable is immutable',
      ]);
    });
    it("runs optionalOldSelf rules on create too, with oldSelf as an optional", () => {
      const schema: JSONSchemaProps = {
        type: "object",
        properties: { v: { type: "integer", "x-kubernetes-validations": [{ rule: "self >= oldSelf.orValue(5)", message: "v may only grow, from 5", optionalOldSelf: true }] } },
      };
      expect(validateAgainstSchema(schema, { v: 6 })).to.deep.equal([]);
      expect(validateAgainstSchema(schema, { v: 4 }).map(formatFieldError)).to.deep.equal(['v: Invalid value: "integer": v may only grow, from 5']);
      expect(validateAgainstSchema(schema, { v: 4 }, { v: 3 })).to.deep.equal([]);
      expect(validateAgainstSchema(schema, { v: 7 }, { v: 8 })).to.have.length(1);
    });

    it("reports a runtime error (no such key) with the rule", () => {
      const schema: JSONSchemaProps = { type: "object", properties: { a: { type: "string" } }, "x-kubernetes-validations": [{ rule: "self.a == 'x'" }] };
      const [error] = validateAgainstSchema(schema, {});
      expect(error.field).to.equal("");
      expect(error.message).to.match(/no such key: a evaluating rule: self\.a == 'x'/i);
    });
    it("sees integers as CEL int and nulls as absent", () => {
      const schema: JSONSchemaProps = {
        type: "object",
        properties: { n: { type: "integer" }, s: { type: "string", nullable: true } },
        "x-kubernetes-validations": [{ rule: "type(self.n) == int && !has(self.s)", message: "typed" }],
      };
      expect(validateAgainstSchema(schema, { n: 3, s: null })).to.deep.equal([]);
    });
  });

  describe("defaulting", () => {
    it("fills missing fields of present objects, recursing into defaulted objects, list items and map values", () => {
      const out = applySchemaDefaults(widget, obj({ size: 1, ports: [{}], labels: { a: {} } })) as { spec: Record<string, unknown> };
      expect(out.spec).to.deep.equal({ size: 1, color: "red", ports: [{ name: "http", port: 80 }], labels: { a: { weight: 1 } }, nested: { level: 3 } });
    });
    it("keeps given values, replaces non-nullable nulls, drops nulls without default, keeps nullable nulls", () => {
      const out = applySchemaDefaults(widget, obj({ size: 1, color: null, name: null, note: null, nested: { level: 9 } })) as { spec: Record<string, unknown> };
      expect(out.spec).to.deep.equal({ size: 1, color: "red", note: null, nested: { level: 9 } });
    });
    it("does not create absent parents without a default and does not mutate its input", () => {
      const input = obj({ size: 1 });
      const frozen = JSON.stringify(input);
      const out = applySchemaDefaults(widget, input) as { spec: Record<string, unknown> };
      expect(out.spec.labels).to.equal(undefined);
      expect(JSON.stringify(input)).to.equal(frozen);
    });
  });

  describe("pruning", () => {
    it("drops undeclared fields, keeps apiVersion/kind/metadata and preserve-unknown-fields subtrees", () => {
      const input = obj({ size: 1, junk: 1, labels: { a: { weight: 1, extra: true } }, free: { anything: { goes: 1 }, known: { a: "x", b: "pruned" } } }, { extraTop: 1 });
      (input.metadata as Record<string, unknown>).labels = { keep: "me" };
      const out = pruneUnknownFields(widget, input) as Record<string, unknown>;
      expect(out).to.deep.equal({
        apiVersion: "x.io/v1",
        kind: "Widget",
        metadata: { name: "w", labels: { keep: "me" } },
        spec: { size: 1, labels: { a: { weight: 1 } }, free: { anything: { goes: 1 }, known: { a: "x" } } },
      });
      expect(findUnknownFields(widget, input)).to.have.members(["extraTop", "spec.junk", "spec.labels[a].extra", "spec.free.known.b"]);
    });
  });

  describe("toStatusBody", () => {
    it("builds the apiserver's 422 Status for one error", () => {
      const errors = validateAgainstSchema(widget, obj({ size: 1, immutable: "b" }), obj({ size: 1, immutable: "a" }));
      expect(toStatusBody("Widget.x.io", "w", errors)).to.deep.equal({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: 'Widget.x.io "w" is invalid: spec.immutable: Invalid value: "string": immutable is immutable',
        reason: "Invalid",
        details: {
          name: "w",
          group: "x.io",
          kind: "Widget",
          causes: [{ reason: "FieldValueInvalid", message: 'Invalid value: "string": immutable is immutable', field: "spec.immutable" }],
        },
        code: 422,
      });
    });
    it("brackets several errors and accepts a GroupKind or a core kind", () => {
      const errors = validateAgainstSchema(widget, obj({ color: "green" }));
      const body = toStatusBody({ group: "olares.com", kind: "OlaresInstallation" }, "x", errors);
      expect(body.message).to.match(/^OlaresInstallation.olares.com "x" is invalid: \[spec.size: Required value, spec.color: Unsupported value: "green": supported values: "red", "blue", Invalid value: "null": some validation rules were not checked/);
      expect(body.details.causes.map((c) => c.reason)).to.deep.equal(["FieldValueRequired", "FieldValueNotSupported", "FieldValueInvalid"]);
      const core = toStatusBody("Pod", "p", errors.slice(0, 1));
      expect(core.message).to.equal('Pod "p" is invalid: spec.size: Required value');
      expect(core.details).to.not.have.property("group");
    });
  });
});
