// `olares-operator run`: the controller.
import type { Command } from "commander";
import { DEFAULT_OPERATOR_IMAGE } from "../render/images.js";
import type { RunOptions } from "../controller/run.js";

export function registerRunCommand(program: Command): Command {
  return program
    .command("run")
    .description("Run the controller: reconcile the OlaresInstallation (in-cluster, or against --kubeconfig)")
    .option("--kubeconfig <file>", "kubeconfig file (default: in-cluster service account, then KUBECONFIG / ~/.kube/config)")
    .option("--metrics-addr <addr>", "listen address of /metrics, /healthz and /readyz", ":8080")
    .option("--leader-elect", "campaign for the olares-operator Lease before reconciling (run several replicas safely)", false)
    .option("--namespace <ns>", "namespace the operator runs in (its Lease; default for Secret references)", process.env["POD_NAMESPACE"] ?? "olares-operator")
    .option("--image <image>", "operator image; the node agent DaemonSet runs it too", process.env["OPERATOR_IMAGE"] ?? DEFAULT_OPERATOR_IMAGE)
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
