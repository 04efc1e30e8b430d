// What decides whether a release needs a helm run: the chart's digest and the values, nothing else.
import { createHash } from "node:crypto";
import { canonicalJson } from "../contract/canonical.js";
import type { ChartRelease } from "../contract/chart-release.js";

/** Label on the Helm release record (the storage Secret) carrying the input hash of the last upgrade. */
export const LABEL_RELEASE_INPUT = "olares.com/release-input";

/** 40 hex of sha256 over the chart digest and the canonical values (a valid label value). */
export function releaseInputHash(release: Pick<ChartRelease, "chart" | "values">): string {
  return createHash("sha256").update(release.chart.digest).update("\0").update(canonicalJson(release.values)).digest("hex").slice(0, 40);
}
