// The ordered list of stages. Adding a concern = adding one entry here (and its module).
import type { Stage, StageName } from "../../contract/index.js";
import type { RenderContext } from "../context.js";
import { renderPrerequisites } from "./prerequisites.js";
import { renderNodeAgent } from "./node-agent.js";
import { renderNodeConfigStage } from "./node-config.js";
import { renderClusterDns } from "./cluster-dns.js";
import { renderStorage } from "./storage.js";
import { renderGpu } from "./gpu.js";
import { renderCoreServices } from "./core-services.js";

/** Renders one stage; returns undefined when the spec disables it (disabled stages are absent). */
export type StageRenderer = (ctx: RenderContext) => Stage | undefined;

export interface StageEntry {
  name: StageName;
  render: StageRenderer;
}

/** Stages in mission order. */
export const STAGE_REGISTRY: readonly StageEntry[] = [
  { name: "Prerequisites", render: renderPrerequisites },
  { name: "NodeAgent", render: renderNodeAgent },
  { name: "NodeConfig", render: renderNodeConfigStage },
  { name: "ClusterDNS", render: renderClusterDns },
  { name: "Storage", render: renderStorage },
  { name: "GPU", render: renderGpu },
  { name: "CoreServices", render: renderCoreServices },
];
