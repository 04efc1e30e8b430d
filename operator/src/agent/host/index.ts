export * from "./types.js";
export { createHost, hostArgv, type CreateHostOptions } from "./host.js";
export { createExecaExecutor, DEFAULT_TIMEOUT_MS, HOST_PATH } from "./exec.js";
