// systemctl on the host: live when systemd is PID 1, offline (`--root`) in a bare chroot or test root.
import type { ExecResult, Host, Systemd } from "./types.js";

const UNIT_DIRS = ["/etc/systemd/system", "/run/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"];
const UNIT_NAME = /^[A-Za-z0-9:_.@\\-]+\.(service|socket|timer|target|mount|swap|path)$/;

type HostCore = Pick<Host, "mode" | "root" | "exists" | "run" | "runChecked"> & { log(message: string): void };

export function createSystemd(host: HostCore): Systemd {
  let liveCache: boolean | undefined;

  const live = async (): Promise<boolean> => {
    if (liveCache === undefined) {
      liveCache =
        host.mode === "nsenter"
          ? (await host.run(["test", "-d", "/run/systemd/system"])).exitCode === 0
          : await host.exists("/run/systemd/system");
    }
    return liveCache;
  };
  const checkName = (unit: string) => {
    if (!UNIT_NAME.test(unit)) throw new Error(`systemd: ${JSON.stringify(unit)} is not a unit name`);
  };
  // Offline systemctl works on the unit files under --root without a running systemd.
  const systemctl = async (args: string[]): Promise<string[]> =>
    (await live()) ? ["systemctl", ...args] : ["systemctl", `--root=${host.mode === "direct" ? host.root : "/"}`, ...args];
  const runtime = async (verb: string, unit: string): Promise<void> => {
    checkName(unit);
    if (!(await live())) {
      host.log(`systemd not running on this root: skipped ${verb} ${unit} (takes effect at boot)`);
      return;
    }
    await host.runChecked(["systemctl", verb, unit], { timeoutMs: 180_000 });
  };

  return {
    live,
    async daemonReload() {
      if (await live()) await host.runChecked(["systemctl", "daemon-reload"]);
    },
    async exists(unit) {
      checkName(unit);
      for (const dir of UNIT_DIRS) if (await host.exists(`${dir}/${unit}`)) return true;
      return false;
    },
    async isEnabled(unit) {
      checkName(unit);
      const r: ExecResult = await host.run(await systemctl(["is-enabled", unit]));
      return r.exitCode === 0 && /^(enabled|enabled-runtime|alias)\b/.test(r.stdout.trim());
    },
    async isActive(unit) {
      checkName(unit);
      if (!(await live())) return false;
      return (await host.run(["systemctl", "is-active", "--quiet", unit])).exitCode === 0;
    },
    async enable(unit) {
      checkName(unit);
      await host.runChecked(await systemctl(["enable", unit]));
    },
    async disable(unit) {
      checkName(unit);
      await host.runChecked(await systemctl(["disable", unit]));
    },
    start: (unit) => runtime("start", unit),
    stop: (unit) => runtime("stop", unit),
    restart: (unit) => runtime("restart", unit),
    reload: (unit) => runtime("reload-or-restart", unit),
  };
}
