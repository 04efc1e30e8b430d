// The only module that runs helm (as kube/ is the only API client).
export * from "./helm-cli.js";
export * from "./walk.js";
export * from "./records.js";
export * from "./input-hash.js";
export * from "./chart-digest.js";
export * from "./release-cache.js";
