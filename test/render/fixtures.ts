// Specs and facts for render tests, defaulted the way the controller and `plan` default them.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { applyDefaults, type DefaultedSpec } from "../../operator/src/api/index.js";
import type { ClusterFacts } from "../../operator/src/contract/index.js";

export const FACTS: ClusterFacts = {
  nodes: [{ name: "node-1", labels: { "kubernetes.io/hostname": "node-1" } }],
  ownerUid: "11111111-2222-3333-4444-555555555555",
  operatorImage: "ghcr.io/olares-operator/olares-operator:test",
  installationName: "olares",
};

export function spec(overrides: Record<string, unknown> = {}): DefaultedSpec {
  const raw = { version: "1.12.1", owner: { username: "alice" }, storage: { type: "LocalFS" }, ...overrides };
  return applyDefaults({ apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name: "olares" }, spec: raw }).spec;
}

/** The OlaresInstallation document of a YAML file (other documents skipped). */
export function installationFromFile(path: string): Record<string, unknown> {
  const docs = parseAllDocuments(readFileSync(path, "utf8"));
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    const v = d.toJS() as Record<string, unknown> | null;
    if (v?.kind === "OlaresInstallation") return v;
  }
  throw new Error(`${path}: no OlaresInstallation`);
}

export function specFromFile(path: string): DefaultedSpec {
  return applyDefaults(installationFromFile(path)).spec;
}
