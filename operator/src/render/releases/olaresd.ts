// olaresd as olares-cli installs it (cli/pkg/daemon/task.go@93b117a4): the binary from the release
// manifest's `olaresd` component, unit /etc/systemd/system/olaresd.service and its env file
// /etc/systemd/system/olaresd.service.env with the installer's keys. Its API listens on 18088
// (daemon/cmd/terminusd/main.go@00294a5a).
import type { DefaultedSpec } from "../../api/index.js";
import { findItem, type ManifestItem } from "../../contract/release/manifest.js";

export const OLARESD_UNIT_PATH = "/etc/systemd/system/olaresd.service";
export const OLARESD_ENV_PATH = "/etc/systemd/system/olaresd.service.env";
export const OLARESD_BINARY_PATH = "/usr/local/bin/olaresd";
export const OLARESD_API_PORT = 18088;

export const OLARESD_UNIT = `[Unit]
Description=olaresd
After=network.target
StartLimitIntervalSec=0

[Service]
User=root
EnvironmentFile=${OLARESD_ENV_PATH}
ExecStart=${OLARESD_BINARY_PATH}
RestartSec=10s
LimitNOFILE=40000
Restart=always

[Install]
WantedBy=multi-user.target
`;

export interface OlaresdEnvInput {
  spec: DefaultedSpec;
  /** The installer's base dir (OLARES_BASE_DIR); the operator's host cache of the release. */
  baseDir: string;
  /** Whether this node runs GPU workloads (LOCAL_GPU_ENABLE). */
  gpu: boolean;
}

/** The env file's keys, in the installer's order. */
export function olaresdEnvFile({ spec, baseDir, gpu }: OlaresdEnvInput): string {
  // The installer's REGISTRY_MIRRORS are Docker Hub mirrors.
  const mirrors = (spec.registry?.mirrors ?? []).filter((m) => m.registry === "docker.io").flatMap((m) => m.endpoints).join(",");
  return [
    `INSTALLED_VERSION=${spec.version}`,
    `KUBE_TYPE=${spec.kubernetes.distribution}`,
    `REGISTRY_MIRRORS=${mirrors}`,
    `BASE_DIR=${baseDir}`,
    `LOCAL_GPU_ENABLE=${gpu ? 1 : 0}`,
  ].join("\n") + "\n";
}

/** olaresd's archive from the manifest; `spec.olaresd.url`/`sha256` still override it. */
export function olaresdComponent(manifest: readonly ManifestItem[]): ManifestItem | undefined {
  return findItem(manifest, "olaresd");
}
