// The storage binaries olares-cli installs from installation.manifest (cli/pkg/storage: Manifest.Get of
// "juicefs", "minio", "redis", and "redis-231" below glibc 2.32), for the fixture release's storage
// variant, in the upstream file layouts the installer unpacks:
//   juicefs-<ver>-linux-amd64.tar.gz   juicefs, LICENSE, README.md, README_CN.md at the top (juicedata's
//                                      release archive; InstallJuiceFs untars it and installs ./juicefs)
//   minio.<RELEASE>                    the binary itself (dl.min.io's archive name; InstallMinio copies it)
//   redis-<ver>.tar.gz                 redis-<ver>/{redis-server,redis-cli,…} (InstallRedis copies ./* of
//                                      the directory named after the file into /usr/local/bin)
// Built from the real tools: JuiceFS and MinIO as hack/storage-tools.sh builds them, Redis from Debian's
// redis-server package (the binary copied; its Olares CDN build is not public). The redis-231 archive
// holds the same binary under another name (we have no older-glibc build); its file name is ours, the
// real one was not read. Component names (ids) and layouts are the installer's.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export interface FixtureComponent {
  id: string;
  filename: string;
  path: string;
  /** Members of a .tar.gz (relative paths). */
  files?: Record<string, string | Buffer>;
  /** Mode of every member (default 0644); `executables` get 0755. */
  mode?: number;
  executables?: string[];
  /** The download is this file itself (no archive). */
  raw?: Buffer;
}

const TOOLS = join(dirname(fileURLToPath(import.meta.url)), "../storage-tools.sh");

function tool(name: string): string {
  return execFileSync("bash", [TOOLS, "path", name], { encoding: "utf8" }).trim();
}

/** The module's own files next to the binary (LICENSE and READMEs), from the Go module cache. */
function juicefsModuleDir(version: string): string {
  const out = execFileSync("go", ["mod", "download", "-json", `github.com/juicedata/juicefs@v${version}`], { encoding: "utf8", cwd: dirname(TOOLS) });
  return (JSON.parse(out) as { Dir: string }).Dir;
}

let cached: FixtureComponent[] | undefined;

/** Builds the tools when missing (hack/storage-tools.sh build), then lays them out as the release ships them. */
export function storageComponents(): FixtureComponent[] {
  if (cached) return cached;
  execFileSync("bash", [TOOLS, "build"], { stdio: ["ignore", "ignore", "inherit"] });
  const versions = Object.fromEntries(
    execFileSync("bash", [TOOLS, "versions"], { encoding: "utf8" })
      .trim()
      .split("\n")
      .map((l) => l.split(" ") as [string, string]),
  );
  const jfsVersion = versions["juicefs"]!;
  const minioRelease = versions["minio"]!;
  // Debian's /usr/bin/redis-server is a symlink to redis-check-rdb (one binary, chosen by argv[0]): read through it.
  const redisServer = tool("redis-server");
  const redisVersion = /v=(\d+\.\d+\.\d+)/.exec(execFileSync(redisServer, ["--version"], { encoding: "utf8" }))?.[1];
  if (!redisVersion) throw new Error(`${redisServer} --version: no version`);
  const mod = juicefsModuleDir(jfsVersion);
  const jfsStem = `juicefs-${jfsVersion}-linux-amd64`;
  const redisFiles = (dir: string) => ({ [`${dir}/redis-server`]: readFileSync(redisServer), [`${dir}/redis-cli`]: readFileSync(tool("redis-cli")) });
  const redisStem = `redis-${redisVersion}`;
  const redisOldStem = `redis-${redisVersion}-glibc2.31`;
  cached = [
    {
      id: "juicefs",
      filename: `${jfsStem}.tar.gz`,
      path: "pkg/components",
      files: { juicefs: readFileSync(tool("juicefs")), LICENSE: readFileSync(join(mod, "LICENSE")), "README.md": readFileSync(join(mod, "README.md")), "README_CN.md": readFileSync(join(mod, "README_CN.md")) },
      executables: ["juicefs"],
    },
    { id: "minio", filename: `minio.${minioRelease}`, path: "pkg/components", raw: readFileSync(tool("minio")) },
    { id: "redis", filename: `${redisStem}.tar.gz`, path: "pkg/components", files: redisFiles(redisStem), mode: 0o755 },
    { id: "redis-231", filename: `${redisOldStem}.tar.gz`, path: "pkg/components", files: redisFiles(redisOldStem), mode: 0o755 },
  ];
  return cached;
}
