// A file of the Olares release as installation.manifest lists it (filename, path, per-architecture CDN
// URL and MD5, cli's manifest ReadItem): what the release-component and image-import kinds download,
// check and keep under <baseDir>/<path>/<filename> as olares-cli's download does.
import { isDownloadUrl } from "../validators.js";
import type { TaskChecker } from "./rules.js";

export interface ReleaseFileSource {
  /** The CDN URL (base joined with the manifest's url_<arch>). */
  url: string;
  /** checksum_<arch>: the MD5 the release publishes. */
  md5: string;
}

export interface ReleaseFile {
  filename: string;
  /** Directory relative to baseDir, e.g. pkg/components or images. */
  path: string;
  amd64?: ReleaseFileSource;
  arm64?: ReleaseFileSource;
}

const MD5 = /^[0-9a-f]{32}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,254}$/;
const REL_DIR = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export function isMd5(s: unknown): boolean {
  return typeof s === "string" && MD5.test(s);
}

export function validateReleaseFile(field: string, f: ReleaseFile | undefined, c: TaskChecker): void {
  if (!f || typeof f !== "object") return c.bad(field, f, "must be a release file {filename, path, amd64?, arm64?}");
  if (typeof f.filename !== "string" || !NAME.test(f.filename)) c.bad(`${field}.filename`, f.filename, "must be a plain file name");
  if (typeof f.path !== "string" || !REL_DIR.test(f.path) || f.path.split("/").some((p) => p === "." || p === "..")) c.bad(`${field}.path`, f.path, "must be a relative directory without . or .. segments");
  if (!f.amd64 && !f.arm64) c.bad(field, f, "must have a source for amd64 or arm64");
  for (const arch of ["amd64", "arm64"] as const) {
    const s = f[arch];
    if (!s) continue;
    if (typeof s.url !== "string" || !isDownloadUrl(s.url)) c.bad(`${field}.${arch}.url`, s.url, "must be an https URL without credentials, query or fragment");
    if (!isMd5(s.md5)) c.bad(`${field}.${arch}.md5`, s.md5, "must be 32 lowercase hex digits (the manifest's checksum)");
  }
}
