// What the controller learns about the Olares release before rendering (I/O is the controller's; render
// gets the result): the unpacked release, why it is not available, the owner's password and the randoms.
import type { KubeObject } from "../objects.js";
import type { ManifestItem } from "./manifest.js";
import type { SystemEnvFile, UserEnvFile } from "./system-env.js";

export interface ReleaseArtifactFailure {
  /** ArtifactMissing: a URL did not answer with the file; ChecksumMismatch: its MD5 differs from the published one. */
  reason: "ArtifactMissing" | "ChecksumMismatch" | "ReleaseUnreadable";
  url: string;
  expected?: string;
  actual?: string;
  message: string;
}

export interface ReleaseBflFacts {
  annotations: Record<string, string>;
  nodeName: string;
  nodeAddress: string;
}

/** What the release's velero CLI (the manifest's `velero` component) prints for the installer's commands, run with --dry-run / -o yaml. */
export interface ReleaseVeleroFacts {
  /** `velero install <the installer's flags> --dry-run -o yaml`: CRDs, then the rest, in velero's order. */
  install: KubeObject[];
  /** `velero backup-location create terminus-cloud <the installer's flags> -o yaml`. */
  backupLocation: KubeObject;
  /** The component file it came from (installation.manifest's filename). */
  component: string;
}

export interface ReleaseFacts {
  /** The CDN (or mirror) base the release comes from, as SystemEnv OLARES_SYSTEM_CDN_SERVICE gets it. */
  cdn: string;
  /** The unpacked release: installer dir and the digest of every chart dir under it. */
  source?: { installerDir: string; charts: Record<string, string> };
  manifest?: ManifestItem[];
  systemEnv?: SystemEnvFile;
  userEnv?: UserEnvFile;
  failure?: ReleaseArtifactFailure;
  /** The owner's plain initial password, once its Secret exists. */
  ownerPassword?: string;
  /** Human text: where the initial password is. */
  passwordLocation: string;
  /** Secret olares-release-randoms' data, once it exists. */
  randoms?: Record<string, string>;
  /** The live bfl StatefulSet and its node (the apps' values need them). */
  bfl?: ReleaseBflFacts;
  /** An address of a node, for the wizard URL. */
  nodeAddress?: string;
  /** HTTP(S) base the nodes fetch the manifest's files from (the CDN or a mirror URL); absent for an airgap directory. */
  filesBase?: string;
  /** Terminus/terminus spec.version: the version the settings chart last recorded (what olares-cli upgrade reads). */
  installedVersion?: string;
  /** velero's objects, from the release's velero CLI; or why they could not be had. */
  velero?: ReleaseVeleroFacts;
  veleroFailure?: string;
  /** The installation was Ready once (status.version set): the install phase, the wizard app included, has run. */
  installCompleted?: boolean;
  /** Helm holds a record of the owner's wizard app (BFL has not removed it yet). */
  wizardInstalled?: boolean;
  /** The owner's User says bytetrade.io/wizard-status=completed (the wizard app is then left alone). */
  ownerActivated?: boolean;
  /**
   * Olares users other than the owner, read only while upgrading, as olares-cli's upgrade lists them (its
   * iam.kubesphere.io User objects, neither Failed nor being deleted, with a user-space-<name> namespace):
   * each re-installs its launcher and apps, re-fed from its own bfl's annotations.
   */
  otherUsers?: ReleaseOtherUser[];
}

export interface ReleaseOtherUser {
  name: string;
  /** Annotations of its StatefulSet user-space-<name>/bfl (the *_rand16 and PV/PVC names). */
  bflAnnotations: Record<string, string>;
  /** Its User says bytetrade.io/wizard-status=completed: its wizard app is skipped. */
  wizardCompleted: boolean;
}
