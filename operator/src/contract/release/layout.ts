// Where a release's artifacts are published and how they are laid out once unpacked
// (cli/pkg/terminus/tasks.go@0ba7d260 Download.Execute, build/build.sh@7c2d6a23, .github/workflows/release.yaml@26255fba).

/** install.sh's default CDN (build/base-package/install.sh@074e257c); OLARES_SYSTEM_CDN_SERVICE overrides it. */
export const DEFAULT_CDN = "https://cdn.olares.com";

/** install-wizard-v<ver>[.<releaseId>] */
export function wizardStem(version: string, releaseId?: string): string {
  return `install-wizard-v${version}${releaseId ? `.${releaseId}` : ""}`;
}

function joinUrl(base: string, ...parts: string[]): string {
  return [base.replace(/\/+$/, ""), ...parts.map((p) => p.replace(/^\/+|\/+$/g, "")).filter((p) => p !== "")].join("/");
}

export interface WizardArtifact {
  tarballUrl: string;
  checksumUrl: string;
  /** File names inside the download directory. */
  tarball: string;
  checksumFile: string;
}

/** <cdn>/<repoPath>/<stem>.tar.gz and its .md5sum.txt (first token = MD5 of the tarball). */
export function wizardArtifact(cdn: string, version: string, opts: { repoPath?: string; releaseId?: string } = {}): WizardArtifact {
  const stem = wizardStem(version, opts.releaseId);
  return {
    tarball: `${stem}.tar.gz`,
    checksumFile: `${stem}.md5sum.txt`,
    tarballUrl: joinUrl(cdn, opts.repoPath ?? "/", `${stem}.tar.gz`),
    checksumUrl: joinUrl(cdn, opts.repoPath ?? "/", `${stem}.md5sum.txt`),
  };
}

/** `md5sum` output: "<hex>  <file>"; the checksum is the first token. */
export function parseMd5SumFile(text: string): string | undefined {
  const token = text.trim().split(/\s+/)[0]?.toLowerCase();
  return token && /^[0-9a-f]{32}$/.test(token) ? token : undefined;
}

/** <base>/versions/v<ver>: the installer dir, holding wizard/, installation.manifest, system-env.yaml, user-env.yaml. */
export function installerDir(baseDir: string, version: string): string {
  return `${baseDir.replace(/\/+$/, "")}/versions/v${version}`;
}

export const MANIFEST_FILE = "installation.manifest";
export const SYSTEM_ENV_FILE = "system-env.yaml";
export const USER_ENV_FILE = "user-env.yaml";

/** Chart directories under <installerDir>/wizard/config (build/package.sh@1064c710). */
export const WIZARD_CHART_DIRS = {
  account: "wizard/config/account",
  settings: "wizard/config/settings",
  osPlatform: "wizard/config/os-platform",
  osFramework: "wizard/config/os-framework",
  launcher: "wizard/config/launcher",
  apps: "wizard/config/apps",
  hami: "wizard/config/gpu/hami",
} as const;
