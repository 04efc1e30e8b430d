// kind "timesync": time sync through systemd-timesyncd, or chrony where it is installed.
import type { HostTaskBase } from "../node-config.js";
import { isHostname, isIP } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface TimesyncTask extends HostTaskBase {
  kind: "timesync";
  servers: string[];
}

export const timesyncKind: HostTaskKindSpec<TimesyncTask> = {
  kind: "timesync",
  validate(task, c) {
    c.list("servers", task.servers, (s) => isIP(s) || isHostname(s), "must be a host name or IP address", 1, 16);
  },
  describe: (task) => [
    `file ${HOST_PATHS.timesyncdDropin} (NTP=${task.servers.join(" ")}), or ${HOST_PATHS.chronySources} where chrony is installed`,
    "unit systemd-timesyncd.service (or chrony.service) enabled, started",
    "packages systemd-timesyncd if missing",
  ],
};
