// kind "releaseComponent": a component installation.manifest lists (olaresd first), downloaded from the
// release's CDN into <baseDir>/<path>/<filename> unless a file with the manifest's MD5 is already
// there, then the listed members of its archive installed (a member already in place is left alone).
import type { HostTaskBase } from "../node-config.js";
import { ALLOWED_PATH_RULE, isAllowedPath } from "./paths.js";
import { validateReleaseFile, type ReleaseFile } from "./release-file.js";
import { isMode, type HostTaskKindSpec } from "./rules.js";

export interface ReleaseComponentInstall {
  /** Path of the member inside the .tar.gz (its basename when the download is the binary itself). */
  member: string;
  path: string;
  mode: number;
}

export interface ReleaseComponentTask extends HostTaskBase {
  kind: "releaseComponent";
  /** The manifest's fileid, e.g. olaresd. */
  component: string;
  file: ReleaseFile;
  /** Download cache on the host (the installer's base dir). */
  baseDir: string;
  install: ReleaseComponentInstall[];
  /**
   * Another component of the manifest for hosts whose glibc is older than `glibcBelow` (olares-cli's
   * InstallRedis takes `redis-231` below glibc 2.32); same members. Unknown glibc: the main component.
   */
  glibcFallback?: { glibcBelow: string; component: string; file: ReleaseFile };
}

const MEMBER = /^[A-Za-z0-9._+-]+(\/[A-Za-z0-9._+-]+)*$/;

export const releaseComponentKind: HostTaskKindSpec<ReleaseComponentTask> = {
  kind: "releaseComponent",
  validate(task, c) {
    if (typeof task.component !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(task.component)) c.bad("component", task.component, "must be a manifest file id");
    validateReleaseFile("file", task.file, c);
    if (!isAllowedPath(`${task.baseDir}/x`)) c.bad("baseDir", task.baseDir, ALLOWED_PATH_RULE);
    if (!Array.isArray(task.install) || task.install.length < 1 || task.install.length > 16) return c.bad("install", task.install, "must list 1 to 16 members");
    if (task.glibcFallback !== undefined) {
      const f = task.glibcFallback;
      if (typeof f?.glibcBelow !== "string" || !/^\d+\.\d+$/.test(f.glibcBelow)) c.bad("glibcFallback.glibcBelow", f?.glibcBelow, "must be a glibc version major.minor, e.g. 2.32");
      if (typeof f?.component !== "string" || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(f.component)) c.bad("glibcFallback.component", f?.component, "must be a manifest file id");
      validateReleaseFile("glibcFallback.file", f?.file, c);
    }
    task.install.forEach((m, i) => {
      if (typeof m.member !== "string" || !MEMBER.test(m.member) || m.member.split("/").includes("..")) c.bad(`install[${i}].member`, m.member, "must be a relative archive path without ..");
      if (!isAllowedPath(m.path)) c.bad(`install[${i}].path`, m.path, ALLOWED_PATH_RULE);
      if (!isMode(m.mode)) c.bad(`install[${i}].mode`, m.mode, "must be an integer permission mode 0..0o7777");
    });
  },
  describe: (task) => [
    `download ${task.file.filename} (${task.component}, installation.manifest) into ${task.baseDir}/${task.file.path}/ unless its MD5 ${task.file.amd64?.md5 ?? task.file.arm64?.md5} is there`,
    ...(task.glibcFallback ? [`  on a host with glibc < ${task.glibcFallback.glibcBelow}: ${task.glibcFallback.file.filename} (${task.glibcFallback.component}) instead`] : []),
    ...task.install.map((m) => `file ${m.path} (mode ${m.mode.toString(8)}) from member ${m.member}`),
  ],
};
