// From a storage host task (no secrets) and the credentials Secret to the engine's plan.
import type { JuiceFSBackend, StorageKind } from "../../contract/index.js";
import type { StorageCredentials, StorageTaskEnvironment } from "./environment.js";
import type { JuiceFSVolume } from "./juicefs.js";
import type { Host } from "../host/types.js";
import { objectStoreFromBucketUrl, type MigrationPlan } from "./migration.js";
import {
  DEFAULT_BINARIES,
  DEFAULT_SERVICE_PATHS,
  renderJuiceFSEnv,
  renderJuiceFSUnit,
  renderK3sDropIn,
  renderMinioEnv,
  renderMinioUnit,
  renderRedisConf,
  renderRedisUnit,
  type RenderedFile,
} from "./units.js";

export interface StorageTaskShape {
  migrationId?: string;
  root: string;
  from?: StorageKind;
  to?: StorageKind;
  backend: JuiceFSBackend;
}

/** The metadata URL without its password, and the password (from the URL or the Secret). */
function metadata(b: JuiceFSBackend, c: StorageCredentials): { metaUrl: string; metaPassword?: string } {
  const raw = b.metaUrl ?? c.metaUrl;
  if (!raw) throw new Error(`backend ${b.name}: no metadata URL (neither in the task nor in the credentials Secret's meta-url)`);
  const u = new URL(raw);
  const fromUrl = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = "";
  const metaPassword = fromUrl ?? c.metaPassword;
  return { metaUrl: u.toString(), ...(metaPassword ? { metaPassword } : {}) };
}

export function juicefsVolume(b: JuiceFSBackend, c: StorageCredentials, env: Pick<StorageTaskEnvironment, "binaries">): JuiceFSVolume {
  return {
    name: b.name,
    storage: b.storage,
    bucketUrl: b.bucketUrl,
    accessKey: c.accessKey,
    secretKey: c.secretKey,
    ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}),
    ...metadata(b, c),
    cacheSizeMiB: b.cacheSizeMiB,
    cacheDir: b.cacheDir,
    binary: env.binaries.juicefs,
  };
}

export function migrationPlanFor(task: StorageTaskShape, c: StorageCredentials, env: Pick<StorageTaskEnvironment, "binaries" | "servicePaths">): MigrationPlan {
  const b = task.backend;
  const juicefs = juicefsVolume(b, c, env);
  return {
    id: task.migrationId ?? "install",
    root: task.root,
    from: task.from ?? "LocalFS",
    to: task.to ?? "JuiceFS",
    juicefs,
    managed: {
      ...(b.managedRedis ? { redis: { ...b.managedRedis, password: juicefs.metaPassword ?? "" } } : {}),
      ...(b.managedMinio ? { minio: { ...b.managedMinio, rootPassword: c.minioRootPassword ?? c.secretKey } } : {}),
    },
    objectStore: objectStoreFromBucketUrl(b.bucketUrl, { accessKeyId: c.accessKey, secretAccessKey: c.secretKey, ...(c.sessionToken ? { sessionToken: c.sessionToken } : {}) }, b.region),
    binaries: env.binaries,
    servicePaths: env.servicePaths,
  };
}

/** The storage task kinds run only through the storage handshake, which provides the environment. */
export function requireStorageEnvironment(env: StorageTaskEnvironment | undefined, taskId: string): StorageTaskEnvironment {
  if (!env) throw new Error(`${taskId}: storage tasks run through the node's storage config (annotation olares.com/storage-config), not in a node config`);
  return env;
}

/** The unit and config files the engine writes for this plan (what check and verify compare). */
export function expectedStorageFiles(plan: MigrationPlan): RenderedFile[] {
  const bins = plan.binaries ?? DEFAULT_BINARIES;
  const paths = plan.servicePaths ?? DEFAULT_SERVICE_PATHS;
  const files = [renderJuiceFSEnv(plan.juicefs, paths), renderJuiceFSUnit(plan.root, plan.juicefs, bins, paths), renderK3sDropIn(plan.root, bins, paths)];
  if (plan.managed.redis) files.push(renderRedisConf(plan.root, plan.managed.redis), renderRedisUnit(plan.root, bins, paths));
  if (plan.managed.minio) files.push(renderMinioEnv(plan.root, plan.managed.minio, paths), renderMinioUnit(bins, paths));
  return files;
}

/** "<path>: differs" for each expected file missing or different on the host (content or mode); never shows content. */
export async function storageFileDiffs(host: Host, files: readonly RenderedFile[]): Promise<string[]> {
  const diffs: string[] = [];
  for (const f of files) {
    const current = await host.read(f.path);
    const st = await host.stat(f.path);
    if (!current) diffs.push(`${f.path}: missing`);
    else if (!current.equals(Buffer.from(f.content))) diffs.push(`${f.path}: content differs`);
    else if (st && st.mode !== f.mode) diffs.push(`${f.path}: mode ${st.mode.toString(8)}, want ${f.mode.toString(8)}`);
  }
  return diffs;
}
