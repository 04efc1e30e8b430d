// The Olares release seen from the controller: before render it fetches (once) and loads the release for
// spec.version, reads the owner's password and the release randoms (creating those once), and snapshots
// what the release's charts created (workloads, Helm's release records, the owner's User), which carry no
// label of ours and so are not in the informer cache. Reads only at steady state.
import { randomBytes } from "node:crypto";
import type { DefaultedSpec } from "../api/index.js";
import {
  LABEL_RELEASE_INPUT,
  OWNER_PASSWORD_SECRET,
  SYSTEM_NAMESPACE,
  DEFAULT_CDN,
  type KubeObject,
  type ObjectRef,
  type ObservedState,
  type ReleaseFacts,
  type ReleaseVeleroFacts,
} from "../contract/index.js";
import { isApiError } from "../kube/errors.js";
import {
  ReleaseArtifactError,
  ReleaseChecksumError,
  ensureWizard,
  loadRelease,
  type LoadedRelease,
  type ReleaseInstaller,
  type ReleaseOrigin,
  type ReleaseRecordSource,
} from "../helm/index.js";
import { veleroObjects } from "../helm/velero-cli.js";
import type { ReleaseFileServer } from "../helm/release-files.js";
import { RELEASE_RANDOMS_SECRET, VELERO_COMPONENT, releaseFilesEndpointSlice, releaseFilesSliceCurrent, type ReleaseFilesEndpoint, missingRandoms, veleroBackupLocationArgs, veleroInstallArgs, veleroWanted } from "../render/index.js";
import type { ReconcileClient } from "./reconciler.js";
import { DEFAULT_OPERATOR_NAMESPACE } from "./preconditions.js";

export interface ReleaseRuntime {
  /** Runs `helm upgrade --install` (the helm module's Helm). */
  installer: ReleaseInstaller;
  /**
   * Writes and reads the release's own objects (velero's, SystemEnv, the upgraders' patches) as the
   * identity helm installs the charts as (`--helm-as`): what olares-cli does as cluster admin. Without
   * it, the operator's own client.
   */
  installerClient?: ReconcileClient;
  /** Versioned cache of unpacked releases (<cacheDir>/versions/v<ver>). */
  cacheDir: string;
  /** A mirror (URL or directory) the operator was installed with: it stands in for the official CDN. */
  mirror?: string;
  /**
   * Serves an airgap directory's files to the nodes: the server, and the base URL the node agents reach
   * it at (the chart's release-files Service). Without it, nodes get nothing of an airgap release.
   */
  files?: {
    server: ReleaseFileServer;
    url: string;
    /** The chart's selector-less Service: the leader points it at its own Pod (render/releases/files-endpoint.ts). */
    endpoint?: ReleaseFilesEndpoint;
  };
}

export interface ReleaseObservation {
  facts: ReleaseFacts;
  /** The release's objects as read now, consulted before the informer cache. */
  snapshot: ObservedState;
  records: ReleaseRecordSource;
}

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet"] as const;

function releaseNamespaces(username: string): string[] {
  return ["kube-system", "os-gpu", "os-platform", "os-framework", `user-space-${username}`, `user-system-${username}`];
}

/** A Secret's values, decoded (stringData too: a fake or an unconverted object may hold it). */
function secretValues(secret: KubeObject | undefined): Record<string, string> {
  const s = secret as { data?: Record<string, string>; stringData?: Record<string, string> } | undefined;
  const out: Record<string, string> = { ...(s?.stringData ?? {}) };
  for (const [k, v] of Object.entries(s?.data ?? {})) out[k] = Buffer.from(v, "base64").toString("utf8");
  return out;
}

function decode(secret: KubeObject | undefined, key: string): string | undefined {
  return secretValues(secret)[key];
}

/** 404 or a kind not served (its CRD not installed yet) reads as nothing. */
async function tolerant<T>(fn: () => Promise<T>, empty: T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isApiError(err) && (err.status === 404 || err.reason === "NoKindMatch")) return empty;
    throw err;
  }
}

export class ReleaseController {
  private loaded = new Map<string, LoadedRelease>();
  private veleroByRelease = new Map<string, ReleaseVeleroFacts>();

  constructor(private readonly runtime: ReleaseRuntime, private readonly client: ReconcileClient, private readonly operatorNamespace = DEFAULT_OPERATOR_NAMESPACE) {}

  get installer(): ReleaseInstaller {
    return this.runtime.installer;
  }

  /** The client the release's own objects are read and written with (the installer's identity). */
  get releaseClient(): ReconcileClient {
    return this.runtime.installerClient ?? this.client;
  }

  /** spec.release: an airgap directory, else the CDN or mirror (default the official CDN). */
  origin(spec: DefaultedSpec): ReleaseOrigin {
    const r = spec.release;
    if (r.airgapDir) return { kind: "dir", path: r.airgapDir };
    const cdn = r.cdn;
    const mirror = this.runtime.mirror;
    if (mirror && cdn.replace(/\/+$/, "") === DEFAULT_CDN) return mirror.startsWith("/") ? { kind: "dir", path: mirror } : { kind: "url", base: mirror };
    return { kind: "url", base: cdn, ...(r.repoPath ? { repoPath: r.repoPath } : {}) };
  }

  /** Where the nodes fetch the manifest's files: the CDN or mirror URL, or, from a directory, the operator itself. */
  private async filesBase(origin: ReleaseOrigin, loaded: LoadedRelease | undefined): Promise<Pick<ReleaseFacts, "filesBase">> {
    if (origin.kind === "url") return { filesBase: origin.base.replace(/\/+$/, "") };
    const files = this.runtime.files;
    if (!files || !loaded) return {};
    files.server.publish(origin.path, loaded.manifest);
    if (files.endpoint) await this.advertiseFiles(files.endpoint);
    return { filesBase: files.url.replace(/\/+$/, "") };
  }

  /**
   * Points the release-files Service at this replica (only the leader reconciles, so only it gets here):
   * one read per reconcile, a write only when the slice is missing or names another Pod.
   */
  private async advertiseFiles(endpoint: ReleaseFilesEndpoint): Promise<void> {
    const want = releaseFilesEndpointSlice(endpoint);
    const ref: ObjectRef = { apiVersion: "discovery.k8s.io/v1", kind: "EndpointSlice", name: want.metadata.name, namespace: endpoint.namespace };
    const live = await tolerant(() => this.client.get(ref), undefined);
    if (releaseFilesSliceCurrent(live, want)) return;
    try {
      await this.client.apply(want, { force: true });
    } catch (err) {
      throw new Error(`pointing Service ${endpoint.namespace}/${endpoint.service} at this operator (EndpointSlice ${want.metadata.name}): ${(err as Error).message}`);
    }
  }

  /** velero's objects from the release's velero CLI (run once per release; a failure is retried next time). */
  private async velero(origin: ReleaseOrigin, rel: LoadedRelease): Promise<Pick<ReleaseFacts, "velero" | "veleroFailure">> {
    const key = rel.installerDir;
    const known = this.veleroByRelease.get(key);
    if (known) return { velero: known };
    try {
      const velero = await veleroObjects({ component: VELERO_COMPONENT, installArgs: veleroInstallArgs(), backupLocationArgs: veleroBackupLocationArgs(), origin, installerDir: rel.installerDir, manifest: rel.manifest });
      this.veleroByRelease.set(key, velero);
      return { velero };
    } catch (err) {
      return { veleroFailure: (err as Error).message };
    }
  }

  private async source(origin: ReleaseOrigin, version: string): Promise<Pick<ReleaseFacts, "source" | "manifest" | "systemEnv" | "userEnv" | "failure"> & { loaded?: LoadedRelease }> {
    try {
      const w = await ensureWizard(origin, version, this.runtime.cacheDir);
      const key = `${w.installerDir}@${w.md5}`;
      let rel = this.loaded.get(key);
      if (!rel) {
        rel = await loadRelease(w.installerDir);
        this.loaded.set(key, rel);
      }
      return { loaded: rel, source: { installerDir: rel.installerDir, charts: rel.charts }, manifest: rel.manifest, ...(rel.systemEnv ? { systemEnv: rel.systemEnv } : {}), ...(rel.userEnv ? { userEnv: rel.userEnv } : {}) };
    } catch (err) {
      if (err instanceof ReleaseChecksumError) return { failure: { reason: "ChecksumMismatch", url: err.url, expected: err.expected, actual: err.actual, message: err.message } };
      if (err instanceof ReleaseArtifactError) return { failure: { reason: "ArtifactMissing", url: err.url, message: err.message } };
      return { failure: { reason: "ReleaseUnreadable", url: "", message: (err as Error).message } };
    }
  }

  private async secret(ref: ObjectRef, observed: ObservedState): Promise<KubeObject | undefined> {
    return observed.get(ref) ?? (await this.client.get(ref));
  }

  /** Creates Secret olares-release-randoms once (strict create; a race keeps the winner's). */
  private async randoms(observed: ObservedState, ownerReferences: KubeObject["metadata"]["ownerReferences"], installation: string): Promise<Record<string, string> | undefined> {
    const ref: ObjectRef = { apiVersion: "v1", kind: "Secret", name: RELEASE_RANDOMS_SECRET, namespace: SYSTEM_NAMESPACE };
    const live = await this.secret(ref, observed);
    if (live) return secretValues(live);
    const values = missingRandoms({}, (n) => randomBytes(n));
    try {
      await this.client.create({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: RELEASE_RANDOMS_SECRET,
          namespace: SYSTEM_NAMESPACE,
          labels: { "app.kubernetes.io/managed-by": "olares-operator", "app.kubernetes.io/part-of": "olares", "olares.com/installation": installation, "olares.com/generated": "true" },
          ...(ownerReferences ? { ownerReferences } : {}),
        },
        type: "Opaque",
        stringData: values,
      } as KubeObject);
      return values;
    } catch (err) {
      // The operator's namespace comes with the Prerequisites stage: until then there are no randoms yet.
      if (isApiError(err) && err.status === 404) return undefined;
      if (isApiError(err) && err.status === 409) {
        return secretValues(await this.client.get(ref));
      }
      throw err;
    }
  }

  /**
   * The live copies of velero's objects (they carry velero's label component=velero, not ours, so the
   * informer cache does not hold them): one list per kind, a get for what the label does not find
   * (the os-framework Namespace, made by helm first) and the backup location by name.
   */
  private async liveVeleroObjects(velero: ReleaseVeleroFacts): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    const wanted = [...velero.install, velero.backupLocation];
    const kinds = new Map<string, { apiVersion: string; kind: string }>();
    for (const o of wanted) kinds.set(`${o.apiVersion}/${o.kind}`, { apiVersion: o.apiVersion, kind: o.kind });
    const found = new Set<string>();
    const id = (o: Pick<KubeObject, "apiVersion" | "kind"> & { metadata: { name: string; namespace?: string } }) => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
    for (const { apiVersion, kind } of kinds.values()) {
      for (const o of await tolerant(() => this.releaseClient.list(apiVersion, kind, { labelSelector: "component=velero" }), [])) {
        const live = { ...o, apiVersion, kind };
        out.push(live);
        found.add(id(live));
      }
    }
    for (const o of wanted) {
      if (found.has(id(o))) continue;
      const ref: ObjectRef = { apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}) };
      const live = await tolerant(() => this.releaseClient.get(ref), undefined);
      if (live) out.push({ ...live, apiVersion: o.apiVersion, kind: o.kind });
    }
    return out;
  }

  /**
   * The Olares users besides the owner, as olares-cli's upgrade lists them (PrepareUserInfoForUpgrade,
   * cli/pkg/upgrade/base.go@01f62215): every iam.kubesphere.io User not Failed, not Deleting and not being
   * deleted, that has a user-space-<name> namespace; each with its bfl StatefulSet's annotations (olares-cli
   * fails the upgrade on a user without bfl; such a user has no launcher to re-feed and is left out).
   */
  private async otherUsers(owner: string): Promise<NonNullable<ReleaseFacts["otherUsers"]>> {
    const users = await tolerant(() => this.client.list("iam.kubesphere.io/v1alpha2", "User"), []);
    const out: NonNullable<ReleaseFacts["otherUsers"]> = [];
    for (const u of users) {
      const name = u.metadata.name;
      const state = (u.status as { state?: string } | undefined)?.state;
      if (name === owner || state === "Failed" || state === "Deleting" || u.metadata.deletionTimestamp) continue;
      const ns = await tolerant(() => this.client.get({ apiVersion: "v1", kind: "Namespace", name: `user-space-${name}` }), undefined);
      if (!ns) continue;
      const bfl = await tolerant(() => this.client.get({ apiVersion: "apps/v1", kind: "StatefulSet", name: "bfl", namespace: `user-space-${name}` }), undefined);
      if (!bfl) continue;
      out.push({ name, bflAnnotations: { ...(bfl.metadata.annotations ?? {}) }, wizardCompleted: u.metadata.annotations?.["bytetrade.io/wizard-status"] === "completed" });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async observe(cr: KubeObject, spec: DefaultedSpec, observed: ObservedState, paused: boolean, nodeNames: readonly string[]): Promise<ReleaseObservation> {
    const username = spec.owner.username;
    const namespaces = new Set(releaseNamespaces(username));
    // The release's objects, read now.
    const byKey = new Map<string, KubeObject>();
    const put = (o: KubeObject) => byKey.set(`${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
    for (const kind of WORKLOAD_KINDS) {
      for (const o of await tolerant(() => this.client.list("apps/v1", kind), [])) if (namespaces.has(o.metadata.namespace ?? "")) put({ ...o, apiVersion: "apps/v1", kind });
    }
    const helmSecrets = await tolerant(() => this.client.list("v1", "Secret", { labelSelector: "owner=helm" }), []);
    for (const s of helmSecrets) put({ ...s, apiVersion: "v1", kind: "Secret" });
    const user = await tolerant(() => this.client.get({ apiVersion: "iam.kubesphere.io/v1alpha2", kind: "User", name: username }), undefined);
    if (user) put({ ...user, apiVersion: "iam.kubesphere.io/v1alpha2", kind: "User" });
    for (const o of await tolerant(() => this.client.list("sys.bytetrade.io/v1alpha1", "SystemEnv"), [])) put({ ...o, apiVersion: "sys.bytetrade.io/v1alpha1", kind: "SystemEnv" });
    // Terminus/terminus (the settings chart's): its spec.version is what olares-cli upgrade calls installed.
    const terminus = await tolerant(() => this.client.get({ apiVersion: "sys.bytetrade.io/v1alpha1", kind: "Terminus", name: "terminus" }), undefined);
    const installedVersion = (terminus?.spec as { version?: unknown } | undefined)?.version;
    const userEnv = await tolerant(() => this.client.get({ apiVersion: "v1", kind: "ConfigMap", name: "user-env", namespace: "os-framework" }), undefined);
    if (userEnv) put({ ...userEnv, apiVersion: "v1", kind: "ConfigMap" });
    // The release (fetched once) and, when wanted, velero's objects: their live copies join the snapshot.
    const origin = this.origin(spec);
    const { loaded, ...source } = await this.source(origin, spec.version);
    const velero = loaded && veleroWanted(spec) ? await this.velero(origin, loaded) : {};
    if (velero.velero) for (const o of await this.liveVeleroObjects(velero.velero)) put(o);
    const snapshot: ObservedState = {
      get: (ref) => byKey.get(`${ref.apiVersion}/${ref.kind}/${ref.namespace ?? ""}/${ref.name}`),
      list: (apiVersion, kind, namespace) => [...byKey.values()].filter((o) => o.apiVersion === apiVersion && o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)),
    };
    const records: ReleaseRecordSource = { helmSecrets: (ns) => helmSecrets.filter((s) => s.metadata.namespace === ns) };

    // Owner password and randoms.
    const ref = spec.owner.passwordSecretRef;
    const pwRef: ObjectRef = ref
      ? { apiVersion: "v1", kind: "Secret", name: ref.name, namespace: ref.namespace ?? this.operatorNamespace }
      : { apiVersion: "v1", kind: "Secret", name: OWNER_PASSWORD_SECRET, namespace: SYSTEM_NAMESPACE };
    const pwKey = ref?.key ?? "password";
    const ownerPassword = decode(await this.secret(pwRef, observed), pwKey);
    const randoms = paused ? undefined : await this.randoms(observed, [{ apiVersion: cr.apiVersion, kind: cr.kind, name: cr.metadata.name, uid: cr.metadata.uid ?? "", controller: true, blockOwnerDeletion: true }], cr.metadata.name);

    // bfl and its node, for the apps' values and the wizard URL (Nodes by name: the reconcile lists them once).
    const addressOf = (name: string | undefined) => {
      const node = name ? observed.get({ apiVersion: "v1", kind: "Node", name }) : undefined;
      const addrs = (node?.status as { addresses?: Array<{ type: string; address: string }> } | undefined)?.addresses ?? [];
      return addrs.find((a) => a.type === "InternalIP")?.address ?? addrs[0]?.address ?? name ?? "<node-ip>";
    };
    const sts = snapshot.get({ apiVersion: "apps/v1", kind: "StatefulSet", name: "bfl", namespace: `user-space-${username}` });
    let bfl: ReleaseFacts["bfl"];
    if (sts?.metadata.annotations?.userspace_pv) {
      const pods = await tolerant(() => this.client.list("v1", "Pod", { namespace: `user-space-${username}`, labelSelector: "tier=bfl" }), []);
      const nodeName = (pods[0]?.spec as { nodeName?: string } | undefined)?.nodeName ?? nodeNames[0];
      if (nodeName) bfl = { annotations: { ...sts.metadata.annotations }, nodeName, nodeAddress: addressOf(nodeName) };
    }
    const upgrading = typeof installedVersion === "string" && installedVersion !== "" && installedVersion !== spec.version;
    const otherUsers = upgrading && !paused ? await this.otherUsers(username) : [];
    const facts: ReleaseFacts = {
      cdn: spec.release.cdn.replace(/\/+$/, ""),
      ...source,
      ...velero,
      ...(await this.filesBase(origin, loaded)),
      passwordLocation: `Secret ${pwRef.namespace}/${pwRef.name}, key ${pwKey}`,
      ...(ownerPassword !== undefined ? { ownerPassword } : {}),
      ...(randoms ? { randoms } : {}),
      ...(bfl ? { bfl } : {}),
      nodeAddress: addressOf(bfl?.nodeName ?? nodeNames[0]),
      ...(typeof installedVersion === "string" && installedVersion !== "" ? { installedVersion } : {}),
      ...(user?.metadata.annotations?.["bytetrade.io/wizard-status"] === "completed" ? { ownerActivated: true } : {}),
      ...((cr.status as { version?: unknown } | undefined)?.version ? { installCompleted: true } : {}),
      ...(helmSecrets.some((s) => s.metadata.namespace === `user-space-${username}` && s.metadata.labels?.name === "wizard") ? { wizardInstalled: true } : {}),
      ...(otherUsers.length ? { otherUsers } : {}),
    };
    return { facts, snapshot, records };
  }
}

/**
 * Uninstalls, newest first, every Helm release this operator installed (their records carry our input
 * label), as `olares-cli uninstall` removes the install phase. Returns the releases it could not remove.
 */
export async function uninstallReleases(client: ReconcileClient, installer: ReleaseInstaller, log: { info(m: string, meta?: Record<string, unknown>): void }): Promise<string[]> {
  const records = await tolerant(() => client.list("v1", "Secret", { labelSelector: `owner=helm,${LABEL_RELEASE_INPUT}` }), []);
  const releases = new Map<string, { name: string; namespace: string; created: string }>();
  for (const r of records) {
    const name = r.metadata.labels?.name;
    if (!name) continue;
    const key = `${r.metadata.namespace}/${name}`;
    const created = r.metadata.creationTimestamp ?? "";
    const prev = releases.get(key);
    if (!prev || created < prev.created) releases.set(key, { name, namespace: r.metadata.namespace ?? "default", created });
  }
  const failed: string[] = [];
  for (const r of [...releases.values()].sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))) {
    const res = await installer.uninstall(r.name, r.namespace);
    if (res.ok) log.info("helm release uninstalled", { release: r.name, namespace: r.namespace });
    else failed.push(`${r.namespace}/${r.name}: ${res.stderr.trim().split("\n").pop()}`);
  }
  return failed;
}

/** Kinds only the release snapshot knows (the informer cache does not watch them): never asked of the cache. */
const SNAPSHOT_ONLY = new Set([
  "sys.bytetrade.io/v1alpha1/SystemEnv",
  "iam.kubesphere.io/v1alpha2/User",
  // velero's CRDs and backup location (read by liveVeleroObjects)
  "apiextensions.k8s.io/v1/CustomResourceDefinition",
  "velero.io/v1/BackupStorageLocation",
]);

/** The informer view, with the release snapshot consulted first for what it holds. */
export function withSnapshot(view: ObservedState, snapshot: ObservedState): ObservedState {
  const only = (apiVersion: string, kind: string) => SNAPSHOT_ONLY.has(`${apiVersion}/${kind}`);
  return {
    get: (ref) => snapshot.get(ref) ?? (only(ref.apiVersion, ref.kind) || (ref.kind === "ConfigMap" && ref.name === "user-env") ? undefined : view.get(ref)),
    list: (apiVersion, kind, namespace) => {
      const own = snapshot.list(apiVersion, kind, namespace);
      if (only(apiVersion, kind)) return own;
      if (own.length === 0) return view.list(apiVersion, kind, namespace);
      const seen = new Set(own.map((o) => `${o.metadata.namespace ?? ""}/${o.metadata.name}`));
      return [...own, ...view.list(apiVersion, kind, namespace).filter((o) => !seen.has(`${o.metadata.namespace ?? ""}/${o.metadata.name}`))];
    },
  };
}
