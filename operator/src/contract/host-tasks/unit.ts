// kind "unit": a systemd unit: optional unit file (/etc/systemd/system/<name>), enablement and run state.
import type { HostTaskBase } from "../node-config.js";
import { isUnitName } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import { isContent, TASK_ID, type HostTaskKindSpec } from "./rules.js";

export interface UnitTask extends HostTaskBase {
  kind: "unit";
  name: string;
  content?: string;
  enable: boolean;
  state: "started" | "stopped";
  /** Restart the unit when any of these task ids changed something in the same apply. */
  restartOnChange?: string[];
}

export const unitKind: HostTaskKindSpec<UnitTask> = {
  kind: "unit",
  validate(task, c) {
    if (!isUnitName(task.name)) c.bad("name", task.name, "must be a systemd unit name (e.g. olaresd.service)");
    if (task.content !== undefined && !isContent(task.content)) c.bad("content", "(content)", "must be text without NUL bytes");
    if (typeof task.enable !== "boolean") c.bad("enable", task.enable, "must be a boolean");
    if (task.state !== "started" && task.state !== "stopped") c.bad("state", task.state, "must be started or stopped");
    if (task.restartOnChange !== undefined) c.list("restartOnChange", task.restartOnChange, (s) => TASK_ID.test(s), "must be a task id", 0, 64);
  },
  describe: (task) => [
    ...(task.content !== undefined ? [`file ${HOST_PATHS.systemdUnits}/${task.name}`] : []),
    `unit ${task.name} ${task.enable ? "enabled" : "disabled"}, ${task.state}`,
    ...(task.restartOnChange?.length ? [`unit ${task.name} restarted when ${task.restartOnChange.join(" or ")} changes`] : []),
  ],
};
