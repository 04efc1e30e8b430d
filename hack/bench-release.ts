// Release figures: rendering the release list, the operator's install of the fixture Olares release
// against the same charts installed by hand with `helm upgrade --install` one by one (same run, same
// machine, fresh simulator each), and helm runs / writes over 10 resyncs at steady state.
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BenchSection, Figure } from "./bench-report.js";
import { invokedDirectly, runSections } from "./bench-report.js";
import { walkReleases, Helm } from "../operator/src/helm/index.js";
import { ensureWizard, loadRelease } from "../operator/src/helm/release-cache.js";
import { missingRandoms, releasesOf, renderReleaseList, renderUpgradeList, type BflFacts, type ReleaseListInput } from "../operator/src/render/releases/index.js";
import type { ChartRelease } from "../operator/src/contract/chart-release.js";
import { defaultSpec } from "../operator/src/api/defaults.js";
import { HELMS, fetchTools, run } from "../test/chart/tools.js";
import { fixture } from "../test/release/helpers.js";
import { DEFAULT_FIXTURE_VERSION } from "./fixture-release/version.js";
import { get, helmFor, simWithKubeSphere, storeRecords, writes } from "../test/release/sim-helpers.js";
import type { Simulator } from "../test/sim/server.js";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function bflFacts(sim: Simulator): BflFacts {
  const sts = get(sim, "apps/statefulsets", "user-space-alice", "bfl");
  if (!sts) throw new Error("bfl StatefulSet missing after the launcher release");
  return { annotations: sts.metadata.annotations ?? {}, nodeName: "sim-node-0", nodeAddress: "10.0.0.10" };
}

async function baseInput(): Promise<{ input: ReleaseListInput; cleanup(): void }> {
  const cache = mkdtempSync(join(tmpdir(), "bench-release-"));
  const w = await ensureWizard({ kind: "dir", path: fixture().cdnDir }, fixture().version, cache);
  const source = await loadRelease(w.installerDir);
  const spec = defaultSpec({ version: fixture().version, owner: { username: "alice", domain: "example.com" }, gpu: { enabled: "true" } });
  return {
    input: { spec, source, ownerPassword: "bench-password", randoms: missingRandoms({}, (n) => randomBytes(n)), gpuNodes: 1 },
    cleanup: () => rmSync(cache, { recursive: true, force: true }),
  };
}

/** The operator's path: render, walk (records from the cache), read bfl's facts, render again, walk. */
async function operatorInstall(input: ReleaseListInput, helmBin: string): Promise<{ ms: number; sim: Simulator; helm: Helm; input: ReleaseListInput }> {
  const sim = await simWithKubeSphere({ nodes: 1, gpuNodes: 1 });
  const helm = helmFor(sim, helmBin);
  const t0 = performance.now();
  const first = await walkReleases(releasesOf(renderReleaseList(input)), helm, storeRecords(sim));
  if (first.failed) throw new Error(`operator walk: ${first.failed.name}: ${first.failed.error}`);
  const withApps = { ...input, bfl: bflFacts(sim), bflAnnotations: bflFacts(sim).annotations };
  const second = await walkReleases(releasesOf(renderReleaseList(withApps)), helm, storeRecords(sim));
  if (second.failed) throw new Error(`operator walk: ${second.failed.name}: ${second.failed.error}`);
  return { ms: performance.now() - t0, sim, helm, input: withApps };
}

/** By hand: the same releases, `helm upgrade --install` one after the other with a values file each. */
async function handInstall(releases: ChartRelease[], helmBin: string): Promise<number> {
  const sim = await simWithKubeSphere({ nodes: 1, gpuNodes: 1 });
  const dir = mkdtempSync(join(tmpdir(), "bench-hand-"));
  const env = { KUBECONFIG: sim.kubeconfigPath };
  try {
    const files = releases.map((r, i) => {
      const f = join(dir, `${i}.json`);
      writeFileSync(f, JSON.stringify(r.values));
      return f;
    });
    const t0 = performance.now();
    for (const [i, r] of releases.entries()) {
      const res = await runWithEnv(helmBin, ["upgrade", "--install", r.name, r.chart.path, "-n", r.namespace, "--create-namespace", "-f", files[i]!, "--timeout", "60s"], env);
      if (res.code !== 0) throw new Error(`helm by hand: ${r.name}: ${res.stderr}`);
    }
    return performance.now() - t0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sim.stop();
  }
}

async function runWithEnv(bin: string, args: string[], env: Record<string, string>) {
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = env.KUBECONFIG;
  try {
    return await run(bin, args);
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
}

const releaseInstall: BenchSection = {
  title: `fixture Olares release v${DEFAULT_FIXTURE_VERSION} on the cluster simulator: operator walk vs helm upgrade --install by hand (Helm 4.1)`,
  async run(): Promise<Figure[]> {
    fetchTools();
    const helmBin = HELMS[0].bin;
    const { input, cleanup } = await baseInput();
    try {
      // Render timing (pure): the full list with the apps.
      const bfl: BflFacts = { annotations: { userspace_pv: "pv", userspace_hostpath: "/olares/rootfs/userspace/x", appcache_hostpath: "/c", dbdata_hostpath: "/d" }, nodeName: "n", nodeAddress: "10.0.0.10" };
      const renders: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t0 = performance.now();
        renderReleaseList({ ...input, bfl });
        renders.push(performance.now() - t0);
      }
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        await loadRelease(input.source.installerDir);
        loads.push(performance.now() - t0);
      }
      const operatorMs: number[] = [];
      const handMs: number[] = [];
      let steady: { runs: number; writes: number } | undefined;
      let releases: ChartRelease[] = [];
      for (let round = 0; round < 2; round++) {
        const op = await operatorInstall(input, helmBin);
        operatorMs.push(op.ms);
        releases = releasesOf(renderReleaseList(op.input));
        if (!steady) {
          await op.sim.settle();
          op.sim.requests.length = 0;
          const before = op.helm.runs;
          for (let i = 0; i < 10; i++) await walkReleases(releasesOf(renderReleaseList(op.input)), op.helm, storeRecords(op.sim));
          steady = { runs: op.helm.runs - before, writes: writes(op.sim) };
        }
        await op.sim.stop();
        handMs.push(await handInstall(releases, helmBin));
      }
      const ratio = median(operatorMs) / median(handMs);
      return [
        { name: "releases in the list", value: releases.length },
        { name: "render release list (pure), median of 200", value: median(renders).toFixed(3), unit: "ms" },
        { name: "load unpacked release (chart digests), median", value: median(loads).toFixed(1), unit: "ms" },
        { name: "operator install, median of 2", value: (median(operatorMs) / 1000).toFixed(2), unit: "s" },
        { name: "helm upgrade --install by hand, median of 2", value: (median(handMs) / 1000).toFixed(2), unit: "s" },
        { name: "operator / by hand", value: ratio.toFixed(2), unit: "×", target: "≤ 1.2", ok: ratio <= 1.2 },
        { name: "helm runs over 10 resyncs at steady state", value: steady!.runs, target: "0", ok: steady!.runs === 0 },
        { name: "writes over 10 resyncs at steady state", value: steady!.writes, unit: "requests", target: "0", ok: steady!.writes === 0 },
      ];
    } finally {
      cleanup();
    }
  },
};

const UPGRADE_TO = "1.12.2";

/** The upgrade walk (olares-cli upgrade's order, --reuse-values, settings last) after an operator install. */
const releaseUpgrade: BenchSection = {
  title: `upgrade ${DEFAULT_FIXTURE_VERSION} → ${UPGRADE_TO} of the fixture release on the cluster simulator (Helm 4.1): the upgrade walk, then steady state`,
  async run(): Promise<Figure[]> {
    fetchTools();
    const { input, cleanup } = await baseInput();
    const cache = mkdtempSync(join(tmpdir(), "bench-upgrade-"));
    try {
      const op = await operatorInstall(input, HELMS[0].bin);
      try {
        await op.sim.settle();
        const w = await ensureWizard({ kind: "dir", path: fixture(UPGRADE_TO).cdnDir }, UPGRADE_TO, cache);
        const source = await loadRelease(w.installerDir);
        const spec = defaultSpec({ ...op.input.spec, version: UPGRADE_TO });
        const bfl = bflFacts(op.sim);
        const next: ReleaseListInput = { ...op.input, spec, source, bfl, bflAnnotations: bfl.annotations, ownerActivated: true };
        const before = op.helm.runs;
        const t0 = performance.now();
        const r = await walkReleases(releasesOf(renderUpgradeList({ ...next, from: DEFAULT_FIXTURE_VERSION })), op.helm, storeRecords(op.sim));
        const ms = performance.now() - t0;
        if (r.failed) throw new Error(`upgrade walk: ${r.failed.name}: ${r.failed.error}`);
        const upgradeRuns = op.helm.runs - before;
        await op.sim.settle();
        op.sim.requests.length = 0;
        const steadyBefore = op.helm.runs;
        for (let i = 0; i < 10; i++) await walkReleases(releasesOf(renderReleaseList(next)), op.helm, storeRecords(op.sim));
        const runs = op.helm.runs - steadyBefore;
        const w10 = writes(op.sim);
        return [
          { name: "upgrade walk (9 helm upgrades: hami, settings, os-*, launcher, 3 apps, settings)", value: (ms / 1000).toFixed(2), unit: "s" },
          { name: "helm runs in the upgrade", value: upgradeRuns },
          { name: "helm runs over 10 resyncs after the upgrade", value: runs, target: "0", ok: runs === 0 },
          { name: "writes over 10 resyncs after the upgrade", value: w10, unit: "requests", target: "0", ok: w10 === 0 },
        ];
      } finally {
        await op.sim.stop();
      }
    } finally {
      cleanup();
      rmSync(cache, { recursive: true, force: true });
    }
  },
};

export const RELEASE_SECTIONS: BenchSection[] = [releaseInstall, releaseUpgrade];

if (invokedDirectly(import.meta.url)) {
  const missed = await runSections(RELEASE_SECTIONS);
  process.exit(missed === 0 ? 0 : 1);
}
