// Read-your-writes for the CR's status: after a status write the informer cache may still hold the
// CR as it was before, and comparing against that stale status would write (and announce) the same
// status again. The overlay answers with what we wrote until the cache shows a newer object.
import type { KubeObject } from "../contract/index.js";
import type { InstallationStatus } from "./status.js";

interface Written {
  /** resourceVersion of the CR the status was computed from. */
  basedOn: string | undefined;
  /** resourceVersion the API server returned for the write. */
  resourceVersion: string | undefined;
  status: InstallationStatus;
}

export class StatusWriteOverlay {
  private readonly written = new Map<string, Written>();

  record(before: KubeObject, after: KubeObject | undefined, status: InstallationStatus): void {
    this.written.set(before.metadata.name, { basedOn: before.metadata.resourceVersion, resourceVersion: after?.metadata.resourceVersion, status });
  }

  /** `cached` with our last written status while the cache has not caught up with that write. */
  overlay(cached: KubeObject): KubeObject {
    const w = this.written.get(cached.metadata.name);
    if (!w) return cached;
    const rv = cached.metadata.resourceVersion;
    if (!isOlder(rv, w)) {
      this.written.delete(cached.metadata.name);
      return cached;
    }
    return { ...cached, status: w.status };
  }
}

/**
 * Whether the cached object predates our write. resourceVersions are opaque; the API server's are etcd
 * revisions (integers), so they are compared as numbers when both are, else only the base is known older.
 */
function isOlder(rv: string | undefined, w: Written): boolean {
  if (rv === undefined) return false;
  if (w.resourceVersion !== undefined && /^\d+$/.test(rv) && /^\d+$/.test(w.resourceVersion)) return BigInt(rv) < BigInt(w.resourceVersion);
  return rv === w.basedOn && rv !== w.resourceVersion;
}
