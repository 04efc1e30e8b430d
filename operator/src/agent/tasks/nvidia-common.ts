// Package lookups shared by the NVIDIA driver and toolkit tasks.
import { ORIGINAL_SCOPE } from "./common.js";
import type { TaskContext } from "./types.js";

/** Candidate versions apt can install for a package, newest first (`apt-cache madison`). */
export async function aptVersions(ctx: TaskContext, pkg: string): Promise<string[]> {
  const r = await ctx.host.run(["apt-cache", "madison", pkg]);
  if (r.exitCode !== 0) return [];
  const versions = r.stdout
    .split("\n")
    .map((line) => line.split("|").map((s) => s.trim()))
    .filter((cols) => cols[0] === pkg && cols[1])
    .map((cols) => cols[1]!);
  return [...new Set(versions)];
}

/** Whether a package version (Debian epoch/revision form) belongs to a wanted upstream version prefix. */
export function versionMatches(debVersion: string, wanted: string): boolean {
  const upstream = debVersion.replace(/^\d+:/, "");
  return upstream === wanted || upstream.startsWith(`${wanted}.`) || upstream.startsWith(`${wanted}-`);
}

/** Installs pinned packages (even over other installed versions) and remembers the ones that were absent. */
export async function installPinned(ctx: TaskContext, pinned: readonly string[]): Promise<void> {
  const bare = pinned.map((p) => p.split("=")[0]!);
  const present = new Set(await ctx.host.packages.installed(bare));
  for (const name of bare.filter((n) => !present.has(n))) {
    await ctx.host.saveFact(ORIGINAL_SCOPE, `package:${name}`, true);
    await ctx.host.saveFact(ctx.configId, `package:${name}`, true);
  }
  ctx.log.info(`installing packages: ${pinned.join(" ")}`);
  await ctx.host.packages.install(pinned);
}
