// kind "binary": a downloaded executable (or one out of a .tar.gz), installed atomically after its
// sha256 matched. A record under /var/lib/olares-agent/binaries remembers what was installed.
import path from "node:path";
import { AGENT_STATE_DIR, ARCH_PLACEHOLDER, isAllowedPath, isDownloadUrl, type BinaryTask } from "../../contract/index.js";
import { restoreManaged, sha256, writeManaged } from "./common.js";
import { extractFromTar, isGzip } from "./tar.js";
import type { TaskContext, TaskModule } from "./types.js";

const MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;

interface InstallRecord {
  /** The URL it came from ({arch} filled in). */
  url: string;
  /** sha256 of what was downloaded. */
  source: string;
  /** sha256 of the installed file. */
  installed: string;
}

/** The node's architecture in release-file naming. */
export function releaseArch(nodeArch: string = process.arch): string {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "arm64") return "arm64";
  throw new Error(`unsupported node architecture ${nodeArch}`);
}

export function resolveUrl(task: Pick<BinaryTask, "url">): string {
  return task.url.split(ARCH_PLACEHOLDER).join(releaseArch());
}

/** The record matches the task: same checksum when pinned, same URL otherwise. */
function recordMatches(record: InstallRecord | undefined, task: BinaryTask): record is InstallRecord {
  if (!record) return false;
  return task.sha256 ? record.source === task.sha256 : record.url === resolveUrl(task);
}

export function recordPath(binaryPath: string): string {
  return `${AGENT_STATE_DIR}/binaries${binaryPath}.json`;
}

async function readRecord(ctx: TaskContext, task: BinaryTask): Promise<InstallRecord | undefined> {
  const raw = await ctx.host.readText(recordPath(task.path));
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as InstallRecord;
  } catch {
    return undefined;
  }
}

async function diffOf(ctx: TaskContext, task: BinaryTask): Promise<string | undefined> {
  const st = await ctx.host.stat(task.path);
  if (!st) return `${task.path}: missing`;
  if (st.type !== "file") return `${task.path}: is a ${st.type}`;
  const record = await readRecord(ctx, task);
  if (!recordMatches(record, task)) return `${task.path}: not the build from ${resolveUrl(task)}${task.sha256 ? ` (sha256 ${task.sha256.slice(0, 12)}…)` : ""}`;
  const current = await ctx.host.read(task.path);
  if (!current || sha256(current) !== record.installed) return `${task.path}: content changed since install`;
  if (st.mode !== task.mode) return `${task.path}: mode ${st.mode.toString(8)}, want ${task.mode.toString(8)}`;
  return undefined;
}

export async function download(url: string): Promise<Buffer> {
  if (!isDownloadUrl(url)) throw new Error(`refusing to download ${JSON.stringify(url)}: not an https URL`);
  const res = await fetch(url, { redirect: "follow", signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS) });
  if (!res.ok || !res.body) throw new Error(`download ${url}: HTTP ${res.status}`);
  const declared = Number(res.headers.get("content-length") ?? "0");
  if (declared > MAX_DOWNLOAD_BYTES) throw new Error(`download ${url}: ${declared} bytes is over the limit`);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > MAX_DOWNLOAD_BYTES) throw new Error(`download ${url}: over ${MAX_DOWNLOAD_BYTES} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

export const binaryTask: TaskModule<BinaryTask> = {
  async check(ctx, task) {
    const diff = await diffOf(ctx, task);
    return diff ? { upToDate: false, diff } : { upToDate: true };
  },
  async apply(ctx, task) {
    if (!isAllowedPath(task.path)) throw new Error(`${task.path} is not an allowed install path`);
    const url = resolveUrl(task);
    const data = await download(url);
    const got = sha256(data);
    if (task.sha256 && got !== task.sha256) throw new Error(`download ${url}: sha256 ${got} does not match the expected ${task.sha256}`);
    if (!task.sha256) ctx.log.warn(`no checksum published for ${url}: pinning sha256 ${got} as installed`);
    let binary = data;
    if (isGzip(data) || /\.(tar\.gz|tgz|tar)$/.test(new URL(url).pathname)) {
      const inner = extractFromTar(data, path.posix.basename(task.path));
      if (!inner) throw new Error(`download ${url}: the archive holds no file named ${path.posix.basename(task.path)}`);
      binary = inner;
    }
    await writeManaged(ctx, task.path, binary, task.mode);
    const record: InstallRecord = { url, source: got, installed: sha256(binary) };
    await writeManaged(ctx, recordPath(task.path), JSON.stringify(record) + "\n", 0o600);
  },
  async verify(ctx, task) {
    const diff = await diffOf(ctx, task);
    if (diff) throw new Error(`verify: ${diff}`);
  },
  async undo(ctx, task, scope) {
    await restoreManaged(ctx, task.path, scope);
    await restoreManaged(ctx, recordPath(task.path), scope);
  },
  async managedFiles(ctx, task) {
    const record = await readRecord(ctx, task);
    if (recordMatches(record, task)) return [{ path: task.path, sha256: record.installed }];
    return task.sha256 ? [{ path: task.path, sha256: task.sha256 }] : [];
  },
};
