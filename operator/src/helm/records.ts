// Helm's own release records (Secrets sh.helm.release.v1.<name>.v<N>, labels owner=helm, name, status,
// version), read from what the operator's cache already holds: deciding "unchanged" costs no helm run.
import type { KubeObject } from "../contract/objects.js";
import { LABEL_RELEASE_INPUT } from "./input-hash.js";

export type HelmReleaseStatus =
  | "deployed"
  | "failed"
  | "pending-install"
  | "pending-upgrade"
  | "pending-rollback"
  | "superseded"
  | "uninstalling"
  | "uninstalled"
  | "unknown";

export interface ReleaseRecord {
  name: string;
  namespace: string;
  revision: number;
  status: HelmReleaseStatus;
  /** Input hash recorded by the operator's last `helm upgrade --install` (absent: installed by someone else). */
  input?: string;
}

/** The newest revision of release `name` among Helm storage Secrets (any namespace's list). */
export function latestRecord(secrets: readonly KubeObject[], name: string, namespace: string): ReleaseRecord | undefined {
  let best: ReleaseRecord | undefined;
  for (const s of secrets) {
    const l = s.metadata.labels ?? {};
    if (l.owner !== "helm" || l.name !== name || (s.metadata.namespace ?? "") !== namespace) continue;
    if ((s as { type?: string }).type !== undefined && (s as { type?: string }).type !== "helm.sh/release.v1") continue;
    const revision = Number(l.version);
    if (!Number.isInteger(revision)) continue;
    if (best && best.revision >= revision) continue;
    best = { name, namespace, revision, status: (l.status as HelmReleaseStatus | undefined) ?? "unknown", ...(l[LABEL_RELEASE_INPUT] ? { input: l[LABEL_RELEASE_INPUT] } : {}) };
  }
  return best;
}

/** Where the walker reads release records from (the informer cache in the controller, a list call in tests). */
export interface ReleaseRecordSource {
  helmSecrets(namespace: string): readonly KubeObject[] | Promise<readonly KubeObject[]>;
}
