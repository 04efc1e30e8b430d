// kind "resolvConf": /etc/resolv.conf with these nameservers and no search line; systemd-resolved stood down if it owns it.
import type { HostTaskBase } from "../node-config.js";
import { isIP } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface ResolvConfTask extends HostTaskBase {
  kind: "resolvConf";
  nameservers: string[];
}

export const resolvConfKind: HostTaskKindSpec<ResolvConfTask> = {
  kind: "resolvConf",
  validate(task, c) {
    c.list("nameservers", task.nameservers, isIP, "must be an IPv4 or IPv6 address", 1, 3);
  },
  describe: (task) => [
    `file ${HOST_PATHS.resolvConf} (nameserver ${task.nameservers.join(", ")}; no search line)`,
    "unit systemd-resolved.service stopped and disabled if it owns resolv.conf",
  ],
};
