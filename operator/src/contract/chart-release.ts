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
}
