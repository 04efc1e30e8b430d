// kind "swap": a swap file (sizeMiB > 0) and/or zram swap, with vm.swappiness.
import type { HostTaskBase } from "../node-config.js";
import { isIntIn } from "../validators.js";
import { HOST_PATHS } from "./paths.js";
import type { HostTaskKindSpec } from "./rules.js";

export interface SwapTask extends HostTaskBase {
  kind: "swap";
  sizeMiB: number;
  swappiness: number;
  zram?: { sizePercent: number };
}

export const swapKind: HostTaskKindSpec<SwapTask> = {
  kind: "swap",
  validate(task, c) {
    if (!isIntIn(task.sizeMiB, 0, 1024 * 1024)) c.bad("sizeMiB", task.sizeMiB, "must be an integer 0..1048576");
    if (!isIntIn(task.swappiness, 0, 200)) c.bad("swappiness", task.swappiness, "must be an integer 0..200");
    if (task.zram !== undefined && !isIntIn(task.zram.sizePercent, 1, 200)) c.bad("zram.sizePercent", task.zram.sizePercent, "must be an integer 1..200");
    if (task.sizeMiB === 0 && task.zram === undefined) c.bad("sizeMiB", task.sizeMiB, "must be > 0 unless zram is set");
  },
  describe: (task) => [
    `file ${HOST_PATHS.swappiness} (vm.swappiness = ${task.swappiness})`,
    ...(task.sizeMiB > 0 ? [`file ${HOST_PATHS.swapFile} (${task.sizeMiB} MiB swap)`, `file ${HOST_PATHS.swapUnit}`, "unit olares-swap.service enabled, started"] : []),
    ...(task.zram ? [`packages zram-tools (zram-generator on RPM hosts)`, `file ${HOST_PATHS.zramswapDefaults} (PERCENT=${task.zram.sizePercent})`, "unit zramswap.service enabled, started"] : []),
  ],
};
