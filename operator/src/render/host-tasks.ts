// The typed host tasks a node config is made of, their validation and the config id.
// Pure: render, plan and the agent all import this; nothing here does I/O.
import { contentHash } from "./canonical.js";
import { OLARESD_RELEASE_BASE } from "./stages/olaresd.js";
import type { Disruption, HostTaskBase } from "./types.js";

/** Every path a task may write under. Anything else is rejected at render time and in the agent. */
export const ALLOWED_PATH_ROOTS = ["/etc/", "/usr/local/bin/", "/var/lib/olares-agent/", "/olares/"] as const;

/** Where the agent keeps backups, originals and its own state on the host. */
export const AGENT_STATE_DIR = "/var/lib/olares-agent";

/** Fixed host paths the task kinds write (shared by the agent and `plan`). */
export const HOST_PATHS = {
  resolvConf: "/etc/resolv.conf",
  timesyncdDropin: "/etc/systemd/timesyncd.conf.d/olares.conf",
  chronySources: "/etc/chrony/sources.d/olares.sources",
  sshdDropin: "/etc/ssh/sshd_config.d/50-olares.conf",
  sysctl: "/etc/sysctl.d/90-olares.conf",
  swapFile: "/var/lib/olares-agent/swapfile",
  swapUnit: "/etc/systemd/system/olares-swap.service",
  swappiness: "/etc/sysctl.d/91-olares-swap.conf",
  zramswapDefaults: "/etc/default/zramswap",
  zramGenerator: "/etc/systemd/zram-generator.conf",
  localtime: "/etc/localtime",
  timezone: "/etc/timezone",
  containerdCertsD: "/etc/containerd/certs.d",
  containerdConfig: "/etc/containerd/config.toml",
  containerdNvidiaFragment: "/etc/containerd/conf.d/99-olares-nvidia.toml",
  systemdUnits: "/etc/systemd/system",
} as const;

export interface FileOwner {
  uid: number;
  gid: number;
}

/** A whole file with exact content. */
export interface FileTask extends HostTaskBase {
  kind: "file";
  path: string;
  content: string;
  /** Permission bits, e.g. 0o644. */
  mode: number;
  owner?: FileOwner;
}

/** A systemd drop-in: /etc/systemd/system/<unit>.d/<name>. */
export interface DropinTask extends HostTaskBase {
  kind: "dropin";
  unit: string;
  /** File name ending in ".conf". */
  name: string;
  content: string;
}

/** A systemd unit: optional unit file (/etc/systemd/system/<name>), enablement and run state. */
export interface UnitTask extends HostTaskBase {
  kind: "unit";
  name: string;
  content?: string;
  enable: boolean;
  state: "started" | "stopped";
  /** Restart the unit when any of these task ids changed something in the same apply. */
  restartOnChange?: string[];
}

/** Distribution packages (Debian names; the agent maps the few that differ on RPM hosts). */
export interface PackagesTask extends HostTaskBase {
  kind: "packages";
  names: string[];
  manager?: "auto";
}

/**
 * Distribution packages that must not be installed (e.g. unattended-upgrades, which upgrades packages
 * behind our back, the pinned NVIDIA driver included). Undo reinstalls only what was installed before.
 */
export interface PackagesAbsentTask extends HostTaskBase {
  kind: "packagesAbsent";
  names: string[];
}

/** /etc/resolv.conf with these nameservers and no search line; systemd-resolved stood down if it owns it. */
export interface ResolvConfTask extends HostTaskBase {
  kind: "resolvConf";
  nameservers: string[];
}

/** Time sync through systemd-timesyncd, or chrony where it is installed. */
export interface TimesyncTask extends HostTaskBase {
  kind: "timesync";
  servers: string[];
}

/** openssh-server installed, configured through a drop-in, enabled (or disabled). */
export interface SshdTask extends HostTaskBase {
  kind: "sshd";
  port: number;
  /** Unset: the drop-in says nothing and the host's own setting stays (no lockout by default). */
  passwordAuthentication?: boolean;
  enabled: boolean;
}

/** Kernel parameters in /etc/sysctl.d/90-olares.conf. */
export interface SysctlTask extends HostTaskBase {
  kind: "sysctl";
  values: Record<string, string>;
}

/** A swap file (sizeMiB > 0) and/or zram swap, with vm.swappiness. */
export interface SwapTask extends HostTaskBase {
  kind: "swap";
  sizeMiB: number;
  swappiness: number;
  zram?: { sizePercent: number };
}

/** IANA time zone: /etc/localtime symlink and /etc/timezone. */
export interface TimezoneTask extends HostTaskBase {
  kind: "timezone";
  name: string;
}

export interface RegistryMirror {
  /** Registry host[:port], e.g. "docker.io"; "_default" applies to every registry. */
  registry: string;
  /** https endpoints tried in order before the registry itself. */
  endpoints: string[];
}

/** containerd registry mirrors: /etc/containerd/certs.d/<registry>/hosts.toml. */
export interface ContainerdMirrorsTask extends HostTaskBase {
  kind: "containerdMirrors";
  mirrors: RegistryMirror[];
}

/** The NVIDIA runtime registered in containerd (and made the default). */
export interface ContainerdNvidiaRuntimeTask extends HostTaskBase {
  kind: "containerdNvidiaRuntime";
}

/** Downloads that may come without a checksum: Olares' own release host (over https). */
export function isUnpinnedDownloadUrl(url: string): boolean {
  // Evaluated per call, not at load: keeps this module safe inside any render import cycle.
  return url.startsWith(`${OLARESD_RELEASE_BASE}/`);
}

/** Placeholder in a binary URL that the agent fills with the node's architecture (amd64, arm64). */
export const ARCH_PLACEHOLDER = "{arch}";

/** A downloaded executable, checked against its sha256. */
export interface BinaryTask extends HostTaskBase {
  kind: "binary";
  path: string;
  /** https URL (http only on loopback, for tests) of the binary or a .tar.gz holding it; may hold {arch}. */
  url: string;
  /**
   * sha256 of the download. Required, except for Olares' release host (isUnpinnedDownloadUrl),
   * whose checksums are not published: there the agent records and pins what it first installed.
   */
  sha256?: string;
  mode: number;
}

/** NVIDIA driver from distribution packages, pinned; a new driver needs a reboot. */
export interface NvidiaDriverTask extends HostTaskBase {
  kind: "nvidiaDriver";
  /** Branch ("570") or full version ("570.133.20"). */
  version: string;
}

/** nvidia-container-toolkit, pinned when a version is given ("" = distribution's current). */
export interface NvidiaToolkitTask extends HostTaskBase {
  kind: "nvidiaToolkit";
  version: string;
}

export type HostTask =
  | FileTask
  | DropinTask
  | UnitTask
  | PackagesTask
  | PackagesAbsentTask
  | ResolvConfTask
  | TimesyncTask
  | SshdTask
  | SysctlTask
  | SwapTask
  | TimezoneTask
  | ContainerdMirrorsTask
  | ContainerdNvidiaRuntimeTask
  | BinaryTask
  | NvidiaDriverTask
  | NvidiaToolkitTask;

export type HostTaskKind = HostTask["kind"];

export const HOST_TASK_KINDS: readonly HostTaskKind[] = [
  "file",
  "dropin",
  "unit",
  "packages",
  "packagesAbsent",
  "resolvConf",
  "timesync",
  "sshd",
  "sysctl",
  "swap",
  "timezone",
  "containerdMirrors",
  "containerdNvidiaRuntime",
  "binary",
  "nvidiaDriver",
  "nvidiaToolkit",
];

const DISRUPTIONS: readonly Disruption[] = ["none", "restart-service", "drain", "reboot"];

/** Content hash of a task list: first 10 hex of sha256 over canonical JSON. */
export function nodeConfigId(tasks: readonly HostTaskBase[]): string {
  return contentHash(tasks);
}

// ---- value rules (exported so the agent re-checks the same way) ----

const TASK_ID = /^[a-z0-9][a-z0-9._/-]{0,127}$/;
const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]{0,127}$/;
const UNIT_NAME = /^[A-Za-z0-9:_.@-]{1,200}\.(service|socket|timer|target|mount|swap|path)$/;
const DROPIN_NAME = /^[A-Za-z0-9_.@-]{1,100}\.conf$/;
const SAFE_PATH = /^\/[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const SYSCTL_KEY = /^[a-z0-9_][a-z0-9_.\-/]{0,199}$/;
const SYSCTL_VALUE = /^[A-Za-z0-9 \t._:,/+=-]{1,200}$/;
const TIMEZONE = /^[A-Za-z0-9_+-]{1,30}(\/[A-Za-z0-9_+-]{1,30}){0,2}$/;
const DRIVER_VERSION = /^\d{3}(\.\d{1,3}){0,2}$/;
const TOOLKIT_VERSION = /^(\d{1,3}\.\d{1,3}\.\d{1,3}(-\d{1,3})?)?$/;

export function isIPv4(s: string): boolean {
  const parts = s.split(".");
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isIPv6(s: string): boolean {
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(s)) return false;
  let head = s;
  let groupsFromV4 = 0;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    if (!isIPv4(s.slice(lastColon + 1))) return false;
    head = s.slice(0, lastColon + 1) + "0";
    groupsFromV4 = 1; // the dotted quad is two groups; "0" stands for one, count the other
  }
  const halves = head.split("::");
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === "" ? [] : h.split(":"));
  const all = halves.flatMap(groups);
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const count = all.length + groupsFromV4;
  return halves.length === 2 ? count <= 7 : count === 8;
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** RFC 1123 host name (letters, digits, hyphens; dot-separated labels). */
export function isHostname(s: string): boolean {
  if (s.length < 1 || s.length > 253) return false;
  return s.split(".").every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

export function isPackageName(s: string): boolean {
  return PACKAGE_NAME.test(s);
}

export function isPort(n: unknown): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Absolute, normalized, plain characters, under one of ALLOWED_PATH_ROOTS. */
export function isAllowedPath(p: string): boolean {
  if (!SAFE_PATH.test(p)) return false;
  if (p.split("/").some((seg) => seg === "." || seg === "..")) return false;
  return ALLOWED_PATH_ROOTS.some((root) => p.startsWith(root));
}

function isLoopbackHost(host: string): boolean {
  return host === "127.0.0.1" || host === "[::1]" || host === "localhost";
}

/** https URL without credentials; plain http is accepted on loopback only (local tests, checksummed). */
export function isDownloadUrl(s: string): boolean {
  if (!/^[\x21-\x7e]{1,2048}$/.test(s)) return false;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  // No credentials, query or fragment: the URL is printed by plan, stored in a ConfigMap and logged
  // by the agent, so a presigned URL's signature must never get that far.
  if (u.username || u.password || u.search || u.hash) return false;
  if (u.protocol === "https:") return true;
  return u.protocol === "http:" && isLoopbackHost(u.hostname);
}

/** A registry mirror endpoint: https URL, no credentials, query or fragment, no quotes. */
export function isMirrorEndpoint(s: string): boolean {
  if (!/^[\x21-\x7e]{1,2048}$/.test(s) || s.includes('"') || s.includes("\\")) return false;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return u.protocol === "https:" && !u.username && !u.password && !u.search && !u.hash && (isHostname(host) || isIP(host));
}

/** Registry key of certs.d: host[:port] or "_default". */
export function isRegistryName(s: string): boolean {
  if (s === "_default") return true;
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return false;
  return (isHostname(m[1]!) || isIPv4(m[1]!)) && (m[2] === undefined || isPort(Number(m[2])));
}

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

export function isSysctlKey(s: string): boolean {
  return SYSCTL_KEY.test(s) && !s.split(/[./]/).includes("..");
}

export function isSysctlValue(s: string): boolean {
  return SYSCTL_VALUE.test(s);
}

export function isTimezone(s: string): boolean {
  return TIMEZONE.test(s) && !s.split("/").some((seg) => seg === "." || seg === "..");
}

export function isUnitName(s: string): boolean {
  return UNIT_NAME.test(s);
}

export function isNvidiaDriverVersion(s: string): boolean {
  return DRIVER_VERSION.test(s);
}

export function isNvidiaToolkitVersion(s: string): boolean {
  return TOOLKIT_VERSION.test(s);
}

function isMode(n: unknown): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0o7777;
}

function isIntIn(n: unknown, min: number, max: number): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;
}

function isContent(s: unknown): boolean {
  return typeof s === "string" && !s.includes("\0") && s.length <= 1024 * 1024;
}

function show(v: unknown): string {
  if (v === undefined) return "(unset)";
  const s = typeof v === "string" ? v : JSON.stringify(v);
  return JSON.stringify((s ?? String(v)).slice(0, 80));
}

/**
 * Every rule the agent relies on before a value reaches a command line or a file.
 * Returns one message per violation ("<task id>.<field>: <value> <rule>"); empty means valid.
 */
export function validateHostTask(task: HostTask): string[] {
  const errors: string[] = [];
  const t = task as unknown as Record<string, unknown>;
  const id = typeof t.id === "string" && TASK_ID.test(t.id) ? t.id : "task";
  const bad = (field: string, value: unknown, rule: string) => errors.push(`${id}.${field}: ${show(value)} ${rule}`);
  const checkList = (field: string, value: unknown, ok: (s: string) => boolean, rule: string, min: number, max: number) => {
    if (!Array.isArray(value) || value.length < min || value.length > max) {
      bad(field, value, `must be a list of ${min} to ${max} entries`);
      return;
    }
    value.forEach((v, i) => {
      if (typeof v !== "string" || !ok(v)) bad(`${field}[${i}]`, v, rule);
    });
  };

  if (typeof t.id !== "string" || !TASK_ID.test(t.id)) bad("id", t.id, "must match ^[a-z0-9][a-z0-9._/-]*$");
  if (typeof t.description !== "string" || /[\r\n]/.test(t.description)) bad("description", t.description, "must be one line of text");
  if (!DISRUPTIONS.includes(t.disruption as Disruption)) bad("disruption", t.disruption, `must be one of ${DISRUPTIONS.join(", ")}`);

  switch (task.kind) {
    case "file":
      if (!isAllowedPath(task.path)) bad("path", task.path, `must be a plain absolute path under ${ALLOWED_PATH_ROOTS.join(" ")}`);
      if (!isContent(task.content)) bad("content", "(content)", "must be text without NUL bytes, at most 1 MiB");
      if (!isMode(task.mode)) bad("mode", task.mode, "must be an integer permission mode 0..0o7777");
      if (task.owner !== undefined && (!isIntIn(task.owner.uid, 0, 2 ** 31) || !isIntIn(task.owner.gid, 0, 2 ** 31))) {
        bad("owner", task.owner, "must be numeric uid and gid");
      }
      break;
    case "dropin":
      if (!isUnitName(task.unit)) bad("unit", task.unit, "must be a systemd unit name (e.g. containerd.service)");
      if (!DROPIN_NAME.test(task.name)) bad("name", task.name, "must be a file name ending in .conf");
      if (!isContent(task.content)) bad("content", "(content)", "must be text without NUL bytes, at most 1 MiB");
      break;
    case "unit":
      if (!isUnitName(task.name)) bad("name", task.name, "must be a systemd unit name (e.g. olaresd.service)");
      if (task.content !== undefined && !isContent(task.content)) bad("content", "(content)", "must be text without NUL bytes");
      if (typeof task.enable !== "boolean") bad("enable", task.enable, "must be a boolean");
      if (task.state !== "started" && task.state !== "stopped") bad("state", task.state, "must be started or stopped");
      if (task.restartOnChange !== undefined) checkList("restartOnChange", task.restartOnChange, (s) => TASK_ID.test(s), "must be a task id", 0, 64);
      break;
    case "packages":
      checkList("names", task.names, isPackageName, "must be a package name matching ^[a-z0-9][a-z0-9+.-]*$", 1, 256);
      if (task.manager !== undefined && task.manager !== "auto") bad("manager", task.manager, "must be auto");
      break;
    case "packagesAbsent":
      checkList("names", task.names, isPackageName, "must be a package name matching ^[a-z0-9][a-z0-9+.-]*$", 1, 64);
      break;
    case "resolvConf":
      checkList("nameservers", task.nameservers, isIP, "must be an IPv4 or IPv6 address", 1, 3);
      break;
    case "timesync":
      checkList("servers", task.servers, (s) => isIP(s) || isHostname(s), "must be a host name or IP address", 1, 16);
      break;
    case "sshd":
      if (!isPort(task.port)) bad("port", task.port, "must be an integer port 1..65535");
      if (task.passwordAuthentication !== undefined && typeof task.passwordAuthentication !== "boolean") {
        bad("passwordAuthentication", task.passwordAuthentication, "must be a boolean or unset");
      }
      if (typeof task.enabled !== "boolean") bad("enabled", task.enabled, "must be a boolean");
      break;
    case "sysctl": {
      const values = task.values;
      if (values === null || typeof values !== "object" || Array.isArray(values)) {
        bad("values", values, "must be a map of key to value");
        break;
      }
      for (const [k, v] of Object.entries(values)) {
        if (!isSysctlKey(k)) bad(`values[${k}]`, k, "key must match ^[a-z0-9_.-/]+$");
        if (typeof v !== "string" || !isSysctlValue(v)) bad(`values[${k}]`, v, "value must be letters, digits, spaces and ._:,/+=- only");
      }
      break;
    }
    case "swap":
      if (!isIntIn(task.sizeMiB, 0, 1024 * 1024)) bad("sizeMiB", task.sizeMiB, "must be an integer 0..1048576");
      if (!isIntIn(task.swappiness, 0, 200)) bad("swappiness", task.swappiness, "must be an integer 0..200");
      if (task.zram !== undefined && !isIntIn(task.zram.sizePercent, 1, 200)) bad("zram.sizePercent", task.zram.sizePercent, "must be an integer 1..200");
      if (task.sizeMiB === 0 && task.zram === undefined) bad("sizeMiB", task.sizeMiB, "must be > 0 unless zram is set");
      break;
    case "timezone":
      if (!isTimezone(task.name)) bad("name", task.name, "must be an IANA time zone name such as Europe/Berlin");
      break;
    case "containerdMirrors":
      if (!Array.isArray(task.mirrors) || task.mirrors.length > 32) {
        bad("mirrors", task.mirrors, "must be a list of at most 32 mirrors");
        break;
      }
      task.mirrors.forEach((m, i) => {
        if (typeof m?.registry !== "string" || !isRegistryName(m.registry)) bad(`mirrors[${i}].registry`, m?.registry, "must be host[:port] or _default");
        checkList(`mirrors[${i}].endpoints`, m?.endpoints, isMirrorEndpoint, "must be an https URL without credentials, query or quotes", 1, 16);
      });
      break;
    case "containerdNvidiaRuntime":
      break;
    case "binary":
      if (!isAllowedPath(task.path)) bad("path", task.path, `must be a plain absolute path under ${ALLOWED_PATH_ROOTS.join(" ")}`);
      if (typeof task.url !== "string" || !isDownloadUrl(task.url)) bad("url", task.url, "must be an https URL without credentials, query or fragment");
      if (task.sha256 === undefined) {
        if (typeof task.url === "string" && !isUnpinnedDownloadUrl(task.url)) {
          bad("sha256", task.sha256, `is required for a URL outside ${OLARESD_RELEASE_BASE}/`);
        }
      } else if (typeof task.sha256 !== "string" || !isSha256(task.sha256)) {
        bad("sha256", task.sha256, "must be 64 lowercase hex digits");
      }
      if (!isMode(task.mode)) bad("mode", task.mode, "must be an integer permission mode 0..0o7777");
      break;
    case "nvidiaDriver":
      if (typeof task.version !== "string" || !isNvidiaDriverVersion(task.version)) bad("version", task.version, "must be a driver branch or version such as 570 or 570.133.20");
      break;
    case "nvidiaToolkit":
      if (typeof task.version !== "string" || !isNvidiaToolkitVersion(task.version)) bad("version", task.version, "must be empty or a version such as 1.17.8 or 1.17.8-1");
      break;
    default:
      bad("kind", (task as { kind?: unknown }).kind, `must be one of ${HOST_TASK_KINDS.join(", ")}`);
  }
  return errors;
}

/** Validates a whole task list: per-task rules plus unique ids and restartOnChange references. */
export function validateHostTasks(tasks: readonly HostTask[]): string[] {
  const errors = tasks.flatMap((t) => validateHostTask(t));
  const ids = new Set<string>();
  for (const t of tasks) {
    if (ids.has(t.id)) errors.push(`${t.id}.id: duplicate task id`);
    ids.add(t.id);
  }
  const installedBy = new Map<string, string>();
  for (const t of tasks) if (t.kind === "packages" && Array.isArray(t.names)) for (const n of t.names) installedBy.set(n.split("=")[0]!, t.id);
  for (const t of tasks) {
    if (t.kind !== "packagesAbsent" || !Array.isArray(t.names)) continue;
    for (const n of t.names) {
      const owner = installedBy.get(n);
      if (owner) errors.push(`${t.id}.names: ${JSON.stringify(n)} must not also be installed by task ${owner}`);
    }
  }
  for (const t of tasks) {
    if (t.kind !== "unit") continue;
    for (const ref of t.restartOnChange ?? []) {
      if (!ids.has(ref)) errors.push(`${t.id}.restartOnChange: ${JSON.stringify(ref)} is not a task id of this config`);
    }
  }
  return errors;
}
