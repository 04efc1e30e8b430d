// Re-exported from the contract: render (readiness) and the walker decide "unchanged" the same way.
export { LABEL_RELEASE_INPUT, releaseInputHash } from "../contract/release/records.js";
