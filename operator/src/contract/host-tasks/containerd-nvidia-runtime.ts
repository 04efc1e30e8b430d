// kind "containerdNvidiaRuntime": the NVIDIA runtime registered in containerd (and made the default).
import type { HostTaskBase } from "../node-config.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface ContainerdNvidiaRuntimeTask extends HostTaskBase {
  kind: "containerdNvidiaRuntime";
}

export const containerdNvidiaRuntimeKind: HostTaskKindSpec<ContainerdNvidiaRuntimeTask> = {
  kind: "containerdNvidiaRuntime",
  validate: () => undefined,
  describe: () => [
    `file ${HOST_PATHS.containerdNvidiaFragment} (nvidia runtime, containerd's default; needs ${HOST_PATHS.containerdConfig} to import /etc/containerd/conf.d/*.toml, never edited)`,
    "unit containerd.service restarted when the file changed",
  ],
};
