// Discovery documents: /api, /apis, /api/v1, /apis/<g>/<v>, and aggregated discovery (apidiscovery.k8s.io/v2).
import type { ResourceRegistry } from "./registry.js";
import type { ResourceType } from "./types.js";

export const AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

const SERVER_ADDRESS = [{ clientCIDR: "0.0.0.0/0", serverAddress: "127.0.0.1" }];

function subresourceVerbs(sub: string): string[] {
  if (sub === "log") return ["get"];
  if (sub === "eviction") return ["create"];
  if (sub === "finalize") return ["update"];
  return ["get", "patch", "update"];
}

/** The kind a subresource speaks (Scale and Eviction live in other groups). */
function subresourceKind(rt: ResourceType, sub: string, version: string): { group: string; version: string; kind: string } {
  if (sub === "scale") return { group: "autoscaling", version: "v1", kind: "Scale" };
  if (sub === "eviction") return { group: "policy", version: "v1", kind: "Eviction" };
  if (sub === "log") return { group: "", version: "v1", kind: "Pod" };
  return { group: rt.group, version, kind: rt.kind };
}

function subresources(rt: ResourceType): string[] {
  const out = [...rt.extraSubresources];
  if (rt.statusSubresource) out.push("status");
  if (rt.scale) out.push("scale");
  return out;
}

export function coreVersions(): object {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: SERVER_ADDRESS };
}

export function groupList(registry: ResourceRegistry): object {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: [...registry.groups()].map(([name, versions]) => groupDoc(name, versions)),
  };
}

function groupDoc(name: string, versions: string[]) {
  const vs = versions.map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
  return { name, versions: vs, preferredVersion: vs[0] };
}

export function group(registry: ResourceRegistry, name: string): object | undefined {
  const versions = registry.groups().get(name);
  return versions ? { kind: "APIGroup", apiVersion: "v1", ...groupDoc(name, versions) } : undefined;
}

export function resourceList(registry: ResourceRegistry, groupName: string, version: string): object | undefined {
  const rts = registry.all().filter((rt) => rt.group === groupName && rt.versions.includes(version));
  if (rts.length === 0) return undefined;
  const resources: object[] = [];
  for (const rt of rts) {
    resources.push({
      name: rt.resource,
      singularName: rt.singular,
      namespaced: rt.namespaced,
      kind: rt.kind,
      verbs: rt.verbs,
      ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
      ...(rt.categories.length ? { categories: rt.categories } : {}),
      storageVersionHash: Buffer.from(`${rt.group}/${rt.resource}`).toString("base64").slice(0, 11),
    });
    for (const sub of subresources(rt)) {
      const k = subresourceKind(rt, sub, version);
      const gv = k.group !== rt.group || k.version !== version ? { group: k.group, version: k.version } : {};
      resources.push({ name: `${rt.resource}/${sub}`, singularName: "", namespaced: rt.namespaced, ...gv, kind: k.kind, verbs: subresourceVerbs(sub) });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion: groupName ? `${groupName}/${version}` : version, resources };
}

/** apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core) or /apis (all named groups). */
export function aggregated(registry: ResourceRegistry, core: boolean): object {
  const groups = core ? new Map([["", ["v1"]]]) : registry.groups();
  const items = [...groups].map(([name, versions]) => ({
    metadata: { name, creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      freshness: "Current",
      resources: registry
        .all()
        .filter((rt) => rt.group === name && rt.versions.includes(version))
        .map((rt) => ({
          resource: rt.resource,
          responseKind: { group: rt.group, version, kind: rt.kind },
          scope: rt.namespaced ? "Namespaced" : "Cluster",
          singularResource: rt.singular,
          verbs: rt.verbs,
          ...(rt.shortNames.length ? { shortNames: rt.shortNames } : {}),
          ...(rt.categories.length ? { categories: rt.categories } : {}),
          ...(subresources(rt).length
            ? {
                subresources: subresources(rt).map((sub) => ({
                  subresource: sub,
                  responseKind: subresourceKind(rt, sub, version),
                  verbs: subresourceVerbs(sub),
                })),
              }
            : {}),
        })),
    })),
  }));
  return { kind: "APIGroupDiscoveryList", apiVersion: "apidiscovery.k8s.io/v2", metadata: {}, items };
}
