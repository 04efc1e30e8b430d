// kind "packagesAbsent": distribution packages that must not be installed (e.g. unattended-upgrades, which
// upgrades packages behind our back, the pinned NVIDIA driver included). Undo reinstalls only what was
// installed before.
import type { HostTaskBase } from "../node-config.js";
import { isPackageName } from "../validators.js";
import { PACKAGE_NAME_RULE } from "./packages.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface PackagesAbsentTask extends HostTaskBase {
  kind: "packagesAbsent";
  names: string[];
}

export const packagesAbsentKind: HostTaskKindSpec<PackagesAbsentTask> = {
  kind: "packagesAbsent",
  validate(task, c) {
    c.list("names", task.names, isPackageName, PACKAGE_NAME_RULE, 1, 64);
  },
  describe: (task) => [`packages removed: ${task.names.join(" ")} (reinstalled on undo only where they were installed before)`],
};
