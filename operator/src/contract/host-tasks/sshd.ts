// kind "sshd": openssh-server installed, configured through a drop-in, enabled (or disabled).
import type { HostTaskBase } from "../node-config.js";
import { isPort } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface SshdTask extends HostTaskBase {
  kind: "sshd";
  port: number;
  /** Unset: the drop-in says nothing and the host's own setting stays (no lockout by default). */
  passwordAuthentication?: boolean;
  enabled: boolean;
}

export const sshdKind: HostTaskKindSpec<SshdTask> = {
  kind: "sshd",
  validate(task, c) {
    if (!isPort(task.port)) c.bad("port", task.port, "must be an integer port 1..65535");
    if (task.passwordAuthentication !== undefined && typeof task.passwordAuthentication !== "boolean") {
      c.bad("passwordAuthentication", task.passwordAuthentication, "must be a boolean or unset");
    }
    if (typeof task.enabled !== "boolean") c.bad("enabled", task.enabled, "must be a boolean");
  },
  describe: (task) =>
    task.enabled
      ? [
          "packages openssh-server",
          `file ${HOST_PATHS.sshdDropin} (Port ${task.port}${task.passwordAuthentication === undefined ? "" : `, PasswordAuthentication ${task.passwordAuthentication ? "yes" : "no"}`}), checked with sshd -t`,
          "unit ssh.service enabled, started, reloaded on change",
        ]
      : [`file ${HOST_PATHS.sshdDropin}`, "unit ssh.service disabled, stopped"],
};
