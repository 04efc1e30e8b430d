// The only module that runs helm and the release's other CLIs (velero, --dry-run only), as kube/ is the only API client.
export * from "./helm-cli.js";
export * from "./walk.js";
export * from "./records.js";
export * from "./input-hash.js";
export * from "./chart-digest.js";
export * from "./release-cache.js";
export * from "./velero-cli.js";
export * from "./release-files.js";
