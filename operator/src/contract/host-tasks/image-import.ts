// kind "imageImport": the images installation.manifest lists, imported into containerd as olares-cli's
// PreloadImages does (cli/pkg/images/load.go@090e562c: `gunzip -c <file> | ctr -n k8s.io images import
// --index-name <ref> -`, then pinned with io.cri-containerd.pinned), skipping every image containerd
// already has and every download already cached with the manifest's MD5.
import type { HostTaskBase } from "../node-config.js";
import { isPlainAbsolutePath } from "../validators.js";
import { ALLOWED_PATH_RULE, isAllowedPath } from "./paths.js";
import { validateReleaseFile, type ReleaseFile } from "./release-file.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface ReleaseImage {
  /** The manifest's fileid: the image reference (e.g. beclab/app-service:0.3.1). */
  ref: string;
  file: ReleaseFile;
}

export interface ImageImportTask extends HostTaskBase {
  kind: "imageImport";
  images: ReleaseImage[];
  /** Download cache on the host (the installer's base dir). */
  baseDir: string;
  /** containerd namespace (the installer's: k8s.io, what the kubelet's CRI reads). */
  namespace: string;
  /** containerd's socket; unset: ctr's default (/run/containerd/containerd.sock). */
  address?: string;
  /** Snapshotter to unpack into; unset: containerd's default. */
  snapshotter?: string;
}

const REF = /^[a-z0-9][a-z0-9._/:@-]{0,254}$/;

export const imageImportKind: HostTaskKindSpec<ImageImportTask> = {
  kind: "imageImport",
  validate(task, c) {
    if (!Array.isArray(task.images) || task.images.length > 4096) return c.bad("images", task.images, "must list at most 4096 images");
    task.images.forEach((img, i) => {
      if (typeof img.ref !== "string" || !REF.test(img.ref)) c.bad(`images[${i}].ref`, img.ref, "must be an image reference (lowercase name[:tag][@digest])");
      validateReleaseFile(`images[${i}].file`, img.file, c);
    });
    if (!isAllowedPath(`${task.baseDir}/x`)) c.bad("baseDir", task.baseDir, ALLOWED_PATH_RULE);
    if (task.namespace !== "k8s.io" && !/^[a-z0-9][a-z0-9._-]{0,63}$/.test(task.namespace)) c.bad("namespace", task.namespace, "must be a containerd namespace");
    if (task.address !== undefined && (typeof task.address !== "string" || !isPlainAbsolutePath(task.address))) c.bad("address", task.address, "must be an absolute socket path");
    if (task.snapshotter !== undefined && !/^[a-z0-9][a-z0-9_-]{0,31}$/.test(task.snapshotter)) c.bad("snapshotter", task.snapshotter, "must be a snapshotter name");
  },
  describe: (task) => [
    `import ${task.images.length} image(s) of installation.manifest into containerd namespace ${task.namespace} (ctr images import), skipping those present; downloads kept in ${task.baseDir}/images/`,
  ],
};
