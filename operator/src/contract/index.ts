// contract/: what the layers share, dependency-free (Node built-ins only, no other layer, no npm package).
// api/, render/, controller/, kube/, agent/, helm/ and cli/ all import from here; see test/contract/layers.test.ts.
export * from "./objects.js";
export * from "./facts.js";
export * from "./stage.js";
export * from "./chart-release.js";
export * from "./logger.js";
export * from "./names.js";
export * from "./canonical.js";
export * from "./node-config.js";
export * from "./handshake.js";
export * from "./validators.js";
export * from "./host-tasks/index.js";
export * from "./storage-migration.js";
export * from "./release/index.js";
