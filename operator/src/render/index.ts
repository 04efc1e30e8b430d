// render(spec, facts): the single, pure entry point shared by the controller and `plan`.
import type { DefaultedSpec } from "../api/index.js";
import type { ClusterFacts, DesiredState, KubeObject } from "../contract/index.js";
import { renderContext } from "./context.js";
import { STAGE_REGISTRY } from "./stages/registry.js";

export function render(spec: DefaultedSpec, facts: ClusterFacts): DesiredState {
  const ctx = renderContext(spec, facts);
  const stages = STAGE_REGISTRY.map((entry) => entry.render(ctx)).filter((s) => s !== undefined);
  return { stages };
}

/** Every object of every stage, in stage order. */
export function allObjects(desired: DesiredState): KubeObject[] {
  return desired.stages.flatMap((s) => s.objects);
}

export { STAGE_REGISTRY } from "./stages/registry.js";
export { OWNED_KINDS } from "./kinds.js";
export { RenderError } from "./render-error.js";
export * from "./releases/index.js";
export * from "../contract/index.js";
export type * from "../contract/index.js";
export { daemonSetVerdict, deploymentVerdict, statefulSetVerdict } from "./readiness.js";
