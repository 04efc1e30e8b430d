// Loads the OlaresInstallation CRD from the repository's crds/ folder, found relative to this module so it
// works from tsx (operator/src/api) and from the build (dist/operator/src/api) alike.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import type { JSONSchemaProps } from "./schema-validation.js";

export const GROUP = "olares.com";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "OlaresInstallation";
export const PLURAL = "olaresinstallations";
export const CRD_NAME = `${PLURAL}.${GROUP}`;
export const CRD_FILE_NAME = "olares.com_olaresinstallations.yaml";

export interface CustomResourceDefinition {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: {
    group: string;
    scope: "Cluster" | "Namespaced";
    names: { kind: string; listKind?: string; plural: string; singular?: string; shortNames?: string[]; categories?: string[] };
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: Record<string, never>; scale?: unknown };
      additionalPrinterColumns?: Array<{ name: string; type: string; jsonPath: string; description?: string; priority?: number; format?: string }>;
      schema: { openAPIV3Schema: JSONSchemaProps };
    }>;
  };
}

/** Absolute path of crds/<file>, searched upwards from this module's folder. */
export function crdPath(fileName: string = CRD_FILE_NAME): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, "crds", fileName);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`crds/${fileName} not found above ${dirname(fileURLToPath(import.meta.url))}`);
    dir = parent;
  }
}

/** The CRD YAML exactly as shipped (what `olares-operator crd` prints). */
export function readCrdYaml(): string {
  return readFileSync(crdPath(), "utf8");
}

let cached: CustomResourceDefinition | undefined;

/** The parsed CRD; parsed once per process. Treat it as read-only. */
export function loadCrd(): CustomResourceDefinition {
  cached ??= parse(readCrdYaml()) as CustomResourceDefinition;
  return cached;
}

/** openAPIV3Schema of the served storage version. */
export function loadSchema(): JSONSchemaProps {
  const version = loadCrd().spec.versions.find((v) => v.name === VERSION);
  if (!version) throw new Error(`CRD ${CRD_NAME} has no version ${VERSION}`);
  return version.schema.openAPIV3Schema;
}
