// Resolves kind → REST resource: built-in table first, then API discovery (/api/v1, /apis/<g>/<v>),
// cached per group-version. A kind missing from a cached answer triggers one refresh (a CRD that was
// just installed), at most once per `refreshIntervalMs`, so a typo cannot storm the API server.
import { realClock, type Clock } from "./clock.js";
import { ApiError, isNotFound } from "./errors.js";
import { builtInResource, splitApiVersion, type ResourceInfo } from "./resources.js";
import type { Transport } from "./transport.js";

interface ApiResourceList {
  resources?: Array<{ name: string; kind: string; namespaced: boolean }>;
}

interface CacheEntry {
  fetchedAt: number;
  byKind: Map<string, ResourceInfo>;
}

export class Discovery {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inflight = new Map<string, Promise<CacheEntry>>();

  constructor(
    private readonly transport: Transport,
    private readonly clock: Clock = realClock,
    private readonly refreshIntervalMs = 30_000,
  ) {}

  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo> {
    const known = builtInResource(apiVersion, kind);
    if (known) return known;
    let entry = this.cache.get(apiVersion);
    if (!entry || (!entry.byKind.has(kind) && this.clock.now() - entry.fetchedAt >= this.refreshIntervalMs)) {
      entry = await this.fetch(apiVersion);
    }
    const info = entry.byKind.get(kind);
    if (!info) {
      // reason NoKindMatch (client-go meta.NoKindMatchError): the kind, not the object, is missing.
      throw new ApiError(404, "NoKindMatch", `no kind "${kind}" is served in ${apiVersion} (is its CustomResourceDefinition installed?)`);
    }
    return info;
  }

  /** Drops cached answers (e.g. after installing CRDs). */
  invalidate(): void {
    this.cache.clear();
  }

  private fetch(apiVersion: string): Promise<CacheEntry> {
    let p = this.inflight.get(apiVersion);
    if (!p) {
      p = this.load(apiVersion).finally(() => this.inflight.delete(apiVersion));
      this.inflight.set(apiVersion, p);
    }
    return p;
  }

  private async load(apiVersion: string): Promise<CacheEntry> {
    const { group, version } = splitApiVersion(apiVersion);
    const path = group === "" ? `/api/${version}` : `/apis/${group}/${version}`;
    let list: ApiResourceList = {};
    try {
      const res = await this.transport.request({ verb: "discovery", method: "GET", path });
      list = JSON.parse(res.body) as ApiResourceList;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const byKind = new Map<string, ResourceInfo>();
    for (const r of list.resources ?? []) {
      if (r.name.includes("/")) continue; // subresources such as "olaresinstallations/status"
      byKind.set(r.kind, { group, version, kind: r.kind, plural: r.name, namespaced: r.namespaced });
    }
    const entry = { fetchedAt: this.clock.now(), byKind };
    this.cache.set(apiVersion, entry);
    return entry;
  }
}
