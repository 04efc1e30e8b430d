// SystemEnv (sys.bytetrade.io/v1alpha1, cluster-scoped; fields inline, no spec) and the release's
// system-env.yaml / user-env.yaml shapes (beclab/api config/crds/sys.bytetrade.io_systemenvs.yaml@36519b6c,
// build/system-env.yaml@c7ee112d, build/user-env.yaml@6bebfa85). Pure, dependency-free.

export const SYSTEM_ENV_API_VERSION = "sys.bytetrade.io/v1alpha1";
export const SYSTEM_ENV_KIND = "SystemEnv";
/** ConfigMap os-framework/user-env, key user-env.yaml (CreateUserEnvConfigMap, ossystem.go@56aaf78b). */
export const USER_ENV_CONFIGMAP = { namespace: "os-framework", name: "user-env", key: "user-env.yaml" } as const;

export interface EnvOption {
  title: string;
  value: string;
}

export interface EnvVarSpec {
  envName: string;
  value?: string;
  default?: string;
  editable?: boolean;
  type?: string;
  required?: boolean;
  title?: string;
  description?: string;
  options?: EnvOption[];
  remoteOptions?: string;
  regex?: string;
  multiSelect?: boolean;
  splitter?: string;
}

export interface SystemEnvFile {
  apiVersion: string;
  systemEnvs: EnvVarSpec[];
}

export interface UserEnvFile {
  apiVersion: string;
  userEnvs: EnvVarSpec[];
}

const ENV_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** EnvNameToResourceName: OLARES_SYSTEM_CDN_SERVICE → olares-system-cdn-service. */
export function envNameToResourceName(envName: string): string {
  if (!ENV_NAME.test(envName)) throw new Error(`system env name ${JSON.stringify(envName)} must match ${ENV_NAME.source}`);
  return envName.toLowerCase().replace(/_/g, "-");
}

/** The effective value: value, or default when value is empty. */
export function effectiveValue(env: EnvVarSpec): string | undefined {
  return env.value !== undefined && env.value !== "" ? env.value : env.default;
}

/** Checks a value against the entry's regex and options, as EnvVarSpec.ValidateValue does for the installer. */
export function validateEnvValue(env: EnvVarSpec, value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  if (env.regex && !new RegExp(env.regex).test(value)) return `${env.envName}: ${JSON.stringify(value)} does not match ${env.regex}`;
  if (env.options && env.options.length > 0) {
    const allowed = env.options.map((o) => o.value);
    const values = env.multiSelect ? value.split(env.splitter ?? ",") : [value];
    const bad = values.find((v) => !allowed.includes(v));
    if (bad !== undefined) return `${env.envName}: ${JSON.stringify(bad)} is not one of ${allowed.join(", ")}`;
  }
  if (env.type === "url" && !/^https?:\/\//.test(value)) return `${env.envName}: ${JSON.stringify(value)} is not an http(s) URL`;
  return undefined;
}

/**
 * The SystemEnv object ApplySystemEnv creates for one entry (only when none exists: create-only).
 * `overrides` plays the installer's process environment: a value there replaces `default`.
 */
export function systemEnvObject(env: EnvVarSpec, overrides: Readonly<Record<string, string>> = {}): {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
} & EnvVarSpec {
  const override = overrides[env.envName];
  const entry: EnvVarSpec = override !== undefined && override !== "" ? { ...env, default: override } : { ...env };
  for (const v of [entry.value, entry.default]) {
    const problem = validateEnvValue(entry, v);
    if (problem) throw new Error(problem);
  }
  return { apiVersion: SYSTEM_ENV_API_VERSION, kind: SYSTEM_ENV_KIND, metadata: { name: envNameToResourceName(env.envName) }, ...entry };
}

/** [1.12-era] upgrade rule for user-env: entries missing from the live file are appended; existing ones kept. */
export function mergeUserEnvs(live: UserEnvFile | undefined, release: UserEnvFile): { file: UserEnvFile; added: string[] } {
  if (!live) return { file: release, added: release.userEnvs.map((e) => e.envName) };
  const have = new Set(live.userEnvs.map((e) => e.envName));
  const missing = release.userEnvs.filter((e) => !have.has(e.envName));
  return { file: { ...live, userEnvs: [...live.userEnvs, ...missing] }, added: missing.map((e) => e.envName) };
}
