// Decides whether a rendered object must be (re-)applied, so a converged cluster sees zero writes.
import type { KubeObject } from "../contract/index.js";
import { ANNOTATION_RENDER_HASH } from "../contract/index.js";

function isEmpty(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  if (v !== null && typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

/** Every field of `desired` has the same value in `live` (live may hold server-set extras). */
export function contains(live: unknown, desired: unknown): boolean {
  if (desired === undefined) return true;
  if (live === undefined || live === null) return isEmpty(desired);
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => contains(live[i], d));
  }
  if (desired !== null && typeof desired === "object") {
    if (typeof live !== "object" || Array.isArray(live)) return false;
    return Object.entries(desired as Record<string, unknown>).every(([k, v]) => contains((live as Record<string, unknown>)[k], v));
  }
  return live === desired;
}

/**
 * Apply when the object is missing, its render hash differs (the desired content changed, including
 * removed fields a subset check cannot see), or someone changed a field we own (drift).
 */
export function needsApply(desired: KubeObject, live: KubeObject | undefined): boolean {
  if (!live) return true;
  if (live.metadata.annotations?.[ANNOTATION_RENDER_HASH] !== desired.metadata.annotations?.[ANNOTATION_RENDER_HASH]) return true;
  const { metadata, ...body } = desired;
  const { name: _n, namespace: _ns, ...ownedMeta } = metadata;
  return !contains(live.metadata, ownedMeta) || !contains(live, body);
}
