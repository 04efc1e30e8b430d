// The Olares release's own formats (installation.manifest, system-env.yaml, user-env.yaml), shared by
// render/, controller/ and agent/.
export * from "./manifest.js";
export * from "./system-env.js";
export * from "./layout.js";
