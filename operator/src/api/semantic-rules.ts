// Every semantic rule the spec must satisfy beyond its types, in one table: validate, plan and the
// controller run these checks, and each rule names its twin in the CRD (an x-kubernetes-validations rule
// the API server enforces at admission) or says why it has none. test/api/semantic-rules.test.ts checks
// both sides agree on every rule's cases, so a rule cannot be added to one side only.
import { hasDotSegment, isHostname, isIP, isIPv4, urlHasDotSegment } from "../contract/index.js";
import type { OlaresInstallationSpec } from "./types.generated.js";

export interface ValidationProblem {
  /** Field path, e.g. "spec.storage.juicefs.objectStore.bucket" (empty for the whole document). */
  field: string;
  /** The rule it breaks, e.g. `Required value: ... is required unless objectStore.type is ManagedMinIO`. */
  rule: string;
}

/** A CEL rule in crds/olares.com_olaresinstallations.yaml: the schema node it sits on and its message. */
export interface CelTwin {
  path: string;
  message: string;
}

export interface SemanticRule {
  id: string;
  /** What it protects, for the table in docs/validation.md. */
  description: string;
  /** The admission twins, or why the API server cannot check it. */
  cel: CelTwin[] | { none: string };
  /** Reports each violation through `add` (field, rule). `oldSpec` is the stored spec, when known. */
  check(spec: OlaresInstallationSpec, add: (field: string, rule: string) => void, oldSpec?: OlaresInstallationSpec): void;
}

/** Characters with meaning to a shell, systemd or a config file; none of our host-bound values needs them. */
const HOSTILE_CHARACTERS = /[;&|`$<>(){}\\'"*?!#\s\u0000-\u001f\u007f]/;
export const SYSTEM_DIRECTORIES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var/run"];
export const SYSCTL_ROOTS = ["abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm"];
/** Sysctls whose value is a program the kernel runs: a path to code execution as root. */
export const SYSCTL_EXECUTING = ["kernel.core_pattern", "kernel.modprobe", "kernel.hotplug", "kernel.poweroff_cmd", "fs.binfmt_misc.register"];
const SYSCTL_VALUE = /^[-A-Za-z0-9_.:,/+= \t]+$/;
/** Packages that bring a second container runtime; Olares installs and owns containerd. */
export const CONFLICTING_PACKAGES = ["containerd", "containerd.io", "docker.io", "docker-ce", "docker-ce-cli", "podman", "runc", "moby-engine", "k3s"];
export const DOCKER_HUB_ALIASES = ["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"];
export const KUBERNETES_PORTS = [2379, 2380, 6443, 10250, 10257, 10259];

const q = JSON.stringify;
const sysctlField = (key: string) => `spec.os.sysctl[${q(key)}]`;

function checkHostDirectory(field: string, path: string, add: (field: string, rule: string) => void): void {
  const system = SYSTEM_DIRECTORIES.find((dir) => path === dir || path.startsWith(`${dir}/`));
  if (system) add(field, `Invalid value: ${q(path)}: must not be inside the system directory ${system}`);
  if (hasDotSegment(path)) add(field, `Invalid value: ${q(path)}: must not contain . or .. segments`);
}

/** Calls `visit` for every string in the spec that ends up on a node (coreServices values stay in-cluster). */
export function forEachHostBoundString(value: unknown, path: string, visit: (field: string, value: string) => void): void {
  if (typeof value === "string") {
    visit(path, value);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => forEachHostBoundString(item, `${path}[${i}]`, visit));
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [key, child] of Object.entries(value)) {
    if (path === "spec" && key === "coreServices") continue;
    // sysctl values may hold spaces and tabs ("4096 87380 6291456"); they have their own rule.
    if (path === "spec.os" && key === "sysctl") continue;
    const childPath = path === "spec.nodes.selector" ? `${path}[${key}]` : `${path}.${key}`;
    forEachHostBoundString(child, childPath, visit);
  }
}

function urlsOf(spec: OlaresInstallationSpec): Array<[string, string | undefined]> {
  return [
    ["spec.olaresd.url", spec.olaresd?.url],
    ["spec.storage.juicefs.objectStore.endpoint", spec.storage?.juicefs?.objectStore?.endpoint],
    ...(spec.registry?.mirrors ?? []).flatMap((m, i) => (m.endpoints ?? []).map((e, j): [string, string] => [`spec.registry.mirrors[${i}].endpoints[${j}]`, e])),
  ];
}

function normalizeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host.toLowerCase()}${parsed.pathname.replace(/\/+$/, "")}`;
  } catch {
    return url;
  }
}

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** major.minor.patch as numbers, and whether there is a pre-release. */
function semverParts(v: string): { core: number[]; pre: boolean } {
  const noBuild = v.split("+")[0]!;
  return { core: noBuild.split("-")[0]!.split(".").map(Number), pre: noBuild.includes("-") };
}

/**
 * Moving from `from` to `to` goes back: a lower major.minor.patch, or the same one as a pre-release after
 * the release. Two pre-releases of one version may follow each other in any order (as in the CRD's rule).
 */
export function isDowngrade(from: string, to: string): boolean {
  const a = semverParts(from);
  const b = semverParts(to);
  for (let i = 0; i < 3; i++) {
    if ((b.core[i] ?? 0) !== (a.core[i] ?? 0)) return (b.core[i] ?? 0) < (a.core[i] ?? 0);
  }
  return b.pre && !a.pre;
}

/** The fields of a JuiceFS volume's backend that cannot change under it (see the juicefs-backend-fixed rule). */
export const JUICEFS_OBJECT_STORE_FIXED = ["type", "endpoint", "bucket", "region"] as const;
const BACKEND_CHANGE_HINT = "switch storage.type to LocalFS, wait for Ready, then change it and switch back (docs/storage.md)";

/**
 * S3's bucket naming rules beyond the schema's pattern (3-63 of a-z 0-9 . -, alphanumeric at both ends);
 * OSS and COS allow no dots. Returns what is wrong, or undefined.
 */
export function bucketNameProblem(bucket: string, storeType: string | undefined): string | undefined {
  if (storeType === "OSS" || storeType === "COS") {
    if (bucket.includes(".")) return `${storeType} bucket names have no dots (letters, digits and hyphens only)`;
  }
  if (bucket.includes("..")) return "must not contain two adjacent dots";
  if (/\.-|-\./.test(bucket)) return "must not have a dot next to a hyphen";
  if (isIPv4(bucket)) return "must not be formatted as an IP address";
  if (bucket.startsWith("xn--") || bucket.startsWith("sthree-")) return "must not start with xn-- or sthree- (reserved)";
  if (/-s3alias$|--ol-s3$|\.mrap$|--x-s3$/.test(bucket)) return "must not end with -s3alias, --ol-s3, .mrap or --x-s3 (reserved)";
  return undefined;
}

/** An object-store endpoint as JuiceFS dials it: http(s), a host, a port 1-65535, no credentials, query or fragment. */
export function endpointProblem(endpoint: string): string | undefined {
  const port = /^[a-z]+:\/\/[^/:@]+:(\d+)/i.exec(endpoint)?.[1];
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return `port ${port} is outside 1-65535`;
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "must be an http or https URL";
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return "must be an http or https URL";
  if (url.username || url.password) return "must not carry credentials (they go in credentialsSecretRef)";
  if (url.search || url.hash) return "must not have a query or fragment";
  return undefined;
}

/** Kubernetes refuses "." and ".." as Secret data keys; the schema's pattern lets them through. */
const SECRET_KEY_FIELDS = [
  ["objectStore", "credentialsSecretRef", "accessKeyIdKey"],
  ["objectStore", "credentialsSecretRef", "secretAccessKeyKey"],
  ["objectStore", "credentialsSecretRef", "sessionTokenKey"],
  ["metadata", "urlSecretRef", "key"],
] as const;

export const SEMANTIC_RULES: readonly SemanticRule[] = [
  {
    id: "host-bound-characters",
    description: "Strings that reach a node carry no whitespace, quotes, shell metacharacters or control characters",
    cel: { none: "enforced by each host-bound string field's pattern (test/api/semantic-rules.test.ts checks every field); one CEL rule per field would only repeat them" },
    check(spec, add) {
      forEachHostBoundString(spec, "spec", (field, value) => {
        if (HOSTILE_CHARACTERS.test(value)) add(field, `Invalid value: ${q(value)}: must not contain whitespace, quotes, shell metacharacters or control characters (the value reaches the node)`);
      });
    },
  },
  {
    id: "url-dot-segments",
    description: "Download and mirror URLs have no . or .. path segments (also percent-encoded)",
    cel: [
      { path: "spec.olaresd.url", message: "olaresd.url must not contain . or .. path segments" },
      { path: "spec.storage.juicefs.objectStore.endpoint", message: "storage.juicefs.objectStore.endpoint must not contain . or .. path segments" },
      { path: "spec.registry.mirrors[].endpoints[]", message: "registry mirror endpoints must not contain . or .. path segments" },
    ],
    check(spec, add) {
      for (const [field, url] of urlsOf(spec)) {
        if (url && urlHasDotSegment(url)) add(field, `Invalid value: ${q(url)}: must not contain . or .. path segments`);
      }
    },
  },
  {
    id: "nameserver-ip",
    description: "Name servers are IPv4 or IPv6 addresses",
    cel: { none: "the field's pattern checks the shape; the full IPv6 grammar needs the CEL ip() library, which not every supported apiserver (1.30) has" },
    check(spec, add) {
      spec.os?.dns?.nameservers?.forEach((server, i) => {
        if (!isIP(server)) add(`spec.os.dns.nameservers[${i}]`, `Invalid value: ${q(server)}: must be an IPv4 or IPv6 address`);
      });
    },
  },
  {
    id: "ntp-server",
    description: "NTP servers are host names or IP addresses (not a broken dotted quad)",
    cel: [{ path: "spec.os.ntp.servers[]", message: "os.ntp.servers entries must be host names or IP addresses" }],
    check(spec, add) {
      spec.os?.ntp?.servers?.forEach((server, i) => {
        if (!isIP(server) && !isHostname(server)) add(`spec.os.ntp.servers[${i}]`, `Invalid value: ${q(server)}: must be a host name or an IP address`);
      });
    },
  },
  {
    id: "host-directories",
    description: "storage.rootPath and the JuiceFS cache are not inside a system directory",
    cel: [
      { path: "spec.storage.rootPath", message: "storage.rootPath must not be inside a system directory (/bin /boot /dev /etc /lib /lib32 /lib64 /proc /run /sbin /sys /tmp /usr /var/run)" },
      { path: "spec.storage.juicefs.cache.dir", message: "storage.juicefs.cache.dir must not be inside a system directory (/bin /boot /dev /etc /lib /lib32 /lib64 /proc /run /sbin /sys /tmp /usr /var/run)" },
    ],
    check(spec, add) {
      const rootPath = spec.storage?.rootPath;
      if (rootPath) checkHostDirectory("spec.storage.rootPath", rootPath, add);
      const cacheDir = spec.storage?.juicefs?.cache?.dir;
      if (cacheDir) checkHostDirectory("spec.storage.juicefs.cache.dir", cacheDir, add);
    },
  },
  {
    id: "cache-outside-root",
    description: "The JuiceFS cache directory is neither storage.rootPath nor one of its parents",
    cel: [{ path: "spec.storage", message: "storage.juicefs.cache.dir must not be storage.rootPath or one of its parents" }],
    check(spec, add) {
      const rootPath = spec.storage?.rootPath;
      const cacheDir = spec.storage?.juicefs?.cache?.dir;
      if (rootPath && cacheDir && (cacheDir === rootPath || rootPath.startsWith(`${cacheDir}/`))) {
        add("spec.storage.juicefs.cache.dir", `Invalid value: ${q(cacheDir)}: must not be storage.rootPath or one of its parents`);
      }
    },
  },
  {
    id: "sysctl-kernel-parameter",
    description: "os.sysctl keys are kernel parameters (under /proc/sys)",
    cel: [{ path: "spec.os.sysctl", message: `os.sysctl keys must start with one of ${SYSCTL_ROOTS.join(", ")} (kernel parameters under /proc/sys)` }],
    check(spec, add) {
      for (const key of Object.keys(spec.os?.sysctl ?? {})) {
        if (!SYSCTL_ROOTS.includes(key.replace(/\//g, ".").split(".")[0]!)) {
          add(sysctlField(key), `Invalid value: ${q(key)}: not a kernel parameter (must start with one of ${SYSCTL_ROOTS.join(", ")})`);
        }
      }
    },
  },
  {
    id: "sysctl-executing",
    description: "No sysctl that makes the kernel run a program (core_pattern, modprobe, hotplug, poweroff_cmd, binfmt_misc)",
    cel: [{ path: "spec.os.sysctl", message: `os.sysctl must not set ${SYSCTL_EXECUTING.join(", ")} (they make the kernel run a program)` }],
    check(spec, add) {
      for (const key of Object.keys(spec.os?.sysctl ?? {})) {
        if (SYSCTL_EXECUTING.includes(key.replace(/\//g, "."))) add(sysctlField(key), `Forbidden: ${key} makes the kernel run a program and cannot be set through the CR`);
      }
    },
  },
  {
    id: "sysctl-value",
    description: "sysctl values are numbers or words separated by spaces",
    cel: [{ path: "spec.os.sysctl", message: "os.sysctl values must be numbers or words separated by spaces (letters, digits, - _ . : , / + =)" }],
    check(spec, add) {
      for (const [key, value] of Object.entries(spec.os?.sysctl ?? {})) {
        if (typeof value !== "string" || !SYSCTL_VALUE.test(value) || value.includes("..")) {
          add(sysctlField(key), `Invalid value: ${q(value)}: sysctl values are numbers or words separated by spaces (letters, digits, - _ . : , / + =)`);
        }
      }
    },
  },
  {
    id: "conflicting-packages",
    description: "No package that brings a second container runtime",
    cel: [{ path: "spec.os.packages", message: `os.packages must not install a second container runtime (${CONFLICTING_PACKAGES.join(", ")})` }],
    check(spec, add) {
      spec.os?.packages?.forEach((pkg, i) => {
        if (CONFLICTING_PACKAGES.includes(pkg)) add(`spec.os.packages[${i}]`, `Forbidden: ${pkg} conflicts with the containerd that Olares installs and manages`);
      });
    },
  },
  {
    id: "ssh-kubernetes-port",
    description: "sshd does not listen on a Kubernetes port",
    cel: [{ path: "spec.os.ssh", message: `os.ssh.port must not be a port Kubernetes uses (${KUBERNETES_PORTS.join(", ")})` }],
    check(spec, add) {
      const port = spec.os?.ssh?.port;
      if (port !== undefined && KUBERNETES_PORTS.includes(port)) add("spec.os.ssh.port", `Invalid value: ${port}: the port is used by Kubernetes (${KUBERNETES_PORTS.join(", ")})`);
    },
  },
  {
    id: "registry-once",
    description: "Each upstream registry has one mirror entry (Docker Hub's aliases are one registry)",
    cel: [{ path: "spec.registry.mirrors", message: `registry.mirrors must list each registry once (${DOCKER_HUB_ALIASES.join(", ")} are one registry)` }],
    check(spec, add) {
      const seen = new Map<string, number>();
      spec.registry?.mirrors?.forEach((mirror, i) => {
        const registry = mirror.registry ?? "docker.io";
        const canonical = DOCKER_HUB_ALIASES.includes(registry) ? "docker.io" : registry;
        const earlier = seen.get(canonical);
        if (earlier !== undefined) add(`spec.registry.mirrors[${i}].registry`, `Duplicate value: ${q(registry)}: the same registry as spec.registry.mirrors[${earlier}]`);
        else seen.set(canonical, i);
      });
    },
  },
  {
    id: "mirror-once",
    description: "A mirror endpoint is listed once per registry (compared as URLs: host case and trailing slashes ignored)",
    cel: { none: "URL normalisation needs the CEL url() library, which the offline validator does not have; exact duplicates are refused by the list type (set)" },
    check(spec, add) {
      spec.registry?.mirrors?.forEach((mirror, i) => {
        const seen = new Map<string, number>();
        (mirror.endpoints ?? []).forEach((endpoint, j) => {
          const normalized = normalizeUrl(endpoint);
          const first = seen.get(normalized);
          if (first !== undefined) add(`spec.registry.mirrors[${i}].endpoints[${j}]`, `Duplicate value: ${q(endpoint)}: the same mirror as endpoints[${first}]`);
          else seen.set(normalized, j);
        });
      });
    },
  },
  {
    id: "known-time-zone",
    description: "os.timezone names a zone of the IANA database",
    cel: { none: "needs the IANA time zone database; the field's pattern checks the shape" },
    check(spec, add) {
      const timezone = spec.os?.timezone;
      if (timezone && !isKnownTimeZone(timezone)) add("spec.os.timezone", `Invalid value: ${q(timezone)}: not an IANA time zone name`);
    },
  },
  {
    id: "juicefs-bucket-name",
    description: "Bucket names follow the object store's naming rules (no .., no dot next to a hyphen, not an IP address, no reserved prefix or suffix; no dots on OSS and COS)",
    cel: { none: "the field's pattern checks length and characters; the rest depends on objectStore.type and is worded per case here" },
    check(spec, add) {
      const store = spec.storage?.juicefs?.objectStore;
      if (!store?.bucket) return;
      const why = bucketNameProblem(store.bucket, store.type);
      if (why) add("spec.storage.juicefs.objectStore.bucket", `Invalid value: ${q(store.bucket)}: ${why}`);
    },
  },
  {
    id: "juicefs-endpoint-url",
    description: "The object-store endpoint is an http(s) URL with a port in 1-65535 and no credentials, query or fragment",
    cel: { none: "the field's pattern checks the shape; the port range and the URL parse need the CEL url() library, which the offline validator does not have" },
    check(spec, add) {
      const endpoint = spec.storage?.juicefs?.objectStore?.endpoint;
      if (!endpoint) return;
      const why = endpointProblem(endpoint);
      if (why) add("spec.storage.juicefs.objectStore.endpoint", `Invalid value: ${q(endpoint)}: ${why}`);
    },
  },
  {
    id: "secret-key-names",
    description: "Secret data keys named by a reference are valid keys (not . or ..)",
    cel: { none: "the field's pattern checks the characters; . and .. are the only valid-looking keys Kubernetes refuses" },
    check(spec, add) {
      const jfs = spec.storage?.juicefs as Record<string, Record<string, Record<string, unknown> | undefined> | undefined> | undefined;
      for (const [parent, ref, key] of SECRET_KEY_FIELDS) {
        const value = jfs?.[parent]?.[ref]?.[key];
        if (value === "." || value === "..") add(`spec.storage.juicefs.${parent}.${ref}.${key}`, `Invalid value: ${q(value)}: a Secret data key must not be . or ..`);
      }
    },
  },
  {
    id: "juicefs-backend-fixed",
    description: "While on JuiceFS, the volume's object store (type, endpoint, bucket, region), metadata engine (type, urlSecretRef) and name do not change: the data lives there. Credentials may rotate.",
    cel: [
      { path: "spec.storage", message: `storage.juicefs.objectStore (type, endpoint, bucket, region) cannot change while storage.type is JuiceFS: the volume's data lives there; ${BACKEND_CHANGE_HINT}` },
      { path: "spec.storage", message: `storage.juicefs.metadata (type, urlSecretRef) cannot change while storage.type is JuiceFS: the volume's metadata lives there; ${BACKEND_CHANGE_HINT}` },
      { path: "spec.storage", message: "storage.juicefs.name cannot change while storage.type is JuiceFS (it names the formatted volume); switch storage.type to LocalFS first" },
    ],
    check(spec, add, oldSpec) {
      const before = oldSpec?.storage;
      if (before?.type !== "JuiceFS" || !before.juicefs) return;
      const after = spec.storage?.juicefs;
      const onWay = spec.storage?.type === "JuiceFS" ? "while storage.type is JuiceFS" : "in the same edit that switches storage.type away from JuiceFS (the switch reads the data from it)";
      if (!after) {
        add("spec.storage.juicefs", `Forbidden: storage.juicefs cannot be removed ${onWay}; keep it until the switch to LocalFS is done`);
        return;
      }
      for (const field of JUICEFS_OBJECT_STORE_FIXED) {
        const was = before.juicefs.objectStore?.[field];
        const now = after.objectStore?.[field];
        if (was !== now) add(`spec.storage.juicefs.objectStore.${field}`, `Forbidden: changed from ${q(was ?? null)} to ${q(now ?? null)} ${onWay}: the volume's data lives in that object store; ${BACKEND_CHANGE_HINT}`);
      }
      const metaWas = before.juicefs.metadata;
      const metaNow = after.metadata;
      if (metaWas?.type !== metaNow?.type) add("spec.storage.juicefs.metadata.type", `Forbidden: changed from ${q(metaWas?.type ?? null)} to ${q(metaNow?.type ?? null)} ${onWay}: the volume's metadata lives in that engine; ${BACKEND_CHANGE_HINT}`);
      else if (canonical(metaWas?.urlSecretRef) !== canonical(metaNow?.urlSecretRef)) add("spec.storage.juicefs.metadata.urlSecretRef", `Forbidden: changed from ${canonical(metaWas?.urlSecretRef)} to ${canonical(metaNow?.urlSecretRef)} ${onWay}: the volume's metadata lives in that engine; ${BACKEND_CHANGE_HINT}`);
      if (before.juicefs.name !== after.name) add("spec.storage.juicefs.name", `Forbidden: changed from ${q(before.juicefs.name ?? null)} to ${q(after.name ?? null)} ${onWay}: it names the formatted volume; switch storage.type to LocalFS first`);
    },
  },
  {
    id: "no-downgrade",
    description: "spec.version never goes back to an older release",
    cel: [{ path: "", message: "spec.version must not go back to an older release than the one rolled out (downgrades are not supported)" }],
    check(spec, add, oldSpec) {
      if (oldSpec?.version && spec.version && isDowngrade(oldSpec.version, spec.version)) {
        add("spec.version", `Forbidden: downgrade from ${oldSpec.version} to ${spec.version} is not supported`);
      }
    },
  },
];

/** Key order does not matter when comparing references. */
function canonical(value: unknown): string {
  if (value === undefined) return "null";
  return JSON.stringify(value, Object.keys(value as object).sort());
}

/** Every semantic problem of a spec (shape assumed sound: run after the schema checks). */
export function semanticProblems(spec: OlaresInstallationSpec, oldSpec?: OlaresInstallationSpec): ValidationProblem[] {
  return semanticProblemsByRule(spec, oldSpec).map(({ problem }) => problem);
}

/** Like semanticProblems, with the rule each problem comes from. */
export function semanticProblemsByRule(spec: OlaresInstallationSpec, oldSpec?: OlaresInstallationSpec): Array<{ rule: SemanticRule; problem: ValidationProblem }> {
  const out: Array<{ rule: SemanticRule; problem: ValidationProblem }> = [];
  for (const rule of SEMANTIC_RULES) rule.check(spec, (field, text) => out.push({ rule, problem: { field, rule: text } }), oldSpec);
  return out;
}
