// kind "binary": a downloaded executable, checked against its sha256.
import type { HostTaskBase } from "../node-config.js";
import { OLARES_RELEASE_BASE } from "../names.js";
import { isDownloadUrl, isSha256 } from "../validators.js";
import { ALLOWED_PATH_RULE, isAllowedPath } from "./paths.js";
import { isMode, type HostTaskKindSpec } from "./rules.js";

export interface BinaryTask extends HostTaskBase {
  kind: "binary";
  path: string;
  /** https URL (http only on loopback, for tests) of the binary or a .tar.gz holding it; may hold {arch}. */
  url: string;
  /**
   * sha256 of the download. Required, except for Olares' release host (isUnpinnedDownloadUrl),
   * whose checksums are not published: there the agent records and pins what it first installed.
   */
  sha256?: string;
  mode: number;
}

/** Placeholder in a binary URL that the agent fills with the node's architecture (amd64, arm64). */
export const ARCH_PLACEHOLDER = "{arch}";

/** Downloads that may come without a checksum: Olares' own release host (over https). */
export function isUnpinnedDownloadUrl(url: string): boolean {
  return url.startsWith(`${OLARES_RELEASE_BASE}/`);
}

export const binaryKind: HostTaskKindSpec<BinaryTask> = {
  kind: "binary",
  validate(task, c) {
    if (!isAllowedPath(task.path)) c.bad("path", task.path, ALLOWED_PATH_RULE);
    if (typeof task.url !== "string" || !isDownloadUrl(task.url)) c.bad("url", task.url, "must be an https URL without credentials, query or fragment");
    if (task.sha256 === undefined) {
      if (typeof task.url === "string" && !isUnpinnedDownloadUrl(task.url)) {
        c.bad("sha256", task.sha256, `is required for a URL outside ${OLARES_RELEASE_BASE}/`);
      }
    } else if (typeof task.sha256 !== "string" || !isSha256(task.sha256)) {
      c.bad("sha256", task.sha256, "must be 64 lowercase hex digits");
    }
    if (!isMode(task.mode)) c.bad("mode", task.mode, "must be an integer permission mode 0..0o7777");
  },
  describe: (task) => [
    `file ${task.path} (mode ${task.mode.toString(8)}) from ${task.url}${task.sha256 ? `, sha256 ${task.sha256}` : ", checksum pinned on first install"}`,
  ],
};
