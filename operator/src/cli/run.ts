// `olares-operator run`: the controller.
import { InvalidArgumentError, type Command } from "commander";
import { DEFAULT_OPERATOR_IMAGE } from "../render/images.js";
import type { RunOptions } from "../controller/run.js";
import { DEFAULT_BURST, DEFAULT_QPS } from "../kube/transport.js";

/** Commander parser for --qps (a number >= 0; 0 turns the client-side limit off). */
export function parseQps(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`--qps: "${value}" must be a number >= 0 (0 disables the client-side rate limit)`);
  return n;
}

/** Commander parser for --burst (a whole number >= 1). */
export function parseBurst(value: string): number {
  const n = Number(value);
  if (value.trim() === "" || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`--burst: "${value}" must be a whole number >= 1`);
  return n;
}

export function registerRunCommand(program: Command): Command {
  return program
    .command("run")
    .description("Run the controller: reconcile the OlaresInstallation (in-cluster, or against --kubeconfig)")
    .option("--kubeconfig <file>", "kubeconfig file (default: in-cluster service account, then KUBECONFIG / ~/.kube/config)")
    .option("--metrics-addr <addr>", "listen address of /metrics, /healthz and /readyz", ":8080")
    .option("--leader-elect", "campaign for the olares-operator Lease before reconciling (run several replicas safely)", false)
    .option("--namespace <ns>", "namespace the operator runs in (its Lease; default for Secret references)", process.env["POD_NAMESPACE"] ?? "olares-operator")
    .option("--image <image>", "operator image; the node agent DaemonSet runs it too", process.env["OPERATOR_IMAGE"] ?? DEFAULT_OPERATOR_IMAGE)
    .option("--qps <n>", `API requests per second sustained by the client-side limiter (default ${DEFAULT_QPS}; 0 turns it off)`, parseQps)
    .option("--burst <n>", `API requests allowed at once above --qps (default ${DEFAULT_BURST})`, parseBurst)
    .option("--helm <path>", "the pinned helm binary that installs the Olares release (default $OLARES_HELM, else helm on PATH)")
    .option("--mirror <src>", "a mirror of the Olares CDN (https URL or directory) standing in for the official one (default $OLARES_RELEASE_MIRROR)")
    .option("--helm-as <user>", "the user helm impersonates to install the release, e.g. system:serviceaccount:olares-operator:olares-operator-installer (default $OLARES_HELM_AS; unset: the operator's own credentials)")
    .option("--release-cache <dir>", "versioned cache of unpacked Olares releases (default $OLARES_RELEASE_CACHE, else /var/cache/olares-operator)")
    .action(async (opts: RunOptions) => {
      try {
        // loaded on use: the Kubernetes client stack costs ~1 s of start-up that plan/validate must not pay
        const { runOperator } = await import("../controller/run.js");
        await runOperator(opts);
      } catch (err) {
        process.stderr.write(`olares-operator run: ${(err as Error).message}\n`);
        process.exitCode = 1;
      }
    });
}
