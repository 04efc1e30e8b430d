// kind "containerdMirrors": containerd registry mirrors, /etc/containerd/certs.d/<registry>/hosts.toml.
import type { HostTaskBase } from "../node-config.js";
import { isMirrorEndpoint, isRegistryName } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface RegistryMirror {
  /** Registry host[:port], e.g. "docker.io"; "_default" applies to every registry. */
  registry: string;
  /** https endpoints tried in order before the registry itself. */
  endpoints: string[];
}

export interface ContainerdMirrorsTask extends HostTaskBase {
  kind: "containerdMirrors";
  mirrors: RegistryMirror[];
}

export const containerdMirrorsKind: HostTaskKindSpec<ContainerdMirrorsTask> = {
  kind: "containerdMirrors",
  validate(task, c) {
    if (!Array.isArray(task.mirrors) || task.mirrors.length > 32) {
      c.bad("mirrors", task.mirrors, "must be a list of at most 32 mirrors");
      return;
    }
    task.mirrors.forEach((m, i) => {
      if (typeof m?.registry !== "string" || !isRegistryName(m.registry)) c.bad(`mirrors[${i}].registry`, m?.registry, "must be host[:port] or _default");
      c.list(`mirrors[${i}].endpoints`, m?.endpoints, isMirrorEndpoint, "must be an https URL without credentials, query or quotes", 1, 16);
    });
  },
  describe: (task) => [
    ...task.mirrors.map((m) => `file ${HOST_PATHS.containerdCertsD}/${m.registry}/hosts.toml (${m.endpoints.join(", ")})`),
    `file ${HOST_PATHS.containerdCertsD}/<registry>/hosts.toml of registries no longer listed: original put back (or removed)`,
    "unit containerd.service restarted when a file changed",
  ],
};
