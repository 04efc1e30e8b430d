// kind "nvidiaToolkit": nvidia-container-toolkit, pinned when a version is given ("" = distribution's current).
import type { HostTaskBase } from "../node-config.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface NvidiaToolkitTask extends HostTaskBase {
  kind: "nvidiaToolkit";
  version: string;
}

const TOOLKIT_VERSION = /^(\d{1,3}\.\d{1,3}\.\d{1,3}(-\d{1,3})?)?$/;

export function isNvidiaToolkitVersion(s: string): boolean {
  return TOOLKIT_VERSION.test(s);
}

export const nvidiaToolkitKind: HostTaskKindSpec<NvidiaToolkitTask> = {
  kind: "nvidiaToolkit",
  validate(task, c) {
    if (typeof task.version !== "string" || !isNvidiaToolkitVersion(task.version)) {
      c.bad("version", task.version, "must be empty or a version such as 1.17.8 or 1.17.8-1");
    }
  },
  describe: (task) => [`packages nvidia-container-toolkit ${task.version || "(current)"} with its libraries`],
};
