// Full validation of an OlaresInstallation as `validate` and the operator run it: identity, unknown
// fields, CRD schema + CEL (apiserver semantics), then semantic checks the schema cannot express. Every
// problem names the field and the rule it breaks.
import { hasDotSegment, isDns1123Subdomain, isHostname, isIP, urlHasDotSegment } from "../contract/index.js";
import { API_VERSION, KIND, loadSchema } from "./crd.js";
import { applyCrdDefaults } from "./defaults.js";
import { findUnknownFields, pruneUnknownFields, validateAgainstSchema, type FieldError } from "./schema-validation.js";
import type { OlaresInstallation, OlaresInstallationSpec } from "./types.generated.js";

export interface ValidationProblem {
  /** Field path, e.g. "spec.storage.juicefs.objectStore.bucket" (empty for the whole document). */
  field: string;
  /** The rule it breaks, e.g. `Required value: ... is required unless objectStore.type is ManagedMinIO`. */
  rule: string;
}

export interface ValidationResult {
  valid: boolean;
  problems: ValidationProblem[];
  /** The pruned and CRD-defaulted object (what the apiserver would store). */
  object: OlaresInstallation;
}

export interface ValidateOptions {
  /** The stored object, to check transition rules (immutable fields, no downgrades). */
  oldObject?: unknown;
  /** Report fields the CRD does not declare (the apiserver would silently drop them). Default true. */
  strict?: boolean;
}

export function formatProblem(problem: ValidationProblem): string {
  return problem.field ? `${problem.field}: ${problem.rule}` : problem.rule;
}

/** Characters with meaning to a shell, systemd or a config file; none of our host-bound values needs them. */
const HOSTILE_CHARACTERS = /[;&|`$<>(){}\\'"*?!#\s\u0000-\u001f\u007f]/;
const SYSTEM_DIRECTORIES = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys", "/tmp", "/usr", "/var/run"];
const SYSCTL_ROOTS = new Set(["abi", "crypto", "debug", "dev", "fs", "kernel", "net", "sunrpc", "user", "vm"]);
/** Sysctls whose value is a program the kernel runs: a path to code execution as root. */
const SYSCTL_EXECUTING = new Set(["kernel.core_pattern", "kernel.modprobe", "kernel.hotplug", "kernel.poweroff_cmd", "fs.binfmt_misc.register"]);
const SYSCTL_VALUE = /^[-A-Za-z0-9_.:,/+= \t]+$/;
/** Packages that bring a second container runtime; Olares installs and owns containerd. */
const CONFLICTING_PACKAGES = new Set(["containerd", "containerd.io", "docker.io", "docker-ce", "docker-ce-cli", "podman", "runc", "moby-engine", "k3s"]);
const DOCKER_HUB_ALIASES = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);
const KUBERNETES_PORTS = new Set([2379, 2380, 6443, 10250, 10257, 10259]);

/** Validates one document; never throws on bad input. */
export function validateInstallation(document: unknown, options: ValidateOptions = {}): ValidationResult {
  const schema = loadSchema();
  const problems: ValidationProblem[] = [];
  const fromErrors = (errors: FieldError[]) => errors.map((e) => ({ field: e.field, rule: e.message }));

  if (!isObject(document)) {
    return { valid: false, problems: [{ field: "", rule: "the document must be a YAML/JSON object" }], object: document as OlaresInstallation };
  }
  if (document.apiVersion !== API_VERSION) problems.push({ field: "apiVersion", rule: `Unsupported value: ${JSON.stringify(document.apiVersion ?? null)}: supported values: "${API_VERSION}"` });
  if (document.kind !== KIND) problems.push({ field: "kind", rule: `Unsupported value: ${JSON.stringify(document.kind ?? null)}: supported values: "${KIND}"` });
  const metadata = isObject(document.metadata) ? document.metadata : {};
  const name = metadata.name;
  if (typeof name !== "string" || name === "") problems.push({ field: "metadata.name", rule: "Required value: name is required" });
  else if (!isDns1123Subdomain(name)) problems.push({ field: "metadata.name", rule: `Invalid value: ${JSON.stringify(name)}: must be a lowercase RFC 1123 subdomain` });
  if (metadata.namespace !== undefined) problems.push({ field: "metadata.namespace", rule: "Forbidden: OlaresInstallation is cluster-scoped and has no namespace" });

  if (options.strict !== false) {
    for (const field of findUnknownFields(schema, document)) problems.push({ field, rule: "Forbidden: unknown field, not declared in the CRD (the apiserver would drop it)" });
  }

  const object = applyCrdDefaults(pruneUnknownFields(schema, document));
  const oldObject = options.oldObject === undefined ? undefined : applyCrdDefaults(pruneUnknownFields(schema, options.oldObject));
  const schemaErrors = validateAgainstSchema(schema, object, oldObject);
  problems.push(...fromErrors(schemaErrors).map(withHints));

  // Semantic checks trust the shape of the spec: with type errors they wait, as CEL does in the apiserver.
  const shapeIsSound = !schemaErrors.some((e) => e.type === "FieldValueTypeInvalid");
  const flagged = new Set(problems.map((p) => p.field));
  if (shapeIsSound && isObject(object.spec)) {
    for (const problem of semanticProblems(object.spec, oldObject?.spec)) {
      if (!flagged.has(problem.field)) problems.push(problem);
    }
  }
  return { valid: problems.length === 0, problems, object };
}

/** Adds a hint where a schema message alone leaves the user guessing. */
function withHints(problem: ValidationProblem): ValidationProblem {
  if (problem.field === "spec.gpu.enabled" && problem.rule.includes('"boolean"')) {
    return { ...problem, rule: `${problem.rule} (quote it in YAML: "auto", "true" or "false")` };
  }
  return problem;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Checks that need code: host-bound strings, IP literals, paths, sysctls, packages, mirrors, time zone, downgrades. */
export function semanticProblems(spec: OlaresInstallationSpec, oldSpec?: OlaresInstallationSpec): ValidationProblem[] {
  const problems: ValidationProblem[] = [];
  const add = (field: string, rule: string) => problems.push({ field, rule });

  forEachHostBoundString(spec, "spec", (field, value) => {
    if (HOSTILE_CHARACTERS.test(value)) add(field, `Invalid value: ${JSON.stringify(value)}: must not contain whitespace, quotes, shell metacharacters or control characters (the value reaches the node)`);
  });

  const urls: Array<[string, string | undefined]> = [
    ["spec.olaresd.url", spec.olaresd?.url],
    ["spec.storage.juicefs.objectStore.endpoint", spec.storage?.juicefs?.objectStore?.endpoint],
    ...(spec.registry?.mirrors ?? []).flatMap((m, i) => m.endpoints.map((e, j): [string, string] => [`spec.registry.mirrors[${i}].endpoints[${j}]`, e])),
  ];
  for (const [field, url] of urls) {
    if (url && urlHasDotSegment(url)) add(field, `Invalid value: ${JSON.stringify(url)}: must not contain . or .. path segments`);
  }

  spec.os?.dns?.nameservers?.forEach((server, i) => {
    if (!isIP(server)) add(`spec.os.dns.nameservers[${i}]`, `Invalid value: ${JSON.stringify(server)}: must be an IPv4 or IPv6 address`);
  });
  spec.os?.ntp?.servers?.forEach((server, i) => {
    if (!isIP(server) && !isHostname(server)) {
      add(`spec.os.ntp.servers[${i}]`, `Invalid value: ${JSON.stringify(server)}: must be a host name or an IP address`);
    }
  });

  const rootPath = spec.storage?.rootPath;
  if (rootPath) checkHostDirectory("spec.storage.rootPath", rootPath, add);
  const cacheDir = spec.storage?.juicefs?.cache?.dir;
  if (cacheDir) {
    checkHostDirectory("spec.storage.juicefs.cache.dir", cacheDir, add);
    if (rootPath && (cacheDir === rootPath || rootPath.startsWith(`${cacheDir}/`))) {
      add("spec.storage.juicefs.cache.dir", `Invalid value: ${JSON.stringify(cacheDir)}: must not be storage.rootPath or one of its parents`);
    }
  }

  for (const [key, value] of Object.entries(spec.os?.sysctl ?? {})) {
    const field = `spec.os.sysctl[${key}]`;
    const normalized = key.replace(/\//g, ".");
    if (!SYSCTL_ROOTS.has(normalized.split(".")[0])) add(field, `Invalid value: ${JSON.stringify(key)}: not a kernel parameter (must start with one of ${[...SYSCTL_ROOTS].join(", ")})`);
    if (SYSCTL_EXECUTING.has(normalized)) add(field, `Forbidden: ${key} makes the kernel run a program and cannot be set through the CR`);
    if (typeof value !== "string" || !SYSCTL_VALUE.test(value) || value.includes("..")) add(field, `Invalid value: ${JSON.stringify(value)}: sysctl values are numbers or words separated by spaces (letters, digits, - _ . : , / + =)`);
  }

  spec.os?.packages?.forEach((pkg, i) => {
    if (CONFLICTING_PACKAGES.has(pkg)) add(`spec.os.packages[${i}]`, `Forbidden: ${pkg} conflicts with the containerd that Olares installs and manages`);
  });

  const port = spec.os?.ssh?.port;
  if (port !== undefined && KUBERNETES_PORTS.has(port)) add("spec.os.ssh.port", `Invalid value: ${port}: the port is used by Kubernetes (2379, 2380, 6443, 10250, 10257, 10259)`);

  const seenRegistries = new Map<string, number>();
  spec.registry?.mirrors?.forEach((mirror, i) => {
    const registry = mirror.registry ?? "docker.io";
    const canonical = DOCKER_HUB_ALIASES.has(registry) ? "docker.io" : registry;
    const earlier = seenRegistries.get(canonical);
    if (earlier !== undefined && earlier !== i) add(`spec.registry.mirrors[${i}].registry`, `Duplicate value: ${JSON.stringify(registry)}: the same registry as spec.registry.mirrors[${earlier}]`);
    else seenRegistries.set(canonical, i);
    const seenEndpoints = new Map<string, number>();
    mirror.endpoints.forEach((endpoint, j) => {
      const normalized = normalizeUrl(endpoint);
      const first = seenEndpoints.get(normalized);
      if (first !== undefined) add(`spec.registry.mirrors[${i}].endpoints[${j}]`, `Duplicate value: ${JSON.stringify(endpoint)}: the same mirror as endpoints[${first}]`);
      else seenEndpoints.set(normalized, j);
    });
  });

  const timezone = spec.os?.timezone;
  if (timezone && !isKnownTimeZone(timezone)) add("spec.os.timezone", `Invalid value: ${JSON.stringify(timezone)}: not an IANA time zone name`);

  if (oldSpec?.version && spec.version && compareSemver(spec.version, oldSpec.version) < 0) {
    add("spec.version", `Forbidden: downgrade from ${oldSpec.version} to ${spec.version} is not supported`);
  }
  return problems;
}

function checkHostDirectory(field: string, path: string, add: (field: string, rule: string) => void): void {
  const system = SYSTEM_DIRECTORIES.find((dir) => path === dir || path.startsWith(`${dir}/`));
  if (system) add(field, `Invalid value: ${JSON.stringify(path)}: must not be inside the system directory ${system}`);
  if (hasDotSegment(path)) add(field, `Invalid value: ${JSON.stringify(path)}: must not contain . or .. segments`);
}

/** Calls `visit` for every string in the spec that ends up on a node (coreServices values stay in-cluster). */
function forEachHostBoundString(value: unknown, path: string, visit: (field: string, value: string) => void): void {
  if (typeof value === "string") {
    visit(path, value);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => forEachHostBoundString(item, `${path}[${i}]`, visit));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (path === "spec" && key === "coreServices") continue;
    // sysctl values may hold spaces and tabs ("4096 87380 6291456"); they have their own rule.
    if (path === "spec.os" && key === "sysctl") continue;
    const childPath = path === "spec.nodes.selector" ? `${path}[${key}]` : `${path}.${key}`;
    forEachHostBoundString(child, childPath, visit);
  }
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

/** Semver precedence (major.minor.patch, then a release sorts after its pre-releases). */
export function compareSemver(a: string, b: string): number {
  const parse = (v: string) => {
    const [core, pre] = v.split("+")[0].split(/-(.*)/s);
    return { nums: core.split(".").map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) {
    if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (x.nums[i] ?? 0) - (y.nums[i] ?? 0);
  }
  if (x.pre === y.pre) return 0;
  if (x.pre === undefined) return 1;
  if (y.pre === undefined) return -1;
  return x.pre.localeCompare(y.pre, "en", { numeric: true });
}


