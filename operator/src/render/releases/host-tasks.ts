// What the node agent does from installation.manifest, as olares-cli's prepare phase: install the
// components it lists (olaresd) with their checksums and import its images (PreloadImages). Pure: the
// manifest and the CDN base come in; tasks name each file's CDN URL and MD5 for both architectures.
import type { ImageImportTask, ReleaseComponentTask, ReleaseFile } from "../../contract/index.js";
import { imageName, isImageItem, itemDownloadUrl, itemSourceForArch, type ManifestItem } from "../../contract/release/manifest.js";

/** Where the agent keeps the release's downloads on a host (the installer's <base-dir>). */
export const RELEASE_HOST_BASE_DIR = "/var/lib/olares-agent/release";

export function releaseFileOf(item: ManifestItem, cdn: string): ReleaseFile | undefined {
  const file: ReleaseFile = { filename: item.filename, path: item.path };
  for (const arch of ["amd64", "arm64"] as const) {
    const s = itemSourceForArch(item, arch);
    if (s?.url && s.checksum) file[arch] = { url: itemDownloadUrl(cdn, s.url), md5: s.checksum };
  }
  return file.amd64 || file.arm64 ? file : undefined;
}

/** A manifest component installed on the host; undefined when the manifest has none with a download. */
export function componentTask(manifest: readonly ManifestItem[], cdn: string, opts: { id: string; component: string; install: ReleaseComponentTask["install"] }): ReleaseComponentTask | undefined {
  const item = manifest.find((i) => i.fileId === opts.component && !isImageItem(i));
  const file = item && releaseFileOf(item, cdn);
  if (!file) return undefined;
  return {
    kind: "releaseComponent",
    id: opts.id,
    description: `${opts.component} from installation.manifest (${item.filename})`,
    disruption: "none",
    component: opts.component,
    file,
    baseDir: RELEASE_HOST_BASE_DIR,
    install: opts.install,
  };
}

/** Every image of the manifest, imported into containerd's k8s.io namespace; undefined when it lists none. */
export function imageImportTask(manifest: readonly ManifestItem[], cdn: string, id: string): ImageImportTask | undefined {
  const images = manifest.flatMap((i) => {
    const ref = isImageItem(i) ? imageName(i) : undefined;
    const file = ref ? releaseFileOf(i, cdn) : undefined;
    return ref && file ? [{ ref, file }] : [];
  });
  if (images.length === 0) return undefined;
  return {
    kind: "imageImport",
    id,
    description: `the release's ${images.length} images in containerd (ctr -n k8s.io images import, as PreloadImages)`,
    disruption: "none",
    images: images.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0)),
    baseDir: RELEASE_HOST_BASE_DIR,
    namespace: "k8s.io",
  };
}
