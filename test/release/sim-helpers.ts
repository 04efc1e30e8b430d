// The cluster simulator with what the K3s phase leaves behind (the ks-core User CRD), a helm bound to
// it, and Helm's release records read from the simulator's store (what the operator's cache holds).
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { startSimulator, type Simulator } from "../sim/server.js";
import { WRITE_VERBS, type Verb } from "../sim/faults.js";
import { Helm } from "../../operator/src/helm/helm-cli.js";
import type { ReleaseRecordSource } from "../../operator/src/helm/records.js";
import type { KubeObject } from "../../operator/src/contract/objects.js";
import { TOOLS_DIR, fetchTools } from "../chart/tools.js";
import { fixture } from "./helpers.js";

export async function simWithKubeSphere(opts: { nodes?: number; gpuNodes?: number } = {}): Promise<Simulator> {
  fetchTools();
  const sim = await startSimulator({ nodes: opts.nodes ?? 2, gpuNodes: opts.gpuNodes ?? 0 });
  const crds = parseAllDocuments(readFileSync(fixture().kubesphereCrds, "utf8")).map((d) => d.toJS() as KubeObject).filter(Boolean);
  await sim.seed(...(crds as never[]));
  await sim.settle();
  return sim;
}

export function helmFor(sim: Simulator, bin: string): Helm {
  return new Helm({ bin, kubeconfig: sim.kubeconfigPath, home: join(TOOLS_DIR, "helm-home"), timeoutSeconds: 60 });
}

export function storeRecords(sim: Simulator): ReleaseRecordSource {
  return { helmSecrets: (ns) => sim.store.list("/secrets", ns) as unknown as KubeObject[] };
}

export function writes(sim: Simulator): number {
  return sim.requests.filter((r) => WRITE_VERBS.includes(r.verb as Verb)).length;
}

export function get(sim: Simulator, typeKey: string, ns: string, name: string): KubeObject | undefined {
  return sim.store.get(typeKey, ns, name) as unknown as KubeObject | undefined;
}

/** What the operator's informer cache would hold: the simulator's store, read in-process (no requests). */
export function storeObserved(sim: Simulator): import("../../operator/src/contract/objects.js").ObservedState {
  const key = (apiVersion: string, kind: string) => {
    try {
      const rt = sim.api.resolve(apiVersion, kind);
      return { typeKey: sim.api.typeKey(rt), namespaced: rt.namespaced };
    } catch {
      return undefined;
    }
  };
  return {
    get(ref) {
      const k = key(ref.apiVersion, ref.kind);
      return k ? (sim.store.get(k.typeKey, k.namespaced ? ref.namespace ?? "" : "", ref.name) as unknown as KubeObject | undefined) : undefined;
    },
    list(apiVersion, kind, namespace) {
      const k = key(apiVersion, kind);
      return k ? (sim.store.list(k.typeKey, namespace) as unknown as KubeObject[]) : [];
    },
  };
}
