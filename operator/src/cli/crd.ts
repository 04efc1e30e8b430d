// `olares-operator crd`: prints the CRD exactly as shipped in crds/, or server-side applies it
// (`--apply`, used by the chart's pre-install/pre-upgrade hook, since Helm never upgrades crds/).
import type { Command } from "commander";
import { CRD_NAME, loadCrd, readCrdYaml } from "../api/index.js";
import type { ClusterClient } from "../kube/types.js";
import type { KubeObject } from "../contract/index.js";
import { processIO, type CliIO } from "./io.js";

const CRD_REF = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: CRD_NAME };

function isEstablished(crd: KubeObject | undefined): boolean {
  const conditions = ((crd?.status as { conditions?: Array<{ type: string; status: string }> } | undefined)?.conditions) ?? [];
  return conditions.some((c) => c.type === "Established" && c.status === "True");
}

/** Applies the shipped CRD (taking ownership of its fields) and waits until the apiserver serves it. */
export async function applyCrd(client: ClusterClient, opts: { timeoutMs: number; pollMs?: number }): Promise<KubeObject> {
  await client.apply(loadCrd() as unknown as KubeObject, { force: true });
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    const current = await client.get(CRD_REF);
    if (isEstablished(current)) return current!;
    if (Date.now() >= deadline) throw new Error(`CRD ${CRD_NAME} applied but not Established after ${opts.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 500));
  }
}

export function registerCrdCommand(program: Command, io: CliIO = processIO): Command {
  return program
    .command("crd")
    .description("Print the OlaresInstallation CustomResourceDefinition (YAML), or server-side apply it with --apply")
    .option("--apply", "server-side apply the CRD (field manager olares-operator, forcing conflicts) and wait until it is Established")
    .option("--kubeconfig <file>", "kubeconfig for --apply (default: in-cluster service account, then KUBECONFIG / ~/.kube/config)")
    .option("--timeout <seconds>", "how long --apply waits for Established", "60")
    .action(async (opts: { apply?: boolean; kubeconfig?: string; timeout: string }) => {
      if (!opts.apply) {
        io.stdout(readCrdYaml());
        return;
      }
      const timeoutSeconds = Number(opts.timeout);
      if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
        io.stderr(`--timeout: must be a positive number of seconds, got "${opts.timeout}"\n`);
        process.exitCode = 2;
        return;
      }
      try {
        // Loaded here: client-node is slow to import and `plan`/`crd` without --apply never need it.
        const { createClusterClient } = await import("../kube/client.js");
        const { loadKubeConfig } = await import("../kube/kubeconfig.js");
        const client = createClusterClient(loadKubeConfig(opts.kubeconfig), { userAgent: "olares-operator-crd" });
        const crd = await applyCrd(client, { timeoutMs: timeoutSeconds * 1000 });
        io.stdout(`customresourcedefinition.apiextensions.k8s.io/${CRD_NAME} serverside-applied (resourceVersion ${crd.metadata.resourceVersion})\n`);
      } catch (err) {
        io.stderr(`crd --apply: ${err instanceof Error ? err.message : String(err)}\n`);
        process.exitCode = 1;
      }
    });
}
