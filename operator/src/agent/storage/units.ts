// The host services JuiceFS needs, rendered as olares-cli writes them (cli/pkg/storage): redis-server,
// minio and juicefs units, their config files, and the K3s drop-in that orders K3s after the mount.
// Secrets live only in root-owned 0600 files (redis.conf, /etc/default/minio, /etc/olares/juicefs.env),
// never on a command line or in a unit file.
import { storageLayout } from "./layout.js";

export const REDIS_UNIT = "redis-server.service";
export const MINIO_UNIT = "minio.service";
export const JUICEFS_UNIT = "juicefs.service";
export const SECRET_FILE_MODE = 0o600;

/** Where the unit and config files go on a host (tests point them into a scratch directory). */
export interface ServicePaths {
  unitDir: string;
  k3sDropIn: string;
  minioEnv: string;
  juicefsEnv: string;
}

export const DEFAULT_SERVICE_PATHS: ServicePaths = {
  unitDir: "/etc/systemd/system",
  k3sDropIn: "/etc/systemd/system/k3s.service.d/10-olares-juicefs.conf",
  minioEnv: "/etc/default/minio",
  juicefsEnv: "/etc/olares/juicefs.env",
};

export interface Binaries {
  redisServer: string;
  minio: string;
  juicefs: string;
}

export const DEFAULT_BINARIES: Binaries = {
  redisServer: "/usr/local/bin/redis-server",
  minio: "/usr/local/bin/minio",
  juicefs: "/usr/local/bin/juicefs",
};

export interface RedisConfig {
  bind: string;
  port: number;
  password: string;
}

export interface MinioConfig {
  address: string;
  port: number;
  consolePort: number;
  rootUser: string;
  rootPassword: string;
}

export interface JuiceFSMountConfig {
  /** Metadata URL without the password (it comes from META_PASSWORD in the env file). */
  metaUrl: string;
  metaPassword?: string;
  /** Cache size in MiB. */
  cacheSizeMiB: number;
  cacheDir?: string;
}

export interface RenderedFile {
  path: string;
  content: string;
  mode: number;
}

const IP = /^(\d{1,3}\.){3}\d{1,3}$|^[0-9a-fA-F:]+$/;
function checkAddress(field: string, v: string): void {
  if (!IP.test(v)) throw new Error(`${field}: ${JSON.stringify(v)} is not an IP address`);
}
function checkPort(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 65535) throw new Error(`${field}: ${v} is not a port (1-65535)`);
}
function checkSecret(field: string, v: string): void {
  // Values land in config files and env files: no line breaks, quotes or spaces that would change their meaning.
  if (!/^[A-Za-z0-9._~+/=@%^-]{8,256}$/.test(v)) throw new Error(`${field}: must be 8-256 characters of A-Z a-z 0-9 . _ ~ + / = @ % ^ -`);
}

/**
 * `<root>/data/redis/etc/redis.conf`: bind loopback and the node's address (workers reach it there, as
 * olares-cli's `bind <localIP>`), port 6379, appendonly, requirepass (0600: it holds the password).
 */
export function renderRedisConf(root: string, c: RedisConfig): RenderedFile {
  checkAddress("redis.bind", c.bind);
  checkPort("redis.port", c.port);
  checkSecret("redis.password", c.password);
  const l = storageLayout(root);
  const content = [
    "# Managed by olares-operator: JuiceFS metadata (db 1).",
    `bind ${[...new Set(["127.0.0.1", c.bind])].join(" ")}`,
    "protected-mode yes",
    `port ${c.port}`,
    "daemonize no",
    "supervised no",
    `dir ${l.redisDir}`,
    `pidfile ${l.redisDir}/redis.pid`,
    `logfile ${l.redisDir}/redis.log`,
    "appendonly yes",
    "appendfsync everysec",
    "save 900 1",
    "save 300 10",
    `requirepass ${c.password}`,
    "",
  ].join("\n");
  return { path: l.redisConf, content, mode: SECRET_FILE_MODE };
}

export function renderRedisUnit(root: string, bins: Binaries = DEFAULT_BINARIES, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  const l = storageLayout(root);
  const content = `[Unit]
Description=Redis (JuiceFS metadata for Olares)
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
# The sysctls Redis wants (olares-cli sets the same); a container host may refuse them, Redis still runs.
ExecStartPre=-/sbin/sysctl -w vm.overcommit_memory=1 net.core.somaxconn=10240
ExecStart=${bins.redisServer} ${l.redisConf}
Restart=always
RestartSec=3
LimitNOFILE=65536

[Install]
WantedBy=multi-user.target
`;
  return { path: `${paths.unitDir}/${REDIS_UNIT}`, content, mode: 0o644 };
}

/** `/etc/default/minio`: volume, address/console flags, root user and password (0600). */
export function renderMinioEnv(root: string, c: MinioConfig, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  checkAddress("minio.address", c.address);
  checkPort("minio.port", c.port);
  checkPort("minio.consolePort", c.consolePort);
  if (!/^[A-Za-z0-9._-]{3,64}$/.test(c.rootUser)) throw new Error("minio.rootUser: 3-64 characters of A-Z a-z 0-9 . _ -");
  checkSecret("minio.rootPassword", c.rootPassword);
  const host = c.address.includes(":") ? `[${c.address}]` : c.address;
  const content = [
    "# Managed by olares-operator: the JuiceFS object store.",
    `MINIO_VOLUMES="${storageLayout(root).minioVolume}"`,
    // --anonymous: MinIO keeps credentials and other sensitive values out of its log (the journal).
    `MINIO_OPTS="--console-address ${host}:${c.consolePort} --address ${host}:${c.port} --anonymous"`,
    `MINIO_ROOT_USER=${c.rootUser}`,
    `MINIO_ROOT_PASSWORD=${c.rootPassword}`,
    "MINIO_BROWSER=off",
    "",
  ].join("\n");
  return { path: paths.minioEnv, content, mode: SECRET_FILE_MODE };
}

export function renderMinioUnit(bins: Binaries = DEFAULT_BINARIES, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  const content = `[Unit]
Description=MinIO (JuiceFS object store for Olares)
After=network-online.target
Wants=network-online.target
AssertFileIsExecutable=${bins.minio}

[Service]
Type=simple
EnvironmentFile=${paths.minioEnv}
ExecStartPre=/bin/sh -c 'test -n "$MINIO_VOLUMES" || { echo "MINIO_VOLUMES is not set in ${paths.minioEnv}"; exit 1; }'
ExecStart=${bins.minio} server $MINIO_OPTS $MINIO_VOLUMES
Restart=always
RestartSec=3
LimitNOFILE=65536
TimeoutStopSec=30

[Install]
WantedBy=multi-user.target
`;
  return { path: `${paths.unitDir}/${MINIO_UNIT}`, content, mode: 0o644 };
}

/** META_PASSWORD for the metadata engine: JuiceFS reads it when the URL carries no password. */
export function renderJuiceFSEnv(c: Pick<JuiceFSMountConfig, "metaPassword">, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  const lines = ["# Managed by olares-operator."];
  if (c.metaPassword) {
    checkSecret("juicefs.metaPassword", c.metaPassword);
    lines.push(`META_PASSWORD=${c.metaPassword}`);
  }
  return { path: paths.juicefsEnv, content: lines.join("\n") + "\n", mode: SECRET_FILE_MODE };
}

/** The mount flags olares-cli uses, plus xattrs (rsync -X needs them) and the cache size from the spec. */
/**
 * `kernelCaches: false` turns the kernel's entry/attribute caches off (the staging mount).
 * `kernelWriteback: false` drops `-o writeback_cache` (the staging mount): with FUSE's kernel writeback
 * a late page flush can overwrite an mtime rsync has just set, and the copy would never converge.
 */
export function juicefsMountArgs(root: string, c: JuiceFSMountConfig, mountPoint: string, opts: { kernelWriteback?: boolean; kernelCaches?: boolean } = {}): string[] {
  if (!Number.isInteger(c.cacheSizeMiB) || c.cacheSizeMiB < 0) throw new Error(`juicefs.cache.sizeMiB: ${c.cacheSizeMiB} must be a whole number of MiB`);
  if (/\s|:\/\/[^/]*:[^/]*@/.test(c.metaUrl)) throw new Error("juicefs metadata URL must not carry a password or spaces (the password goes in META_PASSWORD)");
  const l = storageLayout(root);
  return [
    "mount",
    ...(opts.kernelWriteback === false ? [] : ["-o", "writeback_cache"]),
    // The staging mount (kernelCaches false) asks Redis every time: the verifier must see what is stored.
    ...(opts.kernelCaches === false ? ["--entry-cache", "0", "--dir-entry-cache", "0", "--attr-cache", "0"] : ["--entry-cache", "300", "--attr-cache", "300"]),
    "--cache-dir",
    c.cacheDir ?? l.jfscache,
    "--cache-size",
    String(c.cacheSizeMiB),
    "--enable-xattr",
    "--no-usage-report",
    c.metaUrl,
    mountPoint,
  ];
}

export function renderJuiceFSUnit(root: string, c: JuiceFSMountConfig, bins: Binaries = DEFAULT_BINARIES, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  const l = storageLayout(root);
  const content = `[Unit]
Description=JuiceFS (Olares rootfs at ${l.rootfs})
After=network-online.target redis-server.service minio.service
Wants=network-online.target
Before=k3s.service

[Service]
Type=simple
EnvironmentFile=${paths.juicefsEnv}
ExecStartPre=/bin/mkdir -p ${l.rootfs}
ExecStart=${bins.juicefs} ${juicefsMountArgs(root, c, l.rootfs).join(" ")}
ExecStop=${bins.juicefs} umount ${l.rootfs}
Restart=on-failure
RestartSec=5

[Install]
WantedBy=multi-user.target
`;
  return { path: `${paths.unitDir}/${JUICEFS_UNIT}`, content, mode: 0o644 };
}

/** K3s waits for the mount: ordered after juicefs.service, and refuses to start without it. */
export function renderK3sDropIn(root: string, bins: Binaries = DEFAULT_BINARIES, paths: ServicePaths = DEFAULT_SERVICE_PATHS): RenderedFile {
  const content = `# Managed by olares-operator: Olares's rootfs is on JuiceFS.
[Unit]
After=${JUICEFS_UNIT}
Requires=${JUICEFS_UNIT}

[Service]
ExecStartPre=${bins.juicefs} summary ${storageLayout(root).rootfs}
`;
  return { path: paths.k3sDropIn, content, mode: 0o644 };
}
