// Validation and plan lines shared by the two storage task kinds (juicefsRootfs, storageMigration).
import { isDns1123Label, isDns1123Subdomain, isIP, isIntIn, isPlainAbsolutePath, isPort, urlHasDotSegment } from "../validators.js";
import type { JuiceFSBackend, StorageCredentialsRef } from "../storage-migration.js";
import type { TaskChecker } from "./rules.js";

const STORAGES = ["minio", "s3", "oss", "cos"];
const VOLUME_NAME = /^[a-z0-9][-a-z0-9]{1,61}[a-z0-9]$/;

function isHttpUrl(s: unknown): boolean {
  if (typeof s !== "string" || s.length > 1024 || urlHasDotSegment(s)) return false;
  try {
    const u = new URL(s);
    return (u.protocol === "http:" || u.protocol === "https:") && !u.username && !u.password && !u.search && !u.hash;
  } catch {
    return false;
  }
}

function isPasswordlessRedisUrl(s: unknown): boolean {
  if (typeof s !== "string" || s.length > 1024) return false;
  try {
    const u = new URL(s);
    return (u.protocol === "redis:" || u.protocol === "rediss:") && !u.password && !u.search && !u.hash;
  } catch {
    return false;
  }
}

export function isStorageRoot(p: unknown): boolean {
  return typeof p === "string" && isPlainAbsolutePath(p) && p !== "/";
}

export function validateBackend(b: JuiceFSBackend | undefined, c: TaskChecker, field = "backend"): void {
  if (!b || typeof b !== "object") return c.bad(field, b, "must be an object");
  if (typeof b.name !== "string" || !VOLUME_NAME.test(b.name)) c.bad(`${field}.name`, b.name, "must be 3-63 lower-case letters, digits or hyphens");
  if (!STORAGES.includes(b.storage)) c.bad(`${field}.storage`, b.storage, `must be one of ${STORAGES.join(", ")}`);
  if (!isHttpUrl(b.bucketUrl)) c.bad(`${field}.bucketUrl`, b.bucketUrl, "must be an http(s) URL without credentials, query or fragment");
  if (b.metaUrl !== undefined && !isPasswordlessRedisUrl(b.metaUrl)) c.bad(`${field}.metaUrl`, b.metaUrl, "must be a redis:// URL without a password (the password comes from the credentials Secret)");
  if (!isPlainAbsolutePath(b.cacheDir)) c.bad(`${field}.cacheDir`, b.cacheDir, "must be a plain absolute path");
  if (!isIntIn(b.cacheSizeMiB, 1, 1 << 30)) c.bad(`${field}.cacheSizeMiB`, b.cacheSizeMiB, "must be an integer number of MiB ≥ 1");
  if (b.managedRedis) {
    if (!isIP(b.managedRedis.bind)) c.bad(`${field}.managedRedis.bind`, b.managedRedis.bind, "must be an IP address");
    if (!isPort(b.managedRedis.port)) c.bad(`${field}.managedRedis.port`, b.managedRedis.port, "must be a port 1-65535");
  }
  if (b.managedMinio) {
    const m = b.managedMinio;
    if (!isIP(m.address)) c.bad(`${field}.managedMinio.address`, m.address, "must be an IP address");
    if (!isPort(m.port)) c.bad(`${field}.managedMinio.port`, m.port, "must be a port 1-65535");
    if (!isPort(m.consolePort)) c.bad(`${field}.managedMinio.consolePort`, m.consolePort, "must be a port 1-65535");
    if (typeof m.rootUser !== "string" || !/^[A-Za-z0-9._-]{3,64}$/.test(m.rootUser)) c.bad(`${field}.managedMinio.rootUser`, m.rootUser, "must be 3-64 of A-Z a-z 0-9 . _ -");
    if (typeof m.bucket !== "string" || !isDns1123Subdomain(m.bucket)) c.bad(`${field}.managedMinio.bucket`, m.bucket, "must be a bucket name (DNS subdomain)");
  }
}

export function validateCredentials(r: StorageCredentialsRef | undefined, c: TaskChecker): void {
  if (!r || typeof r !== "object") return c.bad("credentials", r, "must be an object");
  if (typeof r.namespace !== "string" || !isDns1123Label(r.namespace)) c.bad("credentials.namespace", r.namespace, "must be a namespace name");
  if (typeof r.name !== "string" || !isDns1123Subdomain(r.name)) c.bad("credentials.name", r.name, "must be a Secret name");
  if (typeof r.hash !== "string" || !/^[0-9a-f]{16}$/.test(r.hash)) c.bad("credentials.hash", r.hash, "must be 16 lowercase hex digits");
}

export function describeBackend(root: string, b: JuiceFSBackend, cred: StorageCredentialsRef): string[] {
  const bins = ["/usr/local/bin/juicefs + /sbin/mount.juicefs (component juicefs)", ...(b.managedRedis ? ["/usr/local/bin/redis-server, redis-cli (redis; redis-231 below glibc 2.32)"] : []), ...(b.managedMinio ? ["/usr/local/bin/minio (minio)"] : [])];
  const lines: string[] = [`binaries ${bins.join(", ")}: from installation.manifest (the storage/bin/* tasks, before this one); without a manifest the nodes can fetch, they must be there already`];
  if (b.managedRedis) {
    lines.push(`file ${root}/data/redis/etc/redis.conf (0600: requirepass from Secret ${cred.namespace}/${cred.name})`);
    lines.push(`unit redis-server.service enabled, started (bind ${b.managedRedis.bind}:${b.managedRedis.port}, metadata db 1)`);
  }
  if (b.managedMinio) {
    lines.push(`file /etc/default/minio (0600: MINIO_VOLUMES=${root}/data/minio/vol1, root user ${b.managedMinio.rootUser}, password from the Secret)`);
    lines.push(`unit minio.service enabled, started (${b.managedMinio.address}:${b.managedMinio.port}, console :${b.managedMinio.consolePort}, bucket ${b.managedMinio.bucket})`);
  }
  lines.push(`juicefs volume ${b.name}: ${b.storage} ${b.bucketUrl}, metadata ${b.metaUrl ?? "(URL from the Secret)"} (formatted once, --trash-days 0)`);
  lines.push(`file /etc/olares/juicefs.env (0600: META_PASSWORD, ACCESS_KEY, SECRET_KEY)`);
  lines.push(`unit juicefs.service enabled, started: mount at ${root}/rootfs (cache ${b.cacheDir}, ${b.cacheSizeMiB} MiB, writeback)`);
  lines.push(`file /etc/systemd/system/k3s.service.d/10-olares-juicefs.conf (After=juicefs.service, ExecStartPre juicefs summary ${root}/rootfs)`);
  return lines;
}
