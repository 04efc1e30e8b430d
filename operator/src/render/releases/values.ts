// One pure function per wizard chart: the values olares-cli passes, key for key. Sources (beclab/Olares):
// account cli/pkg/terminus/account.go@0ed7b74b, settings cli/pkg/terminus/settings.go@bd5026e0 +
// templates/settings.go@bd5026e0, os-platform/os-framework cli/pkg/terminus/ossystem.go@56aaf78b
// (InstallOsSystem), launcher cli/pkg/terminus/launcher.go@df5b0859 (InstallBFL), apps
// cli/pkg/terminus/apps.go@b57e85c3 (PrepareAppValues), hami cli/pkg/gpu/tasks.go@0c65ee70 (empty map).
import { createHash } from "node:crypto";
import type { DefaultedSpec } from "../../api/index.js";
import { rootOf } from "../stages/storage-plan.js";
import { BUILT_IN_APPS } from "./randoms.js";

export type Values = Record<string, unknown>;

/** EncryptPassword (account.go@0ed7b74b): MD5(plain + "@Olares2025"), hex. */
export function encryptPassword(plain: string): string {
  return createHash("md5").update(`${plain}@Olares2025`).digest("hex");
}

export const DEFAULT_DOMAIN = "olares.com";
/** storage.OlaresRootDir: spec.storage.rootPath without a trailing slash (the one helper storage uses too). */
export function rootPathOf(spec: DefaultedSpec): string {
  return rootOf(spec);
}

/** storage.GetRootFSType(): jfs on JuiceFS, fs otherwise. */
export function fsTypeOf(spec: DefaultedSpec): "fs" | "jfs" {
  return spec.storage?.type === "JuiceFS" ? "jfs" : "fs";
}

/** getGpuType(Arg.GPU.Enable): the installer's GPU is on unless turned off (LOCAL_GPU_ENABLE=0). */
export function gpuTypeOf(spec: DefaultedSpec): "nvidia" | "none" {
  return spec.gpu?.enabled === "false" ? "none" : "nvidia";
}

export interface AccountInput {
  spec: DefaultedSpec;
  /** The owner's initial password, plain (from spec.owner.passwordSecretRef or the generated Secret). */
  ownerPassword: string;
  /** GetNATGateway(): only passed when one exists. */
  natGatewayIp?: string;
}

export function accountValues({ spec, ownerPassword, natGatewayIp }: AccountInput): Values {
  const username = spec.owner.username;
  const domain = spec.owner.domain;
  return {
    user: {
      name: username,
      password: encryptPassword(ownerPassword),
      email: spec.owner.email ?? `${username}@${domain}`,
      terminus_name: `${username}@${domain}`,
    },
    ...(natGatewayIp ? { nat_gateway_ip: natGatewayIp } : {}),
  };
}

export interface SettingsInput {
  spec: DefaultedSpec;
  /** Storage.StorageClusterId (the cloud version's); empty lets the chart keep or make its own. */
  clusterId?: string;
  /** S3 session credentials the cloud version passes; "none" otherwise. */
  s3?: { sts?: string; ak?: string; sk?: string };
  /** The upgrade's last step passes the target version (UpdateOlaresVersion). */
  version?: string;
}

export function settingsValues({ clusterId, s3, version }: SettingsInput): Values {
  return {
    cluster_id: clusterId ?? "",
    s3_sts: s3?.sts || "none",
    s3_ak: s3?.ak || "none",
    s3_sk: s3?.sk || "none",
    domainName: "",
    selfHosted: "false",
    terminusd: "1",
    ...(version ? { version } : {}),
  };
}

export interface OsSystemInput {
  spec: DefaultedSpec;
  /** Storage.BackupClusterBucket / StoragePrefix / StorageSyncSecret: the cloud version's; empty self-hosted. */
  backup?: { bucket?: string; keyPrefix?: string; syncSecret?: string; isCloudVersion?: boolean };
}

/** The vals map InstallOsSystem passes to both os-platform and os-framework. */
export function osSystemValues({ spec, backup }: OsSystemInput): Values {
  const rootPath = rootPathOf(spec);
  return {
    backup: {
      bucket: backup?.bucket ?? "",
      key_prefix: backup?.keyPrefix ?? "",
      is_cloud_version: backup?.isCloudVersion ? "true" : "",
      sync_secret: backup?.syncSecret ?? "",
    },
    gpu: gpuTypeOf(spec),
    s3_bucket: spec.storage?.type === "JuiceFS" ? (spec.storage.juicefs?.objectStore.bucket ?? "") : "",
    fs_type: fsTypeOf(spec),
    rootPath,
    sharedlib: `${rootPath}/share`,
  };
}

export interface LauncherInput {
  spec: DefaultedSpec;
  randoms: Readonly<Record<string, string>>;
  /** Annotations of the live bfl StatefulSet: an existing install's *_rand16 win over ours (the upgrade's re-feed). */
  bflAnnotations?: Readonly<Record<string, string>>;
}

function need(randoms: Readonly<Record<string, string>>, key: string): string {
  const v = randoms[key];
  if (!v) throw new Error(`release randoms: ${key} is missing (the controller generates it before rendering)`);
  return v;
}

export function launcherValues({ spec, randoms, bflAnnotations }: LauncherInput): Values {
  const rand = (k: "userspace" | "appcache" | "dbdata") => bflAnnotations?.[`${k}_rand16`] || need(randoms, `launcher.bfl.${k}_rand16`);
  return {
    bfl: {
      nodeport: 30883,
      nodeport_ingress_http: 30083,
      nodeport_ingress_https: 30082,
      username: spec.owner.username,
      admin_user: true,
      appKey: need(randoms, "launcher.bfl.appKey"),
      appSecret: need(randoms, "launcher.bfl.appSecret"),
      userspace_rand16: rand("userspace"),
      appcache_rand16: rand("appcache"),
      dbdata_rand16: rand("dbdata"),
    },
    rootPath: rootPathOf(spec),
  };
}

/** bfl's annotations the upgrade re-feeds (upgradeUserComponents, base.go@01f62215): generated at install. */
export const BFL_UPGRADE_KEYS = ["userspace_rand16", "appcache_rand16", "dbdata_rand16", "userspace_pv", "userspace_pvc", "appcache_pv", "appcache_pvc", "dbdata_pv", "dbdata_pvc"] as const;

/** The launcher's values on upgrade: ours, plus bfl.<key> for every BFL_UPGRADE_KEYS annotation (as the installer reads them). */
export function launcherUpgradeValues(input: LauncherInput & { bflAnnotations: Readonly<Record<string, string>> }): Values {
  const base = launcherValues(input);
  const bfl = { ...(base.bfl as Values) };
  // The *_rand16 already come from the annotations (or our randoms when bfl has none).
  for (const k of BFL_UPGRADE_KEYS) if (!k.endsWith("_rand16")) bfl[k] = input.bflAnnotations[k] ?? "";
  return { ...base, bfl };
}

/** What PrepareAppValues reads from the cluster once the launcher runs. */
export interface BflFacts {
  /** Annotations of StatefulSet user-space-<u>/bfl (userspace_pv, userspace_hostpath, appcache_hostpath, dbdata_hostpath). */
  annotations: Readonly<Record<string, string>>;
  /** spec.nodeName of the tier=bfl pod. */
  nodeName: string;
  /** The node's address for bfl.url (the installer asks checkip.dyndns.org; we use the node's own address). */
  nodeAddress: string;
}

export interface AppsInput {
  spec: DefaultedSpec;
  randoms: Readonly<Record<string, string>>;
  bfl: BflFacts;
  /** $MARKET_PROVIDER for appstore. */
  marketProvider?: string;
}

/** The one values map PrepareAppValues builds and InstallApps passes to every chart under wizard/config/apps. */
export function appsValues({ spec, randoms, bfl, marketProvider }: AppsInput): Values {
  const username = spec.owner.username;
  const userspace = bfl.annotations.userspace_hostpath ?? "";
  const os: Record<string, Values> = {};
  for (const app of BUILT_IN_APPS) {
    os[app] = { appKey: need(randoms, `apps.os.${app}.appKey`), appSecret: need(randoms, `apps.os.${app}.appSecret`), ...(app === "appstore" ? { marketProvider: marketProvider ?? "" } : {}) };
  }
  return {
    bfl: {
      nodeport: 30883,
      nodeport_ingress_http: 30083,
      nodeport_ingress_https: 30082,
      username,
      admin_user: true,
      url: `http://${bfl.nodeAddress}:30883/bfl/apidocs.json`,
      nodeName: bfl.nodeName,
    },
    pvc: { userspace: bfl.annotations.userspace_pv ?? "" },
    userspace: {
      userData: `${userspace}/Home`,
      appData: `${userspace}/Data`,
      appCache: bfl.annotations.appcache_hostpath ?? "",
      dbdata: bfl.annotations.dbdata_hostpath ?? "",
    },
    desktop: { nodeport: 30180 },
    global: { bfl: { username } },
    debugVersion: false,
    gpu: gpuTypeOf(spec),
    fs_type: fsTypeOf(spec),
    os,
    rootPath: rootPathOf(spec),
  };
}

/** hami: InstallPlugin passes an empty map at install and at upgrade. */
export function hamiValues(): Values {
  return {};
}
