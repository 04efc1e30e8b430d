// Human lines for `plan`: every file, unit, package, restart, drain and reboot a task would cause. Pure.
import { HOST_PATHS, type HostTask } from "../host-tasks.js";
import type { NodeConfig } from "../types.js";

const DISRUPTION_NOTE: Record<string, string> = {
  none: "",
  "restart-service": " [restarts a service]",
  drain: " [drains the node]",
  reboot: " [reboots the node]",
};

function kindLines(task: HostTask): string[] {
  switch (task.kind) {
    case "file":
      return [`file ${task.path} (mode ${task.mode.toString(8)}, ${Buffer.byteLength(task.content)} bytes)`];
    case "dropin":
      return [`file ${HOST_PATHS.systemdUnits}/${task.unit}.d/${task.name}`, `systemd daemon-reload`];
    case "unit":
      return [
        ...(task.content !== undefined ? [`file ${HOST_PATHS.systemdUnits}/${task.name}`] : []),
        `unit ${task.name} ${task.enable ? "enabled" : "disabled"}, ${task.state}`,
        ...(task.restartOnChange?.length ? [`unit ${task.name} restarted when ${task.restartOnChange.join(" or ")} changes`] : []),
      ];
    case "packages":
      return [`packages ${task.names.join(" ")}`];
    case "packagesAbsent":
      return [`packages removed: ${task.names.join(" ")} (reinstalled on undo only where they were installed before)`];
    case "resolvConf":
      return [`file ${HOST_PATHS.resolvConf} (nameserver ${task.nameservers.join(", ")}; no search line)`, "unit systemd-resolved.service stopped and disabled if it owns resolv.conf"];
    case "timesync":
      return [
        `file ${HOST_PATHS.timesyncdDropin} (NTP=${task.servers.join(" ")}), or ${HOST_PATHS.chronySources} where chrony is installed`,
        "unit systemd-timesyncd.service (or chrony.service) enabled, started",
        "packages systemd-timesyncd if missing",
      ];
    case "sshd":
      return task.enabled
        ? [
            "packages openssh-server",
            `file ${HOST_PATHS.sshdDropin} (Port ${task.port}${task.passwordAuthentication === undefined ? "" : `, PasswordAuthentication ${task.passwordAuthentication ? "yes" : "no"}`}), checked with sshd -t`,
            "unit ssh.service enabled, started, reloaded on change",
          ]
        : [`file ${HOST_PATHS.sshdDropin}`, "unit ssh.service disabled, stopped"];
    case "sysctl":
      return [`file ${HOST_PATHS.sysctl} (${Object.entries(task.values).map(([k, v]) => `${k}=${v}`).join(", ")})`, "sysctl -p on the running kernel"];
    case "swap":
      return [
        `file ${HOST_PATHS.swappiness} (vm.swappiness = ${task.swappiness})`,
        ...(task.sizeMiB > 0 ? [`file ${HOST_PATHS.swapFile} (${task.sizeMiB} MiB swap)`, `file ${HOST_PATHS.swapUnit}`, "unit olares-swap.service enabled, started"] : []),
        ...(task.zram ? [`packages zram-tools (zram-generator on RPM hosts)`, `file ${HOST_PATHS.zramswapDefaults} (PERCENT=${task.zram.sizePercent})`, "unit zramswap.service enabled, started"] : []),
      ];
    case "timezone":
      return [`symlink ${HOST_PATHS.localtime} -> /usr/share/zoneinfo/${task.name}`, `file ${HOST_PATHS.timezone}`];
    case "containerdMirrors":
      return [
        ...task.mirrors.map((m) => `file ${HOST_PATHS.containerdCertsD}/${m.registry}/hosts.toml (${m.endpoints.join(", ")})`),
        `file ${HOST_PATHS.containerdCertsD}/<registry>/hosts.toml of registries no longer listed: original put back (or removed)`,
        "unit containerd.service restarted when a file changed",
      ];
    case "containerdNvidiaRuntime":
      return [
        `file ${HOST_PATHS.containerdNvidiaFragment} (nvidia runtime, containerd's default; needs ${HOST_PATHS.containerdConfig} to import /etc/containerd/conf.d/*.toml, never edited)`,
        "unit containerd.service restarted when the file changed",
      ];
    case "binary":
      return [`file ${task.path} (mode ${task.mode.toString(8)}) from ${task.url}${task.sha256 ? `, sha256 ${task.sha256}` : ", checksum pinned on first install"}`];
    case "nvidiaDriver":
      return [`packages nvidia-driver-${task.version.split(".")[0]} (or Debian's nvidia-driver) pinned to ${task.version}, kernel headers`, "reboot to load the new kernel module"];
    case "nvidiaToolkit":
      return [`packages nvidia-container-toolkit ${task.version || "(current)"} with its libraries`];
  }
}

export function describeTask(task: HostTask): string[] {
  const head = `${task.id}: ${task.description}${DISRUPTION_NOTE[task.disruption] ?? ""}`;
  return [head, ...kindLines(task).map((l) => `  ${l}`)];
}

export function describeNodeConfig(config: Omit<NodeConfig, "tasks"> & { tasks: HostTask[] }): string[] {
  const worst = config.tasks.some((t) => t.disruption === "reboot")
    ? "reboot"
    : config.tasks.some((t) => t.disruption === "drain")
      ? "drain"
      : config.tasks.some((t) => t.disruption === "restart-service")
        ? "restart-service"
        : "none";
  return [`node config ${config.id} (group ${config.group}, most disruptive change: ${worst})`, ...(config.tasks as HostTask[]).flatMap((t) => describeTask(t))];
}
