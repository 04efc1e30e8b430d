// kind "nvidiaDriver": NVIDIA driver from distribution packages, pinned; a new driver needs a reboot.
import type { HostTaskBase } from "../node-config.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface NvidiaDriverTask extends HostTaskBase {
  kind: "nvidiaDriver";
  /** Branch ("570") or full version ("570.133.20"). */
  version: string;
}

const DRIVER_VERSION = /^\d{3}(\.\d{1,3}){0,2}$/;

export function isNvidiaDriverVersion(s: string): boolean {
  return DRIVER_VERSION.test(s);
}

export const nvidiaDriverKind: HostTaskKindSpec<NvidiaDriverTask> = {
  kind: "nvidiaDriver",
  validate(task, c) {
    if (typeof task.version !== "string" || !isNvidiaDriverVersion(task.version)) {
      c.bad("version", task.version, "must be a driver branch or version such as 570 or 570.133.20");
    }
  },
  describe: (task) => [
    `packages nvidia-driver-${task.version.split(".")[0]} (or Debian's nvidia-driver) pinned to ${task.version}, kernel headers`,
    "reboot to load the new kernel module",
  ],
};
