// The JuiceFS volume: format (once, idempotent), mount on a path, and the checks K3s's drop-in runs.
import type { Host } from "../host/types.js";
import { HostCommandError } from "../host/types.js";
import { isJuiceFSMount, unmount } from "./mounts.js";
import { juicefsMountArgs, type JuiceFSMountConfig } from "./units.js";

export type JuiceFSStorageKind = "minio" | "s3" | "oss" | "cos";

export interface JuiceFSVolume extends JuiceFSMountConfig {
  /** Volume name (juicefs format's NAME), e.g. rootfs. */
  name: string;
  storage: JuiceFSStorageKind;
  /** Bucket URL as JuiceFS wants it, e.g. http://10.0.0.5:9000/olares. */
  bucketUrl: string;
  accessKey: string;
  secretKey: string;
  sessionToken?: string;
  /** Where the juicefs binary is on the host. */
  binary: string;
}

/** Secrets reach JuiceFS through its environment variables, never its argv (visible in ps and logs). */
function secretEnv(v: JuiceFSVolume, withStore: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  if (v.metaPassword) env.META_PASSWORD = v.metaPassword;
  if (withStore) {
    env.ACCESS_KEY = v.accessKey;
    env.SECRET_KEY = v.secretKey;
    if (v.sessionToken) env.SESSION_TOKEN = v.sessionToken;
  }
  return env;
}

/** `juicefs status` of the metadata URL: the volume's name when formatted, undefined when not. */
export async function formattedVolumeName(host: Host, v: JuiceFSVolume): Promise<string | undefined> {
  const r = await host.run([v.binary, "status", "--no-color", v.metaUrl], { env: secretEnv(v, false), timeoutMs: 60_000 });
  if (r.exitCode !== 0) {
    if (/database is not formatted|not formatted/i.test(r.stderr + r.stdout)) return undefined;
    throw new HostCommandError([v.binary, "status", v.metaUrl], r);
  }
  const m = /"Name":\s*"([^"]+)"/.exec(r.stdout);
  return m?.[1];
}

/** `juicefs status`'s Setting of a formatted volume: its name and bucket URL. */
export async function volumeSetting(host: Host, v: JuiceFSVolume): Promise<{ name: string; bucket: string } | undefined> {
  const r = await host.run([v.binary, "status", "--no-color", v.metaUrl], { env: secretEnv(v, false), timeoutMs: 60_000 });
  if (r.exitCode !== 0) {
    if (/database is not formatted|not formatted/i.test(r.stderr + r.stdout)) return undefined;
    throw new HostCommandError([v.binary, "status", v.metaUrl], r);
  }
  const name = /"Name":\s*"([^"]+)"/.exec(r.stdout)?.[1];
  const bucket = /"Bucket":\s*"([^"]+)"/.exec(r.stdout)?.[1];
  return name && bucket ? { name, bucket } : undefined;
}

/** The address a single-node install formatted the volume at (the managed MinIO on loopback). */
const SINGLE_NODE_HOST = /^(127\.0\.0\.1|localhost|\[::1\])$/;

/**
 * A volume formatted by a single-node install has its bucket at the managed MinIO's loopback address
 * (http://127.0.0.1:9000/olares), which no worker can reach: pointed at the address every node uses
 * (`juicefs config --bucket`, as a cluster admin would before adding a worker). Only that case: the same
 * MinIO (port and bucket path) behind a loopback host; any other difference is left alone and reported
 * by the caller's checks. Returns the old bucket when it changed it; idempotent.
 */
export async function rebindLoopbackBucket(host: Host, v: JuiceFSVolume): Promise<string | undefined> {
  const s = await volumeSetting(host, v);
  if (!s || s.bucket === v.bucketUrl) return undefined;
  let old: URL, want: URL;
  try {
    old = new URL(s.bucket);
    want = new URL(v.bucketUrl);
  } catch {
    return undefined;
  }
  const sameStore = old.protocol === want.protocol && old.port === want.port && old.pathname.replace(/\/+$/, "") === want.pathname.replace(/\/+$/, "");
  if (!sameStore || !SINGLE_NODE_HOST.test(old.hostname) || SINGLE_NODE_HOST.test(want.hostname)) return undefined;
  // The stored keys stay; juicefs checks the new bucket is reachable with them before it writes the setting.
  // --storage too: without it juicefs config takes the flag's default (file) and makes the URL a local path.
  const argv = [v.binary, "config", "--no-color", v.metaUrl, "--storage", v.storage, "--bucket", v.bucketUrl, "--yes"];
  const r = await host.run(argv, { env: secretEnv(v, false), timeoutMs: 2 * 60_000 });
  if (r.exitCode !== 0) throw new HostCommandError(argv, r);
  return s.bucket;
}

/** Formats the volume unless it already is (then the name must match: a different volume is never overwritten). */
export async function formatVolume(host: Host, v: JuiceFSVolume): Promise<"formatted" | "existing"> {
  const existing = await formattedVolumeName(host, v);
  if (existing !== undefined) {
    if (existing !== v.name) throw new Error(`metadata engine ${v.metaUrl} already holds JuiceFS volume "${existing}", not "${v.name}"; refusing to reformat it`);
    return "existing";
  }
  // olares-cli's arguments (storage, bucket, keys through env, name, --trash-days 0), plus ACLs so rsync -A keeps them.
  const argv = [v.binary, "format", "--no-color", "--storage", v.storage, "--bucket", v.bucketUrl, "--trash-days", "0", "--enable-acl", v.metaUrl, v.name];
  const r = await host.run(argv, { env: secretEnv(v, true), timeoutMs: 5 * 60_000 });
  if (r.exitCode !== 0) throw new HostCommandError(argv, r);
  return "formatted";
}

/** Mounts the volume at `path` in the background (juicefs mount -d), with the unit's flags but no kernel writeback. */
export async function mountVolume(host: Host, root: string, v: JuiceFSVolume, path: string): Promise<void> {
  if (await isJuiceFSMount(host, path)) return;
  await host.mkdir(path, 0o755);
  const [sub, ...rest] = juicefsMountArgs(root, v, path, { kernelWriteback: false, kernelCaches: false });
  const argv = [v.binary, sub!, "-d", "--log", `${root}/data/juicefs/mount-${path.split("/").pop()}.log`, ...rest];
  await host.mkdir(`${root}/data/juicefs`, 0o700);
  const r = await host.run(argv, { env: secretEnv(v, false), timeoutMs: 2 * 60_000 });
  if (r.exitCode !== 0 || !(await isJuiceFSMount(host, path))) throw new HostCommandError(argv, r);
}

export async function unmountVolume(host: Host, v: Pick<JuiceFSVolume, "binary">, path: string): Promise<void> {
  await unmount(host, path, v.binary);
}

/** What K3s's ExecStartPre runs: `juicefs summary <mount>` succeeds only on a live JuiceFS mount. */
export async function summary(host: Host, v: Pick<JuiceFSVolume, "binary">, path: string): Promise<void> {
  await host.runChecked([v.binary, "summary", "--depth", "0", path], { timeoutMs: 60_000 });
}
