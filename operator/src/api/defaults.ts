// Defaulting of an OlaresInstallation: the CRD's own defaults (what the apiserver fills in) plus the
// operator-side defaults that depend on other fields and so cannot live in the schema.
import { loadSchema } from "./crd.js";
import { applySchemaDefaults } from "./schema-validation.js";
import type {
  DefaultedJuiceFSCacheSpec,
  DefaultedJuiceFSSpec,
  DefaultedOlaresdSpec,
  DefaultedOlaresInstallationSpec,
  DefaultedStorageSpec,
  OlaresInstallation,
  OlaresInstallationSpec,
} from "./types.generated.js";

export const DEFAULT_ROOT_PATH = "/olares";
export const JUICEFS_CACHE_SUBDIR = "jfscache";

/** CRD defaults only, exactly what the apiserver stores. Returns a new object. */
export function applyCrdDefaults(obj: unknown): OlaresInstallation {
  return applySchemaDefaults(loadSchema(), obj) as OlaresInstallation;
}

/**
 * Operator-side defaults on a spec that already carries the CRD defaults: the JuiceFS cache lives in
 * <rootPath>/jfscache and olaresd follows spec.version. Returns a new spec; never written back to the CR.
 */
export function applyOperatorDefaults(spec: OlaresInstallationSpec): OlaresInstallationSpec {
  const out = structuredClone(spec);
  const rootPath = out.storage?.rootPath ?? DEFAULT_ROOT_PATH;
  if (out.storage?.juicefs) {
    out.storage.juicefs.cache ??= {};
    out.storage.juicefs.cache.dir ??= `${rootPath}/${JUICEFS_CACHE_SUBDIR}`;
  }
  out.olaresd ??= {};
  out.olaresd.version ??= out.version;
  return out;
}

declare const DEFAULTED: unique symbol;

/**
 * A spec with the CRD defaults and the operator defaults applied: what render/ and the controller work
 * from. Every defaulted field is required in the type (DefaultedOlaresInstallationSpec is generated from
 * the CRD's defaults), so no renderer falls back to a default of its own. Only applyDefaults makes one.
 */
export type DefaultedSpec = DefaultedOlaresInstallationSpec & {
  storage: DefaultedStorageSpec & { juicefs?: DefaultedJuiceFSSpec & { cache: DefaultedJuiceFSCacheSpec & { dir: string } } };
  olaresd: DefaultedOlaresdSpec & { version: string };
  readonly [DEFAULTED]: true;
};

export type DefaultedInstallation = Omit<OlaresInstallation, "spec"> & { spec: DefaultedSpec };

/** CRD defaults, then operator defaults: the spec the renderers work from. Returns a new object. */
export function applyDefaults(obj: unknown): DefaultedInstallation {
  const defaulted = applyCrdDefaults(obj);
  if (defaulted && typeof defaulted === "object" && defaulted.spec) defaulted.spec = applyOperatorDefaults(defaulted.spec);
  return defaulted as DefaultedInstallation;
}

/** Defaults of a spec alone (the controller's view of a CR's spec). */
export function defaultSpec(spec: unknown, name = "olares"): DefaultedSpec {
  return applyDefaults({ apiVersion: "olares.com/v1alpha1", kind: "OlaresInstallation", metadata: { name }, spec }).spec;
}
