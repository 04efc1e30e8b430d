// The node agent's task engine: apply, undo and drift of a node config on one host.
export { applyNodeConfig, undoNodeConfig, detectDrift, type TypedNodeConfig, type UndoResult } from "./engine.js";
export { TASK_MODULES, moduleFor } from "./registry.js";
export { ORIGINAL_SCOPE } from "./common.js";
export { describeTask, describeNodeConfig } from "../../contract/index.js";
export type * from "./types.js";
