// The real storage tools, built or installed once per machine by hack/storage-tools.sh. A missing
// tool fails the tier loudly: nothing here skips.
import { execFileSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const SCRIPT = path.join(REPO, "hack/storage-tools.sh");

export interface StorageTools {
  juicefs: string;
  minio: string;
  redisServer: string;
  rsync: string;
}

let cached: StorageTools | undefined;

/** Builds what is missing (idempotent, cached by version), then returns the tool paths. */
export function storageTools(): StorageTools {
  if (cached) return cached;
  execFileSync(SCRIPT, ["build"], { stdio: ["ignore", "inherit", "inherit"], timeout: 60 * 60_000 });
  const p = (tool: string) => execFileSync(SCRIPT, ["path", tool], { encoding: "utf8" }).trim();
  cached = { juicefs: p("juicefs"), minio: p("minio"), redisServer: p("redis-server"), rsync: p("rsync") };
  for (const t of ["getfattr", "setfattr", "fusermount3"]) p(t);
  return cached;
}
