// Helm's release records, read from what the operator already holds (no helm run to decide "unchanged").
import type { KubeObject } from "../contract/objects.js";
export { latestRecord, type HelmReleaseStatus, type ReleaseRecord } from "../contract/release/records.js";

/** Where the walker reads release records from (a snapshot in the controller, the simulator's store in tests). */
export interface ReleaseRecordSource {
  helmSecrets(namespace: string): readonly KubeObject[] | Promise<readonly KubeObject[]>;
}
