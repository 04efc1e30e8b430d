// installation.manifest: one CSV line per release file, 8 fields
//   filename,path,type,url_amd64,checksum_amd64,url_arm64,checksum_arm64,fileid
// as read by olares-cli (ReadItem, beclab/Installer pkg/manifest/file.go@793cbe14) and written by
// build/build-manifest.py@844b0b58. Checksums are MD5 hex. Images have type "images.mf" and their
// fileid is the image reference. Pure: no I/O, no dependencies.

export type Arch = "amd64" | "arm64";

export interface ManifestItem {
  filename: string;
  /** Directory relative to the installer dir, e.g. "pkg/components" or "images". */
  path: string;
  /** Empty for components; "images.mf" for image tarballs. */
  type: string;
  urlAmd64: string;
  checksumAmd64: string;
  urlArm64: string;
  checksumArm64: string;
  /** Key of the item: a component id ("olaresd", "velero", …) or, for images, the image reference. */
  fileId: string;
}

export class ManifestError extends Error {
  override readonly name = "ManifestError";
  constructor(readonly line: number, message: string) {
    super(`installation.manifest line ${line}: ${message}`);
  }
}

const MD5 = /^[0-9a-f]{32}$/;

export function isImageItem(item: ManifestItem): boolean {
  return item.type.startsWith("images.");
}

/** The image reference of an image item (fileid), undefined for components. */
export function imageName(item: ManifestItem): string | undefined {
  return isImageItem(item) ? item.fileId : undefined;
}

/** Parses the manifest; blank lines are skipped; items are keyed by fileid, a duplicate id is an error. */
export function parseManifest(text: string): ManifestItem[] {
  const items: ManifestItem[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const t = line.split(",");
    if (t.length < 8) throw new ManifestError(i + 1, `expected 8 comma-separated fields, found ${t.length}`);
    const [filename, path, type, urlAmd64, checksumAmd64, urlArm64, checksumArm64] = t.slice(0, 7).map((s) => s.trim()) as [string, string, string, string, string, string, string];
    // fileid is the last field; an image reference never holds a comma, so anything after field 8 is an error.
    if (t.length > 8) throw new ManifestError(i + 1, `expected 8 comma-separated fields, found ${t.length}`);
    const fileId = t[7]!.trim();
    if (filename === "") throw new ManifestError(i + 1, "filename is empty");
    if (fileId === "") throw new ManifestError(i + 1, "fileid is empty");
    if (filename.includes("/") || filename === ".." ) throw new ManifestError(i + 1, `filename ${filename} must not contain "/"`);
    if (path.startsWith("/") || path.split("/").includes("..")) throw new ManifestError(i + 1, `path ${path} must be relative and must not contain ".."`);
    for (const [name, sum] of [["checksum_amd64", checksumAmd64], ["checksum_arm64", checksumArm64]] as const) {
      if (sum !== "" && !MD5.test(sum)) throw new ManifestError(i + 1, `${name} ${sum} is not an MD5 hex digest`);
    }
    if (seen.has(fileId)) throw new ManifestError(i + 1, `duplicate fileid ${fileId}`);
    seen.add(fileId);
    items.push({ filename, path, type, urlAmd64, checksumAmd64, urlArm64, checksumArm64, fileId });
  });
  return items;
}

export function formatManifestLine(item: ManifestItem): string {
  return [item.filename, item.path, item.type, item.urlAmd64, item.checksumAmd64, item.urlArm64, item.checksumArm64, item.fileId].join(",");
}

export function formatManifest(items: readonly ManifestItem[]): string {
  return items.map(formatManifestLine).join("\n") + "\n";
}

/** URL and checksum for a host (the arm64 pair only on arm64, as GetItemUrlForHost); undefined when the item has none. */
export function itemSourceForArch(item: ManifestItem, arch: Arch): { url: string; checksum: string } | undefined {
  const url = arch === "arm64" ? item.urlArm64 : item.urlAmd64;
  const checksum = arch === "arm64" ? item.checksumArm64 : item.checksumAmd64;
  return url === "" ? undefined : { url, checksum };
}

/** Where the item lives under the installer dir: <base>/<path>/<filename>. */
export function itemFilePath(base: string, item: ManifestItem): string {
  return [base.replace(/\/+$/, ""), item.path, item.filename].filter((s) => s !== "").join("/");
}

/** Absolute download URL: <cdn>/<url> (the manifest holds CDN object names). */
export function itemDownloadUrl(cdnBase: string, relative: string): string {
  if (/^https?:\/\//.test(relative)) return relative;
  return `${cdnBase.replace(/\/+$/, "")}/${relative.replace(/^\/+/, "")}`;
}

export function findItem(items: readonly ManifestItem[], fileId: string): ManifestItem | undefined {
  return items.find((i) => i.fileId === fileId);
}
