// kind "file": a whole file with exact content.
import type { HostTaskBase } from "../node-config.js";
import { isIntIn } from "../validators.js";
import { ALLOWED_PATH_RULE, isAllowedPath } from "./paths.js";
import { CONTENT_RULE, isContent, isMode, type HostTaskKindSpec } from "./rules.js";

export interface FileOwner {
  uid: number;
  gid: number;
}

export interface FileTask extends HostTaskBase {
  kind: "file";
  path: string;
  content: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  owner?: FileOwner;
}

export const fileKind: HostTaskKindSpec<FileTask> = {
  kind: "file",
  validate(task, c) {
    if (!isAllowedPath(task.path)) c.bad("path", task.path, ALLOWED_PATH_RULE);
    if (!isContent(task.content)) c.bad("content", "(content)", CONTENT_RULE);
    if (!isMode(task.mode)) c.bad("mode", task.mode, "must be an integer permission mode 0..0o7777");
    if (task.owner !== undefined && (!isIntIn(task.owner.uid, 0, 2 ** 31) || !isIntIn(task.owner.gid, 0, 2 ** 31))) {
      c.bad("owner", task.owner, "must be numeric uid and gid");
    }
  },
  describe: (task) => [`file ${task.path} (mode ${task.mode.toString(8)}, ${Buffer.byteLength(task.content)} bytes)`],
};
