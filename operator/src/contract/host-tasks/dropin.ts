// kind "dropin": a systemd drop-in, /etc/systemd/system/<unit>.d/<name>.
import type { HostTaskBase } from "../node-config.js";
import { isUnitName } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import { CONTENT_RULE, isContent, type HostTaskKindSpec } from "./rules.js";

export interface DropinTask extends HostTaskBase {
  kind: "dropin";
  unit: string;
  /** File name ending in ".conf". */
  name: string;
  content: string;
}

const DROPIN_NAME = /^[A-Za-z0-9_.@-]{1,100}\.conf$/;

export const dropinKind: HostTaskKindSpec<DropinTask> = {
  kind: "dropin",
  validate(task, c) {
    if (!isUnitName(task.unit)) c.bad("unit", task.unit, "must be a systemd unit name (e.g. containerd.service)");
    if (!DROPIN_NAME.test(task.name)) c.bad("name", task.name, "must be a file name ending in .conf");
    if (!isContent(task.content)) c.bad("content", "(content)", CONTENT_RULE);
  },
  describe: (task) => [`file ${HOST_PATHS.systemdUnits}/${task.unit}.d/${task.name}`, `systemd daemon-reload`],
};
