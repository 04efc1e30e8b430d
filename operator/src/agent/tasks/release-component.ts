// kind "releaseComponent": a component of installation.manifest (e.g. olaresd), downloaded once into the
// host's release cache (MD5 checked) and its archive members installed where the installer puts them.
import path from "node:path";
import { isAllowedPath, type ReleaseComponentTask } from "../../contract/index.js";
import { restoreManaged, sha256, writeManaged } from "./common.js";
import { cachePath, cachedReleaseFile, fetchReleaseFile } from "./release-download.js";
import { extractFromTar, isGzip } from "./tar.js";
import type { TaskContext, TaskModule } from "./types.js";

function memberOf(archive: Buffer, member: string, filename: string): Buffer {
  if (!isGzip(archive) && !/\.(tar\.gz|tgz|tar)$/.test(filename)) return archive;
  const inner = extractFromTar(archive, path.posix.basename(member));
  if (!inner) throw new Error(`${filename}: the archive holds no member ${member}`);
  return inner;
}

/** The host's glibc as major.minor (`getconf GNU_LIBC_VERSION`, libc-bin is Essential); undefined when unknown. */
export async function hostGlibc(ctx: TaskContext): Promise<string | undefined> {
  const r = await ctx.host.run(["getconf", "GNU_LIBC_VERSION"], { timeoutMs: 10_000 }).catch(() => undefined);
  return r?.exitCode === 0 ? /(\d+)\.(\d+)/.exec(r.stdout)?.slice(1, 3).join(".") : undefined;
}

const olderThan = (a: string, b: string) => {
  const [am, an] = a.split(".").map(Number) as [number, number];
  const [bm, bn] = b.split(".").map(Number) as [number, number];
  return am < bm || (am === bm && an < bn);
};

/** The component this host gets: the fallback on an older glibc (as olares-cli's InstallRedis), else the task's own. */
async function effective(ctx: TaskContext, task: ReleaseComponentTask): Promise<ReleaseComponentTask> {
  const f = task.glibcFallback;
  if (!f) return task;
  const glibc = await hostGlibc(ctx);
  return glibc && olderThan(glibc, f.glibcBelow) ? { ...task, component: f.component, file: f.file } : task;
}

async function diffOf(ctx: TaskContext, given: ReleaseComponentTask): Promise<string | undefined> {
  const task = await effective(ctx, given);
  const archive = await cachedReleaseFile(ctx, task.baseDir, task.file);
  if (!archive) return `${cachePath(task.baseDir, task.file)}: not downloaded (or not the manifest's MD5)`;
  for (const m of task.install) {
    const want = memberOf(archive, m.member, task.file.filename);
    const st = await ctx.host.stat(m.path);
    if (!st || st.type !== "file") return `${m.path}: missing`;
    const have = await ctx.host.read(m.path);
    if (!have || sha256(have) !== sha256(want)) return `${m.path}: not ${task.component} from ${task.file.filename}`;
    if (st.mode !== m.mode) return `${m.path}: mode ${st.mode.toString(8)}, want ${m.mode.toString(8)}`;
  }
  return undefined;
}

export const releaseComponentTask: TaskModule<ReleaseComponentTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, given) {
    const task = await effective(ctx, given);
    const { data, downloaded } = await fetchReleaseFile(ctx, task.baseDir, task.file);
    if (downloaded) ctx.log.info(`downloaded ${task.file.filename} (${task.component}), MD5 as the manifest says`);
    for (const m of task.install) {
      if (!isAllowedPath(m.path)) throw new Error(`${m.path} is not an allowed install path`);
      // writeManaged leaves a member already in place (same content and mode) alone.
      if (await writeManaged(ctx, m.path, memberOf(data, m.member, task.file.filename), m.mode)) ctx.log.info(`installed ${m.path} from ${task.file.filename}`);
    }
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    for (const m of task.install) await restoreManaged(ctx, m.path, scope);
  },
  async managedFiles(ctx, given) {
    const task = await effective(ctx, given);
    const archive = await cachedReleaseFile(ctx, task.baseDir, task.file);
    if (!archive) return [];
    return task.install.map((m) => ({ path: m.path, sha256: sha256(memberOf(archive, m.member, task.file.filename)) }));
  },
};
