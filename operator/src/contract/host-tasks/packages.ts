// kind "packages": distribution packages (Debian names; the agent maps the few that differ on RPM hosts).
import type { HostTaskBase } from "../node-config.js";
import { isPackageName } from "../validators.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface PackagesTask extends HostTaskBase {
  kind: "packages";
  names: string[];
  manager?: "auto";
}

export const PACKAGE_NAME_RULE = "must be a package name matching ^[a-z0-9][a-z0-9+.-]*$";

export const packagesKind: HostTaskKindSpec<PackagesTask> = {
  kind: "packages",
  validate(task, c) {
    c.list("names", task.names, isPackageName, PACKAGE_NAME_RULE, 1, 256);
    if (task.manager !== undefined && task.manager !== "auto") c.bad("manager", task.manager, "must be auto");
  },
  describe: (task) => [`packages ${task.names.join(" ")}`],
};
