// Shared fixtures for rollout tests: nodes, configs, a RolloutContext on FakeCluster, and a scripted
// stand-in for the agents that flips the handshake annotations the way a real agent does.
import type { DefaultedSpec, OlaresInstallationSpec } from "../../operator/src/api/index.js";
import type { KubeObject, NodeConfig } from "../../operator/src/contract/index.js";
import type { RolloutContext } from "../../operator/src/controller/node-rollout.js";
import {
  ANNOTATION_CURRENT_CONFIG,
  ANNOTATION_DESIRED_CONFIG,
  ANNOTATION_REASON,
  ANNOTATION_STATE,
} from "../../operator/src/contract/index.js";
import { FakeCluster } from "../support/fake-cluster.js";

export interface NodeInit {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ready?: boolean;
  unschedulable?: boolean;
}

export function node(name: string, init: NodeInit = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name, labels: { "kubernetes.io/hostname": name, ...init.labels }, ...(init.annotations ? { annotations: init.annotations } : {}) },
    spec: init.unschedulable ? { unschedulable: true } : {},
    status: { conditions: [{ type: "Ready", status: init.ready === false ? "False" : "True" }] },
  };
}

export function config(id: string, group = "default", disruption: NodeConfig["tasks"][number]["disruption"] = "none"): NodeConfig {
  return { id, group, tasks: [{ kind: "file", id: `f-${id}`, description: "test file", disruption }] };
}

export type NodesSpec = NonNullable<OlaresInstallationSpec["nodes"]>;

export function spec(nodes: NodesSpec = {}): DefaultedSpec {
  return {
    version: "1.12.1",
    owner: { username: "olares" },
    storage: { type: "LocalFS" },
    nodes,
  } as DefaultedSpec;
}

export interface Logged {
  level: string;
  args: unknown[];
}

export function context(fake: FakeCluster, nodes: NodesSpec = {}, now = () => new Date("2026-01-01T00:00:00Z")): RolloutContext & { logs: Logged[] } {
  const logs: Logged[] = [];
  return {
    client: fake,
    observed: fake.observed(),
    spec: spec(nodes),
    installationName: "olares",
    namespace: "olares-system",
    log: {
      info: (...args: unknown[]) => logs.push({ level: "info", args }),
      warn: (...args: unknown[]) => logs.push({ level: "warn", args }),
      error: (...args: unknown[]) => logs.push({ level: "error", args }),
    },
    now,
    logs,
  };
}

export function annotations(fake: FakeCluster, name: string): Record<string, string> {
  return fake.peek({ apiVersion: "v1", kind: "Node", name })?.metadata.annotations ?? {};
}

export async function setAnnotations(fake: FakeCluster, name: string, a: Record<string, string | null>): Promise<void> {
  await fake.patch({ apiVersion: "v1", kind: "Node", name }, { metadata: { annotations: a } }, "merge");
}

/**
 * One step of a scripted agent on each node: a node whose desired differs from current goes Working,
 * a Working node finishes (Done, or Degraded when `fail` says so). Returns nothing; read the fake.
 */
export async function agentsStep(fake: FakeCluster, fail: (node: string, desired: string) => string | undefined = () => undefined): Promise<void> {
  for (const n of fake.observed().list("v1", "Node")) {
    const a = n.metadata.annotations ?? {};
    const desired = a[ANNOTATION_DESIRED_CONFIG];
    if (!desired || desired === a[ANNOTATION_CURRENT_CONFIG]) continue;
    if (a[ANNOTATION_STATE] === "Degraded" && a["test/failed-on"] === desired) continue;
    if (a[ANNOTATION_STATE] !== "Working") {
      await setAnnotations(fake, n.metadata.name, { [ANNOTATION_STATE]: "Working", [ANNOTATION_REASON]: `Applying config ${desired}` });
      continue;
    }
    const reason = fail(n.metadata.name, desired);
    if (reason) {
      await setAnnotations(fake, n.metadata.name, { [ANNOTATION_STATE]: "Degraded", [ANNOTATION_REASON]: reason, "test/failed-on": desired });
    } else {
      await setAnnotations(fake, n.metadata.name, { [ANNOTATION_CURRENT_CONFIG]: desired, [ANNOTATION_STATE]: "Done", [ANNOTATION_REASON]: "" });
    }
  }
}

/** Nodes that count against maxUnavailable from the handshake alone (Working or handed out, not yet there). */
export function inFlight(fake: FakeCluster): string[] {
  return fake
    .observed()
    .list("v1", "Node")
    .filter((n) => {
      const a = n.metadata.annotations ?? {};
      return a[ANNOTATION_STATE] === "Working" || (a[ANNOTATION_DESIRED_CONFIG] !== undefined && a[ANNOTATION_DESIRED_CONFIG] !== a[ANNOTATION_CURRENT_CONFIG] && a[ANNOTATION_STATE] !== "Degraded");
    })
    .map((n) => n.metadata.name)
    .sort();
}
