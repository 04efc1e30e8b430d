// The Olares release's own formats (installation.manifest, system-env.yaml, user-env.yaml), shared by
// render/, controller/ and agent/.
export * from "./manifest.js";
export * from "./system-env.js";
export * from "./layout.js";
export * from "./facts.js";
export * from "./plan.js";
export * from "./records.js";
