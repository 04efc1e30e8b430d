// Helm's own release records (Secrets sh.helm.release.v1.<name>.v<N>, labels owner=helm, name, status,
// version) and the input hash the operator records on them: what decides "unchanged" without a helm run.
import { createHash } from "node:crypto";
import { canonicalJson } from "../canonical.js";
import type { ChartRelease } from "../chart-release.js";
import type { KubeObject } from "../objects.js";

/** Label on the Helm release record (the storage Secret) carrying the input hash of the last upgrade. */
export const LABEL_RELEASE_INPUT = "olares.com/release-input";

/** 40 hex of sha256 over the chart digest and the canonical values (a valid label value). */
export function releaseInputHash(release: Pick<ChartRelease, "chart" | "values" | "chartIndependent">): string {
  const chart = release.chartIndependent ? "any-chart" : release.chart.digest;
  return createHash("sha256").update(chart).update("\0").update(canonicalJson(release.values)).digest("hex").slice(0, 40);
}

export type HelmReleaseStatus =
  | "deployed"
  | "failed"
  | "pending-install"
  | "pending-upgrade"
  | "pending-rollback"
  | "superseded"
  | "uninstalling"
  | "uninstalled"
  | "unknown";

export interface ReleaseRecord {
  name: string;
  namespace: string;
  revision: number;
  status: HelmReleaseStatus;
  /** Input hash recorded by the operator's last `helm upgrade --install` (absent: installed by someone else). */
  input?: string;
}

/** The newest revision of release `name` among Helm storage Secrets. */
export function latestRecord(secrets: readonly KubeObject[], name: string, namespace: string): ReleaseRecord | undefined {
  let best: ReleaseRecord | undefined;
  for (const s of secrets) {
    const l = s.metadata.labels ?? {};
    if (l.owner !== "helm" || l.name !== name || (s.metadata.namespace ?? "") !== namespace) continue;
    const type = (s as { type?: string }).type;
    if (type !== undefined && type !== "helm.sh/release.v1") continue;
    const revision = Number(l.version);
    if (!Number.isInteger(revision)) continue;
    if (best && best.revision >= revision) continue;
    best = { name, namespace, revision, status: (l.status as HelmReleaseStatus | undefined) ?? "unknown", ...(l[LABEL_RELEASE_INPUT] ? { input: l[LABEL_RELEASE_INPUT] } : {}) };
  }
  return best;
}

/** Whether a release must be (re)applied: no record, not deployed, or a different input. */
export function needsRelease(release: ChartRelease, record: ReleaseRecord | undefined): boolean {
  if (!record || record.status !== "deployed" || !record.input) return true;
  return record.input !== releaseInputHash(release) && !(release.alsoCurrent ?? []).includes(record.input);
}
