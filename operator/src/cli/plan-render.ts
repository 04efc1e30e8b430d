// `plan --render`: each Helm release of the Olares release expanded with `helm template`, when the
// release for spec.version is on this machine (the operator's versioned cache, or --release-dir), with
// the values the controller would pass. The owner's password and the randoms live in the cluster: plan
// uses marked stand-ins for them (the account chart's user.password and the bfl/app keys), so a
// rendered manifest shows the shape, never a secret. Without the release it says why not.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, type DefaultedSpec } from "../api/index.js";
import { Helm, loadRelease } from "../helm/index.js";
import { releaseRandomKeys, renderReleaseList } from "../render/releases/index.js";
import type { ReleaseListInput } from "../render/releases/index.js";

export interface PlanRenderOptions {
  /** An unpacked release (its installer dir, or a cache holding versions/v<ver>). */
  releaseDir?: string;
  /** The operator's versioned cache ($OLARES_RELEASE_CACHE, else /var/cache/olares-operator). */
  cacheDir: string;
  helm: string;
  gpuNodes: number;
}

export const PLAN_PASSWORD = "plan-owner-password";

function installerDirFor(dir: string, version: string): string | undefined {
  for (const candidate of [dir, join(dir, "versions", `v${version}`)]) {
    if (existsSync(join(candidate, "wizard", "config"))) return candidate;
  }
  return undefined;
}

/** Stand-ins named after their key: plan never sees the real ones. */
function planRandoms(): Record<string, string> {
  return Object.fromEntries(releaseRandomKeys().map((k) => [k.key, k.format === "appKey" ? `bytetrade_${k.prefix}_100000000` : "planplaceholder0"]));
}

/** The rendered text (or why it could not render); ok false only when helm template failed. */
export async function renderPlanReleases(document: { metadata?: { name?: string }; spec?: unknown }, opts: PlanRenderOptions): Promise<{ text: string; ok: boolean }> {
  const spec: DefaultedSpec = defaultSpec(document.spec, document.metadata?.name ?? "olares");
  const where = opts.releaseDir ? [opts.releaseDir] : [opts.cacheDir];
  const dir = where.map((d) => installerDirFor(d, spec.version)).find(Boolean);
  if (!dir) {
    // Not an error: the plan itself is complete; what it cannot show is said.
    return { ok: true, text: `# releases not rendered: the Olares ${spec.version} release is not available locally (looked in ${where.join(", ")} and its versions/v${spec.version}); let the operator fetch it, or pass --release-dir <unpacked wizard>\n` };
  }
  const rel = await loadRelease(dir);
  const input: ReleaseListInput = { spec, source: { installerDir: rel.installerDir, charts: rel.charts }, ownerPassword: PLAN_PASSWORD, randoms: planRandoms(), gpuNodes: opts.gpuNodes };
  const list = renderReleaseList(input);
  const helm = new Helm({ bin: opts.helm });
  const out: string[] = [`# Olares ${spec.version} release from ${dir}: ${list.entries.length} Helm release(s), helm template with the installer's values (owner password and randoms are plan stand-ins)`];
  let ok = true;
  for (const e of list.entries) {
    const r = await helm.template(e.release);
    out.push(`# ---- helm release ${e.release.namespace}/${e.release.name} (${e.release.chart.path}, ${e.release.chart.digest.slice(0, 19)}…)`);
    if (r.ok) out.push(r.stdout.trimEnd());
    else {
      ok = false;
      out.push(`# helm template failed: ${r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`}`);
    }
  }
  if (list.waiting) out.push(`# not rendered: ${list.waiting.key}: ${list.waiting.reason} (known only once the cluster runs it)`);
  return { ok, text: out.join("\n") + "\n" };
}
