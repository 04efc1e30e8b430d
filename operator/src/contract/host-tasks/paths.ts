// Host paths the task kinds may write, shared by the agent, `plan` and the bootstrap's expectations.
import { isPlainAbsolutePath } from "../validators.js";

/** Every path a task may write under. Anything else is rejected at render time and in the agent. */
export const ALLOWED_PATH_ROOTS = ["/etc/", "/usr/local/bin/", "/var/lib/olares-agent/", "/olares/"] as const;

/** Single files outside those roots a task may write: the JuiceFS mount helper mount(8) looks up as /sbin/mount.<type> (olares-cli installs it there). */
export const ALLOWED_EXACT_PATHS = ["/sbin/mount.juicefs"] as const;

/** Where the agent keeps backups, originals and its own state on the host. */
export const AGENT_STATE_DIR = "/var/lib/olares-agent";

/** Fixed host paths the task kinds write. */
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

/** Absolute, normalized, plain characters (no %, so no encoded traversal), under one of ALLOWED_PATH_ROOTS. */
export function isAllowedPath(p: string): boolean {
  return isPlainAbsolutePath(p) && (ALLOWED_PATH_ROOTS.some((root) => p.startsWith(root)) || (ALLOWED_EXACT_PATHS as readonly string[]).includes(p));
}

export const ALLOWED_PATH_RULE = `must be a plain absolute path under ${ALLOWED_PATH_ROOTS.join(" ")} (or one of ${ALLOWED_EXACT_PATHS.join(" ")})`;
