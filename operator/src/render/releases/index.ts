// The Olares release's Helm releases: pure values per chart and the ordered list.
export * from "./values.js";
export * from "./randoms.js";
export * from "./list.js";
export * from "./system-env.js";
export * from "./components.js";
export * from "./activation.js";
export * from "./olaresd.js";
export * from "./host-tasks.js";
export * from "./velero.js";
export * from "./upgraders.js";
export * from "./files-endpoint.js";
