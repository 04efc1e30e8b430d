// NodeConfig: the host OS layer. One immutable, content-addressed ConfigMap per node group
// (render/node-config decides the tasks); its NodeRollout hook has the controller roll them out to Nodes.
import type { KubeObject, Stage } from "../../contract/index.js";
import { makeObject, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { nodeRolloutHook } from "../hooks.js";
import { SYSTEM_NAMESPACE } from "../../contract/index.js";
import { renderNodeConfigs } from "../node-config/index.js";
import { nodeConfigMap } from "../../contract/index.js";

const STAGE = "NodeConfig" as const;

export function renderNodeConfigStage(ctx: RenderContext): Stage {
  const configs = renderNodeConfigs(ctx.spec, ctx.facts);
  const objects: KubeObject[] = configs.map((config) => {
    // the agent's own encoding (name, key, JSON), stamped like every other rendered object
    const cm = nodeConfigMap(config, SYSTEM_NAMESPACE);
    return makeObject(ctx, STAGE, {
      apiVersion: cm.apiVersion,
      kind: cm.kind,
      name: cm.metadata.name,
      namespace: SYSTEM_NAMESPACE,
      component: "node-config",
      ...(cm.metadata.labels ? { labels: cm.metadata.labels } : {}),
      body: { immutable: cm["immutable"], data: cm["data"] },
    });
  });
  // Readiness here covers the ConfigMaps; the controller adds the nodes' rollout state.
  return { name: STAGE, objects, hooks: nodeRolloutHook(configs), ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
