// A simulated host's apt and reboot for an NVIDIA driver branch change (the cordon tests on the
// simulator and on kube-apiserver share it).
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { BOOT_ID_FILE } from "../../operator/src/agent/agent-state.js";
import { NVIDIA_PROC_VERSION } from "../../operator/src/agent/tasks/nvidia-driver.js";
import type { SimulatedHost } from "../sim/agent-runner.js";

/**
 * Makes a simulated host behave like apt and a reboot for a driver branch change: installing
 * nvidia-driver-<branch> replaces the other branch (the packages conflict), and `systemctl reboot`
 * loads the installed driver and changes the boot id.
 */
export async function emulateDriverChange(host: SimulatedHost, version: string): Promise<{ reboots: () => number }> {
  const sys = host.system;
  const branch = version.split(".")[0]!;
  const write = async (p: string, text: string) => {
    await mkdir(dirname(join(host.root, p)), { recursive: true });
    await writeFile(join(host.root, p), text);
  };
  let boots = 0;
  await write(BOOT_ID_FILE, `boot-${boots}\n`);
  sys.aptVersions.set(`nvidia-driver-${branch}`, [`${version}-0ubuntu1`]);
  sys.exec.use(async (argv) => {
    if (argv[0] === "apt-get" && argv.includes("install") && argv.some((a) => a.startsWith(`nvidia-driver-${branch}=`))) {
      for (const p of [...sys.installed]) if (/^nvidia-driver-\d+$/.test(p) && p !== `nvidia-driver-${branch}`) sys.installed.delete(p);
      return undefined; // the fake apt installs the new branch
    }
    if (argv[0] === "systemctl" && argv.includes("reboot")) {
      boots++;
      await write(BOOT_ID_FILE, `boot-${boots}\n`);
      await write(NVIDIA_PROC_VERSION, `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${version}  Release Build\n`);
      return { exitCode: 0 };
    }
    return undefined;
  });
  return { reboots: () => boots };
}
