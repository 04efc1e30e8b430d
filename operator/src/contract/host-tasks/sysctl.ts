// kind "sysctl": kernel parameters in /etc/sysctl.d/90-olares.conf.
import type { HostTaskBase } from "../node-config.js";
import { isSysctlKey, isSysctlValue } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface SysctlTask extends HostTaskBase {
  kind: "sysctl";
  values: Record<string, string>;
}

export const sysctlKind: HostTaskKindSpec<SysctlTask> = {
  kind: "sysctl",
  validate(task, c) {
    const values = task.values;
    if (values === null || typeof values !== "object" || Array.isArray(values)) {
      c.bad("values", values, "must be a map of key to value");
      return;
    }
    for (const [k, v] of Object.entries(values)) {
      if (!isSysctlKey(k)) c.bad(`values[${k}]`, k, "key must match ^[a-z0-9_.-/]+$");
      if (typeof v !== "string" || !isSysctlValue(v)) c.bad(`values[${k}]`, v, "value must be letters, digits, spaces and ._:,/+=- only");
    }
  },
  describe: (task) => [
    `file ${HOST_PATHS.sysctl} (${Object.entries(task.values).map(([k, v]) => `${k}=${v}`).join(", ")})`,
    "sysctl -p on the running kernel",
  ],
};
