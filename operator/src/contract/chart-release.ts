// One Helm release the operator installs from the Olares release: what `helm upgrade --install` gets.

export interface ChartRef {
  /** Path of the chart (directory or .tgz) inside the verified release cache. */
  path: string;
  /** sha256 of the chart archive (or of the directory's canonical content): a new digest means a new chart. */
  digest: string;
}

export interface ChartRelease {
  /** Helm release name. */
  name: string;
  namespace: string;
  chart: ChartRef;
  /** The values olares-cli passes, key for key. */
  values: Record<string, unknown>;
  /** `helm upgrade --reuse-values`, as olares-cli's upgrade runs it (the previous revision's values under ours). */
  reuseValues?: boolean;
  /**
   * Input hashes that also count as this release's current input: what the upgrade's own steps record
   * (settings with the new version, the launcher re-fed bfl's PVs), so steady state runs no helm after one.
   */
  alsoCurrent?: string[];
  /**
   * The input is the values alone: a new chart in a new release does not re-apply it. For what the
   * installer applies once per install (account; the wizard the owner activates in), never on upgrade.
   */
  chartIndependent?: boolean;
}
