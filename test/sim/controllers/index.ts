// Stand-ins for the kubelets, the scheduler and kube-controller-manager, driven by the store's change feed.
import type { SimApi } from "../api.js";
import type { Faults } from "../faults.js";
import { startNodeController, type NodeOptions } from "./nodes.js";
import { startPodController, type PodFailure, type PodHook, type PodOptions } from "./pods.js";
import { startServiceAccountController, startWorkloadControllers } from "./workloads.js";

export type { PodFailure, PodHook, PodHookHandle } from "./pods.js";

export interface ControllerOptions {
  nodes: NodeOptions;
  pods: Omit<PodOptions, "failures"> & { failures?: Record<string, PodFailure> };
}

export interface Controllers {
  /** Live pod settings: change readyDelayMs / jobDurationMs / onPod at any time. */
  pods: PodOptions;
  /** Make pods of an object (pod name, name prefix or owner name) fail; undefined clears it. */
  setFailure(objectName: string, failure: PodFailure | undefined): void;
  /** Install the hook run when a pod starts on a node (see PodHook). */
  onPod(hook: PodHook | undefined): void;
  isIdle(): boolean;
  stop(): void;
}

export function startControllers(api: SimApi, faults: Faults, opts: ControllerOptions): Controllers {
  const podOptions: PodOptions = { ...opts.pods, failures: new Map(Object.entries(opts.pods.failures ?? {})) };
  const nodes = startNodeController(api, faults, opts.nodes);
  const pods = startPodController(api, faults, podOptions);
  const workloads = startWorkloadControllers(api);
  const stopSa = startServiceAccountController(api);
  return {
    pods: podOptions,
    setFailure(name, failure) {
      if (failure) podOptions.failures.set(name, failure);
      else podOptions.failures.delete(name);
    },
    onPod(hook) {
      podOptions.onPod = hook;
    },
    isIdle: () => nodes.isIdle() && pods.isIdle() && workloads.isIdle(),
    stop() {
      stopSa();
      workloads.stop();
      pods.stop();
      nodes.stop();
    },
  };
}
