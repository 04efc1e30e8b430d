// Everything the demo, the e2e tests on the cluster simulator and hack/bench-e2e.ts share.
export * from "./tools.js";
export * from "./operator.js";
export * from "./observe.js";
