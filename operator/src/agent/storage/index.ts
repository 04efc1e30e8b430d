// The node agent's storage engine: copier, verifier, migration state machine, unit renderers, probes.
export * from "./copier.js";
export * from "./juicefs.js";
export * from "./layout.js";
export * from "./migration.js";
export * from "./mounts.js";
export * from "./redis-probe.js";
export * from "./s3.js";
export * from "./state.js";
export * from "./tree.js";
export * from "./units.js";
export * from "./verifier.js";
export * from "./worker-merge.js";
export * from "./xattrs.js";
