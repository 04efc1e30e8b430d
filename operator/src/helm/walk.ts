// Walks the ordered release list: a release whose input (chart digest + values) is what its last deployed
// revision recorded is left alone; any other gets `helm upgrade --install`. The first failure stops the
// walk there and is reported with helm's error; the releases before it keep running.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { ChartRelease } from "../contract/chart-release.js";
import type { ReleaseInstaller } from "./helm-cli.js";
import { lastLines } from "./helm-cli.js";
import { releaseInputHash } from "./input-hash.js";
import { latestRecord, type ReleaseRecordSource, type ReleaseRecord } from "./records.js";
import { needsRelease } from "../contract/release/records.js";

export type ReleaseOutcome =
  | { name: string; namespace: string; result: "unchanged"; revision: number }
  | { name: string; namespace: string; result: "installed" | "upgraded"; revision?: number }
  | { name: string; namespace: string; result: "failed"; error: string }
  | { name: string; namespace: string; result: "pending" };

export interface WalkResult {
  outcomes: ReleaseOutcome[];
  /** The release the walk stopped at, with helm's (or our) error. */
  failed?: { name: string; namespace: string; error: string };
  helmRuns: number;
}

/** Whether a release must be (re)applied, without running helm. */
export function needsApply(release: ChartRelease, record: ReleaseRecord | undefined): boolean {
  return needsRelease(release, record);
}

export interface WalkOptions {
  /** Before each release: e.g. the controller stops here until the previous release's workloads are ready. */
  gate?: (release: ChartRelease, index: number) => Promise<boolean> | boolean;
}

export async function walkReleases(releases: readonly ChartRelease[], helm: ReleaseInstaller, records: ReleaseRecordSource, opts: WalkOptions = {}): Promise<WalkResult> {
  const outcomes: ReleaseOutcome[] = [];
  const runsBefore = helm.runs;
  const done = (failed?: WalkResult["failed"]): WalkResult => ({ outcomes, helmRuns: helm.runs - runsBefore, ...(failed ? { failed } : {}) });
  for (const [i, release] of releases.entries()) {
    const base = { name: release.name, namespace: release.namespace };
    if (opts.gate && !(await opts.gate(release, i))) {
      outcomes.push({ ...base, result: "pending" });
      return done();
    }
    const secrets = await records.helmSecrets(release.namespace);
    const record = latestRecord(secrets, release.name, release.namespace);
    if (!needsApply(release, record)) {
      outcomes.push({ ...base, result: "unchanged", revision: record!.revision });
      continue;
    }
    const chartFile = release.chart.path.endsWith(".tgz") ? release.chart.path : join(release.chart.path, "Chart.yaml");
    if (!(await stat(chartFile).catch(() => undefined))) {
      const error = `chart ${release.chart.path} not found in the release`;
      outcomes.push({ ...base, result: "failed", error });
      return done({ ...base, error });
    }
    // A helm that died (or lost the API) mid-operation leaves the release pending-*: helm refuses every
    // later operation ("another operation is in progress"). Only this operator runs helm on these
    // releases (one leader), so a pending record is stale: roll the upgrade back, or remove the install.
    // Likewise a first install that failed: `upgrade --install` refuses a release with no deployed revision.
    const everDeployed = secrets.some((s) => s.metadata.labels?.owner === "helm" && s.metadata.labels?.name === release.name && ["deployed", "superseded"].includes(s.metadata.labels?.status ?? ""));
    if (record && (record.status.startsWith("pending-") || (record.status === "failed" && !everDeployed))) {
      const recover = record.status === "pending-install" || !everDeployed ? await helm.uninstall(release.name, release.namespace) : await helm.rollback(release.name, release.namespace);
      if (!recover.ok) {
        const error = `recovering from ${record.status}: ${lastLines(recover.stderr)}`;
        outcomes.push({ ...base, result: "failed", error });
        return done({ ...base, error });
      }
    }
    let r = await helm.upgradeInstall(release, releaseInputHash(release));
    // Our records may lag helm's (a list served before helm's last write): helm itself says the release
    // has no deployed revision (a failed first install) — remove it and install again, once.
    if (!r.ok && /has no deployed releases/.test(r.stderr)) {
      const removed = await helm.uninstall(release.name, release.namespace);
      if (removed.ok) r = await helm.upgradeInstall(release, releaseInputHash(release));
    }
    if (!r.ok) {
      const error = lastLines(r.stderr);
      outcomes.push({ ...base, result: "failed", error });
      return done({ ...base, error });
    }
    outcomes.push({ ...base, result: record ? "upgraded" : "installed" });
  }
  return done();
}
