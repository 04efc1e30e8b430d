// The only code that runs the helm binary. Argv arrays (no shell); values go in through a 0600 file that
// is removed afterwards (they hold passwords); output is captured, never logged here.
import { execa } from "execa";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChartRelease } from "../contract/chart-release.js";
import { LABEL_RELEASE_INPUT } from "./input-hash.js";

export interface HelmOptions {
  /** Path of the pinned helm binary. */
  bin: string;
  /** Kubeconfig file; unset: helm's in-cluster config. */
  kubeconfig?: string;
  /** Private HELM_CACHE_HOME/CONFIG_HOME/DATA_HOME root (no user config leaks in). */
  home?: string;
  /** Per-operation timeout, as the installer's 300s (utils.UpgradeCharts). */
  timeoutSeconds?: number;
  /**
   * The user helm impersonates (`--kube-as-user`), e.g. the chart's installer ServiceAccount: the release's
   * charts create CRDs, RuntimeClasses and ClusterRoles the operator's own least-privilege role must not hold.
   */
  kubeAsUser?: string;
}

export interface HelmRunResult {
  ok: boolean;
  code: number;
  stdout: string;
  stderr: string;
  args: string[];
}

export class HelmError extends Error {
  override readonly name = "HelmError";
  constructor(readonly release: string, readonly namespace: string, readonly stderr: string) {
    super(`helm release ${namespace}/${release}: ${lastLines(stderr)}`);
  }
}

/** The useful end of helm's error output, one line. */
export function lastLines(text: string, n = 3): string {
  return text.trim().split("\n").filter((l) => l.trim() !== "").slice(-n).join(" | ") || "helm failed without output";
}

/** What the walker needs from helm: an upgrade --install and a run counter. */
export interface ReleaseInstaller {
  readonly runs: number;
  upgradeInstall(release: ChartRelease, inputHash: string): Promise<HelmRunResult>;
  /** `helm uninstall` (resources marked helm.sh/resource-policy: keep stay, as with helm). */
  uninstall(name: string, namespace: string): Promise<HelmRunResult>;
  /** `helm rollback` to the previous revision (clears a pending-upgrade left by an interrupted helm). */
  rollback(name: string, namespace: string): Promise<HelmRunResult>;
}

export class Helm implements ReleaseInstaller {
  /** Invocations since start (the steady-state figure: it must not grow when nothing changed). */
  runs = 0;

  constructor(private readonly opts: HelmOptions) {}

  private env(): Record<string, string> {
    const home = this.opts.home ?? join(tmpdir(), "olares-operator-helm");
    return {
      HELM_CACHE_HOME: join(home, "cache"),
      HELM_CONFIG_HOME: join(home, "config"),
      HELM_DATA_HOME: join(home, "data"),
      ...(this.opts.kubeconfig ? { KUBECONFIG: this.opts.kubeconfig } : {}),
    };
  }

  async run(args: string[], input?: string): Promise<HelmRunResult> {
    this.runs++;
    const argv = this.opts.kubeAsUser ? [...args, "--kube-as-user", this.opts.kubeAsUser] : args;
    const r = await execa(this.opts.bin, argv, {
      env: this.env(),
      extendEnv: true,
      reject: false,
      input,
      timeout: ((this.opts.timeoutSeconds ?? 300) + 60) * 1000,
      maxBuffer: 64 * 1024 * 1024,
      stripFinalNewline: false,
    });
    const code = typeof r.exitCode === "number" ? r.exitCode : 1;
    return { ok: code === 0 && !r.timedOut, code, stdout: String(r.stdout ?? ""), stderr: r.timedOut ? `helm timed out: ${String(r.stderr ?? "")}` : String(r.stderr ?? ""), args };
  }

  private async withValuesFile<T>(values: Record<string, unknown>, fn: (file: string) => Promise<T>): Promise<T> {
    const dir = await mkdtemp(join(tmpdir(), "olares-values-"));
    const file = join(dir, "values.json");
    try {
      await writeFile(file, JSON.stringify(values), { mode: 0o600 });
      return await fn(file);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /**
   * `helm upgrade --install` as olares-cli's UpgradeCharts: create the namespace, hooks on, no --wait,
   * the installer's timeout, `--reuse-values` where its upgrade passes reuseValues; the input hash is
   * recorded as a label on Helm's release record.
   */
  async upgradeInstall(release: ChartRelease, inputHash: string): Promise<HelmRunResult> {
    return this.withValuesFile(release.values, (file) =>
      this.run([
        "upgrade", "--install", release.name, release.chart.path,
        "--namespace", release.namespace, "--create-namespace",
        "--values", file,
        ...(release.reuseValues ? ["--reuse-values"] : []),
        "--timeout", `${this.opts.timeoutSeconds ?? 300}s`,
        "--labels", `${LABEL_RELEASE_INPUT}=${inputHash}`,
        "--history-max", "10",
      ]),
    );
  }

  async uninstall(name: string, namespace: string): Promise<HelmRunResult> {
    return this.run(["uninstall", name, "--namespace", namespace, "--timeout", `${this.opts.timeoutSeconds ?? 300}s`, "--ignore-not-found"]);
  }

  async rollback(name: string, namespace: string): Promise<HelmRunResult> {
    return this.run(["rollback", name, "--namespace", namespace, "--timeout", `${this.opts.timeoutSeconds ?? 300}s`]);
  }

  /** `helm template` of one release (plan --render), with the same values file. */
  async template(release: ChartRelease): Promise<HelmRunResult> {
    return this.withValuesFile(release.values, (file) =>
      this.run(["template", release.name, release.chart.path, "--namespace", release.namespace, "--values", file, "--include-crds"]),
    );
  }

  async status(name: string, namespace: string): Promise<{ status: string; revision: number } | undefined> {
    const r = await this.run(["status", name, "--namespace", namespace, "-o", "json"]);
    if (!r.ok) return undefined;
    const parsed = JSON.parse(r.stdout) as { info?: { status?: string }; version?: number };
    return { status: parsed.info?.status ?? "unknown", revision: parsed.version ?? 0 };
  }

  async version(): Promise<string> {
    const r = await this.run(["version", "--short"]);
    if (!r.ok) throw new Error(`helm ${this.opts.bin}: ${lastLines(r.stderr)}`);
    return r.stdout.trim();
  }
}
