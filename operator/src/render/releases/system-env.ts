// SystemEnv objects (create-only) and the user-env ConfigMap from the release's own files
// (ApplySystemEnv and CreateUserEnvConfigMap, cli/pkg/terminus/ossystem.go@56aaf78b).
import { stringify } from "yaml";
import type { DefaultedSpec } from "../../api/index.js";
import type { KubeObject } from "../../contract/objects.js";
import { DEFAULT_CDN } from "../../contract/release/layout.js";
import { USER_ENV_CONFIGMAP, systemEnvObject, type SystemEnvFile, type UserEnvFile } from "../../contract/release/system-env.js";
import { fsTypeOf, rootPathOf } from "./values.js";

/**
 * What the installer's process environment overrides in system-env.yaml defaults: the CDN it was told
 * to use (OLARES_SYSTEM_CDN_SERVICE), the root path, the rootfs type (jfs after enable-juicefs) and the
 * CUDA version the GPU step found.
 */
export function systemEnvOverrides(spec: DefaultedSpec, facts: { cdn?: string; cudaVersion?: string } = {}): Record<string, string> {
  return {
    OLARES_SYSTEM_CDN_SERVICE: facts.cdn ?? DEFAULT_CDN,
    OLARES_SYSTEM_ROOT_PATH: rootPathOf(spec),
    OLARES_SYSTEM_ROOTFS_TYPE: fsTypeOf(spec),
    ...(facts.cudaVersion ? { OLARES_SYSTEM_CUDA_VERSION: facts.cudaVersion } : {}),
  };
}

/** One SystemEnv per entry; the controller creates each only when absent (never updates one). */
export function systemEnvObjects(file: SystemEnvFile, overrides: Readonly<Record<string, string>>): KubeObject[] {
  return file.systemEnvs.map((e) => systemEnvObject(e, overrides) as unknown as KubeObject);
}

/** ConfigMap os-framework/user-env holding the whole user-env.yaml. */
export function userEnvConfigMap(file: UserEnvFile): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: USER_ENV_CONFIGMAP.name, namespace: USER_ENV_CONFIGMAP.namespace },
    data: { [USER_ENV_CONFIGMAP.key]: stringify(file) },
  };
}
