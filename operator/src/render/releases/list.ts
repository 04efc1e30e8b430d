// The ordered list of Helm releases of the Olares release, as olares-cli installs them
// (cli/pkg/phase/cluster/linux.go@f5810a44, 1.12-era): hami (GPU on) → account → settings → os-platform →
// os-framework → launcher-<user> → every chart under wizard/config/apps. (SystemEnv and user-env sit between
// settings and os-platform; velero is not a chart.) Pure: chart digests and facts come in.
import { merge } from "ts-deepmerge";
import type { OlaresInstallationSpec } from "../../api/index.js";
import type { ChartRelease } from "../../contract/chart-release.js";
import { sortKeysDeep } from "../../contract/canonical.js";
import { WIZARD_CHART_DIRS } from "../../contract/release/layout.js";
import { RenderError } from "../render-error.js";
import {
  accountValues,
  appsValues,
  hamiValues,
  launcherValues,
  osSystemValues,
  settingsValues,
  type BflFacts,
  type Values,
} from "./values.js";

export type ReleasePhase = "gpu" | "account" | "settings" | "os-platform" | "os-framework" | "launcher" | "apps";

export interface ReleaseEntry {
  phase: ReleasePhase;
  /** spec.coreServices key that overrides this release. */
  key: string;
  optional: boolean;
  release: ChartRelease;
}

/** The unpacked release as the controller found it: where, and the digest of every chart directory. */
export interface ReleaseSource {
  /** <base>/versions/v<ver>, as helm sees it. */
  installerDir: string;
  /** Chart dir relative to installerDir (e.g. "wizard/config/account") → digest. */
  charts: Readonly<Record<string, string>>;
}

export interface ReleaseListInput {
  spec: OlaresInstallationSpec;
  source: ReleaseSource;
  ownerPassword: string;
  randoms: Readonly<Record<string, string>>;
  /** Nodes with an NVIDIA GPU (hami goes in with GPU "true", or "auto" and at least one). */
  gpuNodes: number;
  natGatewayIp?: string;
  /** The live bfl StatefulSet's annotations (re-fed *_rand16). */
  bflAnnotations?: Readonly<Record<string, string>>;
  /** Needed for the apps: absent until the launcher runs, then the list stops before the apps. */
  bfl?: BflFacts;
  /** The upgrade's final settings run passes the new version. */
  settingsVersion?: string;
}

export interface ReleaseList {
  entries: ReleaseEntry[];
  /** The list stops here until a fact exists (the apps need the running bfl). */
  waiting?: { key: string; reason: string };
}

/** A RenderError (field + rule), so plan, validate and the controller report it the same way. */
export class ReleaseRenderError extends RenderError {}

interface Override {
  enabled?: boolean;
  values?: Values;
  [k: string]: unknown;
}

const REQUIRED_KEYS = ["account", "settings", "os-platform", "os-framework", "launcher"] as const;

export function appDirsOf(source: ReleaseSource): string[] {
  const prefix = `${WIZARD_CHART_DIRS.apps}/`;
  return Object.keys(source.charts)
    .filter((d) => d.startsWith(prefix) && !d.slice(prefix.length).includes("/"))
    .map((d) => d.slice(prefix.length))
    .sort();
}

/** The keys spec.coreServices accepts for this release. */
export function overridableKeys(source: ReleaseSource): string[] {
  return [...REQUIRED_KEYS, "hami", ...appDirsOf(source)];
}

/** Checks spec.coreServices against the release (throws ReleaseRenderError naming the field). */
export function validateReleaseOverrides(spec: OlaresInstallationSpec, source: ReleaseSource): void {
  overridesOf(spec, source);
}

function overridesOf(spec: OlaresInstallationSpec, source: ReleaseSource): Record<string, Override> {
  const all = (spec.coreServices ?? {}) as Record<string, Override>;
  const known = overridableKeys(source);
  for (const [key, o] of Object.entries(all)) {
    const field = `spec.coreServices.${key}`;
    if (!known.includes(key)) throw new ReleaseRenderError(field, `not a release of Olares ${spec.version}; known: ${known.join(", ")}`);
    for (const legacy of ["image", "replicas", "resources"] as const) {
      if (o[legacy] !== undefined) throw new ReleaseRenderError(`${field}.${legacy}`, `not supported: releases take chart values; set the chart's own key under ${field}.values`);
    }
    if (o.enabled === false && (REQUIRED_KEYS as readonly string[]).includes(key)) {
      throw new ReleaseRenderError(`${field}.enabled`, `${key} is required by Olares and cannot be disabled`);
    }
  }
  return all;
}

function chartOf(source: ReleaseSource, dir: string, version: string): { path: string; digest: string } {
  const digest = source.charts[dir];
  if (!digest) throw new ReleaseRenderError("spec.version", `the Olares ${version} release has no chart ${dir}`);
  return { path: `${source.installerDir.replace(/\/+$/, "")}/${dir}`, digest };
}

function withOverride(values: Values, o: Override | undefined): Values {
  const merged = o?.values ? (merge.withOptions({ mergeArrays: false }, values, o.values) as Values) : values;
  return sortKeysDeep(merged);
}

export function gpuReleaseWanted(spec: OlaresInstallationSpec, gpuNodes: number): boolean {
  const mode = spec.gpu?.enabled ?? "auto";
  return mode === "true" || (mode === "auto" && gpuNodes > 0);
}

export function renderReleaseList(input: ReleaseListInput): ReleaseList {
  const { spec, source } = input;
  const o = overridesOf(spec, source);
  const username = spec.owner.username;
  const userNs = `user-space-${username}`;
  const entries: ReleaseEntry[] = [];
  const add = (phase: ReleasePhase, key: string, name: string, namespace: string, dir: string, values: Values, optional = false) => {
    if (o[key]?.enabled === false) return;
    entries.push({ phase, key, optional, release: { name, namespace, chart: chartOf(source, dir, spec.version), values: withOverride(values, o[key]) } });
  };

  if (gpuReleaseWanted(spec, input.gpuNodes)) add("gpu", "hami", "hami", "kube-system", WIZARD_CHART_DIRS.hami, hamiValues(), true);
  add("account", "account", "account", "default", WIZARD_CHART_DIRS.account, accountValues({ spec, ownerPassword: input.ownerPassword, natGatewayIp: input.natGatewayIp }));
  add("settings", "settings", "settings", "default", WIZARD_CHART_DIRS.settings, settingsValues({ spec, version: input.settingsVersion }));
  const os = osSystemValues({ spec });
  add("os-platform", "os-platform", "os-platform", "os-platform", WIZARD_CHART_DIRS.osPlatform, os);
  add("os-framework", "os-framework", "os-framework", "os-framework", WIZARD_CHART_DIRS.osFramework, os);
  add("launcher", "launcher", `launcher-${username}`, userNs, WIZARD_CHART_DIRS.launcher, launcherValues({ spec, randoms: input.randoms, bflAnnotations: input.bflAnnotations }));

  const apps = appDirsOf(source).filter((a) => o[a]?.enabled !== false);
  if (apps.length === 0) return { entries };
  if (!input.bfl) return { entries, waiting: { key: "apps", reason: `the apps need StatefulSet ${userNs}/bfl and its pod (PrepareAppValues reads them)` } };
  const appValues = appsValues({ spec, randoms: input.randoms, bfl: input.bfl });
  for (const app of apps) add("apps", app, app, userNs, `${WIZARD_CHART_DIRS.apps}/${app}`, appValues, true);
  return { entries };
}

export function releasesOf(list: ReleaseList): ChartRelease[] {
  return list.entries.map((e) => e.release);
}
