// kind "timezone": IANA time zone, /etc/localtime symlink and /etc/timezone.
import type { HostTaskBase } from "../node-config.js";
import { isTimezone } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface TimezoneTask extends HostTaskBase {
  kind: "timezone";
  name: string;
}

export const timezoneKind: HostTaskKindSpec<TimezoneTask> = {
  kind: "timezone",
  validate(task, c) {
    if (!isTimezone(task.name)) c.bad("name", task.name, "must be an IANA time zone name such as Europe/Berlin");
  },
  describe: (task) => [`symlink ${HOST_PATHS.localtime} -> /usr/share/zoneinfo/${task.name}`, `file ${HOST_PATHS.timezone}`],
};
