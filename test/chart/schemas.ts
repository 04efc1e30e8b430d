// Validates rendered objects against the upstream Kubernetes OpenAPI schemas (kubernetes-models) and
// OlaresInstallation objects against our CRD with apiserver semantics (operator/src/api). An unknown kind is an error.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv } from "ajv";
import { parse } from "yaml";
import { ConfigMap, Namespace, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { CustomResourceDefinition } from "kubernetes-models/apiextensions.k8s.io/v1";
import { StorageClass } from "kubernetes-models/storage.k8s.io/v1";
import type { KubeObject } from "../../operator/src/contract/index.js";
import {
  applySchemaDefaults,
  findUnknownFields,
  formatFieldError,
  validateAgainstSchema,
  type JSONSchemaProps,
} from "../../operator/src/api/schema-validation.js";
import { ROOT } from "./tools.js";

type Model = new (data: never) => { validate(): void };

const MODELS: Record<string, Model> = {
  "v1/ConfigMap": ConfigMap,
  "v1/Namespace": Namespace,
  "v1/Secret": Secret,
  "v1/Service": Service,
  "v1/ServiceAccount": ServiceAccount,
  "apps/v1/DaemonSet": DaemonSet,
  "apps/v1/Deployment": Deployment,
  "apps/v1/StatefulSet": StatefulSet,
  "batch/v1/Job": Job,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding,
  "rbac.authorization.k8s.io/v1/Role": Role,
  "rbac.authorization.k8s.io/v1/RoleBinding": RoleBinding,
  "apiextensions.k8s.io/v1/CustomResourceDefinition": CustomResourceDefinition,
  "storage.k8s.io/v1/StorageClass": StorageClass,
};

export const CRD_PATH = join(ROOT, "crds/olares.com_olaresinstallations.yaml");

let crdSchema: JSONSchemaProps | undefined;

function olaresSchema(): JSONSchemaProps {
  if (crdSchema) return crdSchema;
  const crd = parse(readFileSync(CRD_PATH, "utf8")) as {
    spec: { versions: Array<{ name: string; schema: { openAPIV3Schema: JSONSchemaProps } }> };
  };
  const version = crd.spec.versions.find((v) => v.name === "v1alpha1");
  if (!version) throw new Error(`${CRD_PATH}: no v1alpha1 version`);
  crdSchema = version.schema.openAPIV3Schema;
  return crdSchema;
}

/** As the apiserver would: unknown fields (which it would silently drop) are errors here, then default and validate (OpenAPI + CEL). */
function validateOlares(obj: KubeObject, where: string): void {
  const schema = olaresSchema();
  const unknown = findUnknownFields(schema, obj);
  if (unknown.length > 0) throw new Error(`${where}: fields the CRD does not declare (the apiserver would drop them): ${unknown.join(", ")}`);
  const errors = validateAgainstSchema(schema, applySchemaDefaults(schema, obj));
  if (errors.length > 0) throw new Error(`${where} does not match the CRD schema: ${errors.map(formatFieldError).join("; ")}`);
}

let smValidator: ((data: unknown) => boolean) & { errors?: unknown } | undefined;

/** The subset of monitoring.coreos.com/v1 ServiceMonitor the chart renders (upstream field names and types). */
function serviceMonitorValidator() {
  smValidator ??= new Ajv({ allErrors: true }).compile({
    type: "object",
    required: ["metadata", "spec"],
    properties: {
      spec: {
        type: "object",
        additionalProperties: false,
        required: ["selector", "endpoints"],
        properties: {
          selector: { type: "object", required: ["matchLabels"], properties: { matchLabels: { type: "object", additionalProperties: { type: "string" } } } },
          namespaceSelector: { type: "object", additionalProperties: false, properties: { matchNames: { type: "array", items: { type: "string" } }, any: { type: "boolean" } } },
          endpoints: {
            type: "array",
            minItems: 1,
            items: {
              type: "object",
              additionalProperties: false,
              properties: {
                port: { type: "string" },
                path: { type: "string" },
                interval: { type: "string", pattern: "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$" },
                scrapeTimeout: { type: "string", pattern: "^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$" },
              },
            },
          },
        },
      },
    },
  });
  return smValidator;
}

/** Throws with the kind, name and first schema errors when `obj` does not validate. */
export function validateObject(obj: KubeObject): void {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const where = `${obj.kind}/${obj.metadata?.name}`;
  if (key === "olares.com/v1alpha1/OlaresInstallation") {
    validateOlares(obj, where);
    return;
  }
  if (key === "monitoring.coreos.com/v1/ServiceMonitor") {
    // kubernetes-models has no prometheus-operator kinds: check the fields the chart sets.
    const validate = serviceMonitorValidator();
    if (!validate(obj)) throw new Error(`${where} is not a valid ServiceMonitor: ${JSON.stringify(validate.errors).slice(0, 600)}`);
    return;
  }
  const model = MODELS[key];
  if (!model) throw new Error(`${where}: no upstream schema known for ${key}; add it to test/chart/schemas.ts`);
  try {
    new model(obj as never).validate();
  } catch (err) {
    throw new Error(`${where} does not match the upstream ${key} schema: ${(err as Error).message}`);
  }
}
