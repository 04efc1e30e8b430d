// spec → the host tasks every selected node gets (OS layer, containerd mirrors, olaresd). Pure.
import type { DefaultedSpec } from "../../api/index.js";
import type { HostTask } from "../../contract/index.js";
import { olaresdTasks, releaseImageTasks } from "../stages/olaresd.js";
import { sortedEntries } from "../../contract/index.js";
import type { RenderContext } from "../context.js";

/** What olares-cli's prepare phase installs on every host (Debian names). */
export const BASE_PACKAGES = [
  "curl",
  "ca-certificates",
  "conntrack",
  "socat",
  "iptables",
  "ipset",
  "net-tools",
  "make",
  "gcc",
  "openssh-server",
  "systemd-timesyncd",
  "pciutils",
  "cifs-utils",
  "unzip",
  "tzdata",
] as const;

/**
 * What olares-cli removes from every host: unattended-upgrades upgrades packages behind our back,
 * the pinned NVIDIA driver included. A package the admin lists in spec.os.packages stays.
 */
export const REMOVED_PACKAGES = ["unattended-upgrades"] as const;

/** Kernel settings Kubernetes and Olares' apps need; spec.os.sysctl overrides any of them. */
export const BASE_SYSCTL: Readonly<Record<string, string>> = {
  "net.ipv4.ip_forward": "1",
  "vm.max_map_count": "262144",
  "fs.inotify.max_user_instances": "1024",
  "fs.inotify.max_user_watches": "524288",
};

export { OLARESD_DEFAULT_URL_PATTERN, OLARESD_TASK_IDS, OLARES_RELEASE_FILE } from "../stages/olaresd.js";

export const TASK_IDS = {
  packages: "packages/base",
  packagesAbsent: "packages/absent",
  dns: "dns/resolv-conf",
  ntp: "ntp/timesync",
  ssh: "ssh/sshd",
  sysctl: "sysctl/olares",
  swap: "swap/olares",
  timezone: "time/timezone",
  mirrors: "containerd/mirrors",
} as const;


function packageTasks(spec: DefaultedSpec): HostTask[] {
  const names = [...new Set([...BASE_PACKAGES, ...(spec.os?.packages ?? [])])];
  const out: HostTask[] = [{ kind: "packages", id: TASK_IDS.packages, description: `Install ${names.length} packages`, disruption: "none", names }];
  const absent = REMOVED_PACKAGES.filter((n) => !names.includes(n));
  if (absent.length > 0) {
    out.push({
      kind: "packagesAbsent",
      id: TASK_IDS.packagesAbsent,
      description: `Remove ${absent.join(", ")} (upgrades packages behind Olares' back, the pinned NVIDIA driver included)`,
      disruption: "none",
      names: [...absent],
    });
  }
  return out;
}

function networkAndTimeTasks(spec: DefaultedSpec): HostTask[] {
  const os = spec.os;
  const out: HostTask[] = [];
  const nameservers = os.dns?.nameservers ?? [];
  if (nameservers.length > 0) {
    out.push({ kind: "resolvConf", id: TASK_IDS.dns, description: `Resolve names through ${nameservers.join(", ")}`, disruption: "none", nameservers });
  }
  const servers = os.ntp?.servers ?? [];
  if (servers.length > 0) {
    out.push({ kind: "timesync", id: TASK_IDS.ntp, description: `Synchronise time with ${servers.join(", ")}`, disruption: "none", servers });
  }
  const { enabled, port } = os.ssh;
  // Unset leaves the host's own PasswordAuthentication alone: forcing "no" locks out password-only admins.
  const passwordAuthentication = os.ssh.passwordAuthentication;
  const login = passwordAuthentication === undefined ? "password login as the host has it" : `password login ${passwordAuthentication ? "on" : "off"}`;
  out.push({
    kind: "sshd",
    id: TASK_IDS.ssh,
    description: enabled ? `OpenSSH on port ${port}, ${login}` : "OpenSSH server disabled",
    disruption: "restart-service",
    port,
    ...(passwordAuthentication !== undefined ? { passwordAuthentication } : {}),
    enabled,
  });
  return out;
}

function kernelTasks(spec: DefaultedSpec): HostTask[] {
  const os = spec.os;
  const out: HostTask[] = [];
  const values = Object.fromEntries(sortedEntries({ ...BASE_SYSCTL, ...(os.sysctl ?? {}) }));
  out.push({ kind: "sysctl", id: TASK_IDS.sysctl, description: `Set ${Object.keys(values).length} kernel parameters`, disruption: "none", values });
  const swap = os.swap;
  if (swap.enabled) {
    const zram = swap.zram?.enabled ? { sizePercent: swap.zram.sizePercent } : undefined;
    // zram replaces the swap file (see the API: "instead of a swap file").
    const sizeMiB = zram ? 0 : (swap.sizeMiB ?? 4096);
    out.push({
      kind: "swap",
      id: TASK_IDS.swap,
      description: zram ? `zram swap of ${zram.sizePercent}% of RAM` : `Swap file of ${sizeMiB} MiB`,
      disruption: "none",
      sizeMiB,
      swappiness: swap.swappiness ?? 10,
      ...(zram ? { zram } : {}),
    });
  }
  if (os.timezone) {
    out.push({ kind: "timezone", id: TASK_IDS.timezone, description: `Time zone ${os.timezone}`, disruption: "none", name: os.timezone });
  }
  return out;
}

function mirrorTasks(spec: DefaultedSpec): HostTask[] {
  const mirrors = (spec.registry?.mirrors ?? []).map((m) => ({ registry: m.registry, endpoints: [...m.endpoints] }));
  if (mirrors.length === 0) return [];
  return [
    {
      kind: "containerdMirrors",
      id: TASK_IDS.mirrors,
      description: `Registry mirrors for ${mirrors.map((m) => m.registry).join(", ")}`,
      disruption: "restart-service",
      mirrors,
    },
  ];
}


/** The OS layer in apply order: packages first (later tasks use them), the release's images and olaresd last (they need the rest). */
export function osTasks(ctx: RenderContext): { beforeGpu: HostTask[]; afterGpu: HostTask[] } {
  return {
    beforeGpu: [...packageTasks(ctx.spec), ...networkAndTimeTasks(ctx.spec), ...kernelTasks(ctx.spec), ...mirrorTasks(ctx.spec)],
    afterGpu: [...releaseImageTasks(ctx), ...olaresdTasks(ctx)],
  };
}
