// Distribution packages on the host: apt (dpkg) or dnf (rpm), detected from the host root.
import type { Host, PackageManagerKind, Packages } from "./types.js";

const PINNED_PACKAGE = /^[a-z0-9][a-z0-9+.-]*(=[A-Za-z0-9.+~:_-]+)?$/;
const INSTALL_TIMEOUT_MS = 20 * 60_000;
/** Wait for dpkg's lock (unattended-upgrades, cloud-init) instead of failing at once; apt >= 1.9.11. */
const APT_LOCK_WAIT = ["-o", "DPkg::Lock::Timeout=300"];

/** Debian names that differ on RPM distributions. */
const RPM_NAMES: Record<string, string> = {
  conntrack: "conntrack-tools",
  "systemd-timesyncd": "chrony",
  "openssh-client": "openssh-clients",
  "unattended-upgrades": "dnf-automatic",
};

type HostCore = Pick<Host, "exists" | "run" | "runChecked">;

function checkNames(names: readonly string[]): void {
  for (const n of names) if (!PINNED_PACKAGE.test(n)) throw new Error(`packages: ${JSON.stringify(n)} is not a package name`);
}

function rpmName(name: string): string {
  const [base, version] = name.split("=") as [string, string | undefined];
  const mapped = RPM_NAMES[base] ?? base;
  return version ? `${mapped}-${version}` : mapped;
}

export function createPackages(host: HostCore): Packages {
  let kindCache: PackageManagerKind | undefined | null = null;
  const kind = async (): Promise<PackageManagerKind | undefined> => {
    if (kindCache === null) {
      kindCache = (await host.exists("/usr/bin/apt-get")) ? "apt" : (await host.exists("/usr/bin/dnf")) ? "dnf" : undefined;
    }
    return kindCache;
  };
  const need = async (): Promise<PackageManagerKind> => {
    const k = await kind();
    if (!k) throw new Error("packages: neither /usr/bin/apt-get nor /usr/bin/dnf exists on the host");
    return k;
  };
  const versions = async (names: readonly string[]): Promise<Map<string, string>> => {
    checkNames(names);
    const found = new Map<string, string>();
    if (names.length === 0) return found;
    if ((await need()) === "apt") {
      const r = await host.run(["dpkg-query", "-W", "-f=${Package}\t${db:Status-Abbrev}\t${Version}\n", ...names]);
      for (const line of r.stdout.split("\n")) {
        const [pkg, status, version] = line.split("\t");
        if (pkg && version && status?.startsWith("ii")) found.set(pkg, version);
      }
    } else {
      const rpmNames = names.map(rpmName);
      const r = await host.run(["rpm", "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", ...rpmNames]);
      for (const line of r.stdout.split("\n")) {
        const [pkg, version] = line.split("\t");
        if (pkg && version) {
          const debName = names.find((n) => rpmName(n) === pkg) ?? pkg;
          found.set(debName, version);
        }
      }
    }
    return found;
  };

  return {
    kind,
    async installed(names) {
      const found = await versions(names);
      return names.filter((n) => found.has(n));
    },
    async version(name) {
      return (await versions([name])).get(name);
    },
    async install(names) {
      checkNames(names);
      if (names.length === 0) return;
      if ((await need()) === "apt") {
        const env = { DEBIAN_FRONTEND: "noninteractive" };
        const argv = [
          "apt-get", "install", "-y", "-q", "--no-install-recommends", ...APT_LOCK_WAIT,
          "-o", "Dpkg::Options::=--force-confdef", "-o", "Dpkg::Options::=--force-confold",
          ...names,
        ];
        const first = await host.run(argv, { env, timeoutMs: INSTALL_TIMEOUT_MS });
        if (first.exitCode === 0) return;
        // Stale or missing package lists are the usual cause: refresh once and retry.
        await host.runChecked(["apt-get", "update", "-q", ...APT_LOCK_WAIT], { env, timeoutMs: INSTALL_TIMEOUT_MS });
        await host.runChecked(argv, { env, timeoutMs: INSTALL_TIMEOUT_MS });
      } else {
        await host.runChecked(["dnf", "install", "-y", ...names.map(rpmName)], { timeoutMs: INSTALL_TIMEOUT_MS });
      }
    },
    async remove(names) {
      checkNames(names);
      if (names.length === 0) return;
      const bare = names.map((n) => n.split("=")[0]!);
      if ((await need()) === "apt") {
        await host.runChecked(["apt-get", "remove", "-y", "-q", ...APT_LOCK_WAIT, ...bare], {
          env: { DEBIAN_FRONTEND: "noninteractive" },
          timeoutMs: INSTALL_TIMEOUT_MS,
        });
      } else {
        await host.runChecked(["dnf", "remove", "-y", ...bare.map(rpmName)], { timeoutMs: INSTALL_TIMEOUT_MS });
      }
    },
  };
}
