// Wakes the agent on every change of its own Node: the kube informer (relists, watchdog, backoff) with
// fieldSelector metadata.name=<node>. The agent re-reads the Node on each sync, so it needs no cache.
import { createInformer } from "../kube/informer.js";
import type { Logger } from "../contract/index.js";
import type { ListerWatcher } from "../kube/types.js";

export interface NodeWatchOptions {
  onChange: () => void;
  logger?: Logger;
}

export function watchOwnNode(lw: ListerWatcher, nodeName: string, opts: NodeWatchOptions): { stop(): Promise<void> } {
  const informer = createInformer({
    source: lw,
    apiVersion: "v1",
    kind: "Node",
    fieldSelector: `metadata.name=${nodeName}`,
    resyncPeriodMs: 0,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  informer.addHandler({ onAdd: opts.onChange, onUpdate: opts.onChange, onDelete: opts.onChange });
  informer.start();
  return { stop: () => informer.stop() };
}
