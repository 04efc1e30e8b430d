// The ordered list of Helm releases of the Olares release, as olares-cli installs them
// (cli/pkg/phase/cluster/linux.go@f5810a44, 1.12-era): hami (GPU on) → account → settings → os-platform →
// os-framework → launcher-<user> → every chart under wizard/config/apps. (SystemEnv and user-env sit between
// settings and os-platform; velero is not a chart.) And as `olares-cli upgrade` re-applies them
// (cli/pkg/upgrade/base.go@01f62215): hami → settings → os-platform → os-framework → launcher → apps, all
// but hami with --reuse-values, then settings again with the new version. Pure: digests and facts come in.
import { merge } from "ts-deepmerge";
import type { DefaultedSpec } from "../../api/index.js";
import type { ChartRelease } from "../../contract/chart-release.js";
import { sortKeysDeep } from "../../contract/canonical.js";
import { WIZARD_CHART_DIRS } from "../../contract/release/layout.js";
import { releaseInputHash } from "../../contract/release/records.js";
import { RenderError } from "../render-error.js";
import {
  BFL_UPGRADE_KEYS,
  accountValues,
  appsValues,
  hamiValues,
  launcherUpgradeValues,
  launcherValues,
  osSystemValues,
  settingsValues,
  type BflFacts,
  type Values,
} from "./values.js";

/** "version": the upgrade's last step, settings again with the new version (UpdateOlaresVersion). */
export type ReleasePhase = "gpu" | "account" | "settings" | "os-platform" | "os-framework" | "launcher" | "apps" | "velero" | "version";

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
  spec: DefaultedSpec;
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
  /** The owner completed the wizard: the upgrade skips the wizard app (upgradeUserComponents). */
  ownerActivated?: boolean;
  /** The install phase ran once (the installation was Ready): with ownerActivated, the wizard app is BFL's to remove. */
  installCompleted?: boolean;
  /** Helm still holds the wizard app (BFL removes it some time after activation). */
  wizardInstalled?: boolean;
}

export interface UpgradeListInput extends ReleaseListInput {
  /** The version installed now (Terminus spec.version). */
  from: string;
  /** Users other than the owner (olares-cli's upgrade re-installs each one's launcher and apps). */
  otherUsers?: ReadonlyArray<{ name: string; bflAnnotations: Readonly<Record<string, string>>; wizardCompleted: boolean }>;
}

export interface ReleaseList {
  entries: ReleaseEntry[];
  /** The list stops here until a fact exists (the apps need the running bfl). */
  waiting?: { key: string; reason: string };
  /**
   * Releases the list does not apply but that are never uninstalled for it: the wizard app once the owner
   * activated (BFL removes it then; the installer applies it once, at install).
   */
  retained?: Array<{ name: string; namespace: string }>;
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
  return [...REQUIRED_KEYS, "hami", "velero", ...appDirsOf(source)];
}

/** Checks spec.coreServices against the release (throws ReleaseRenderError naming the field). */
export function validateReleaseOverrides(spec: DefaultedSpec, source: ReleaseSource): void {
  overridesOf(spec, source);
}

function overridesOf(spec: DefaultedSpec, source: ReleaseSource): Record<string, Override> {
  const all = (spec.coreServices ?? {}) as Record<string, Override>;
  const known = overridableKeys(source);
  for (const [key, o] of Object.entries(all)) {
    const field = `spec.coreServices.${key}`;
    if (!known.includes(key)) throw new ReleaseRenderError(field, `not a release of Olares ${spec.version}; known: ${known.join(", ")}`);
    for (const legacy of ["image", "replicas", "resources"] as const) {
      if (o[legacy] !== undefined) throw new ReleaseRenderError(`${field}.${legacy}`, `not supported: releases take chart values; set the chart's own key under ${field}.values`);
    }
    // velero is not a chart: `velero install` takes the installer's flags (only enabled applies).
    if (key === "velero" && o.values !== undefined) throw new ReleaseRenderError(`${field}.values`, "not supported: velero is installed by its CLI with the installer's flags, not from a chart; only enabled applies");
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

export function gpuReleaseWanted(spec: DefaultedSpec, gpuNodes: number): boolean {
  const mode = spec.gpu.enabled;
  return mode === "true" || (mode === "auto" && gpuNodes > 0);
}

/** Appends entries, honouring spec.coreServices (enabled: false drops an optional release, values merge in). */
function listBuilder(spec: DefaultedSpec, source: ReleaseSource) {
  const o = overridesOf(spec, source);
  const entries: ReleaseEntry[] = [];
  const add = (phase: ReleasePhase, key: string, name: string, namespace: string, dir: string, values: Values, extra: { optional?: boolean; reuseValues?: boolean; alsoCurrent?: Values[]; chartIndependent?: boolean } = {}) => {
    if (o[key]?.enabled === false) return;
    const chart = chartOf(source, dir, spec.version);
    const also = (extra.alsoCurrent ?? []).map((v) => releaseInputHash({ chart, values: withOverride(v, o[key]) }));
    // Applied once per install: an upgrade that re-applied it with its new chart is current too.
    if (extra.chartIndependent) also.push(releaseInputHash({ chart, values: withOverride(values, o[key]) }));
    entries.push({
      phase,
      key,
      optional: extra.optional ?? false,
      release: {
        name,
        namespace,
        chart,
        values: withOverride(values, o[key]),
        ...(extra.reuseValues ? { reuseValues: true } : {}),
        ...(also.length ? { alsoCurrent: also } : {}),
        ...(extra.chartIndependent ? { chartIndependent: true } : {}),
      },
    });
  };
  const apps = (activated: boolean | undefined) => appDirsOf(source).filter((a) => o[a]?.enabled !== false && !(activated && a === "wizard"));
  return { entries, add, apps };
}

/** The wizard app after activation: not applied, not pruned (BFL owns its removal). */
function wizardRetained(input: ReleaseListInput, userNs: string): Pick<ReleaseList, "retained"> {
  const o = (input.spec.coreServices ?? {}) as Record<string, Override>;
  if (!input.ownerActivated || !appDirsOf(input.source).includes("wizard") || o.wizard?.enabled === false) return {};
  return { retained: [{ name: "wizard", namespace: userNs }] };
}

export function renderReleaseList(input: ReleaseListInput): ReleaseList {
  const { spec, source } = input;
  const { entries, add, apps: appsOf } = listBuilder(spec, source);
  const username = spec.owner.username;
  const userNs = `user-space-${username}`;
  const settings = settingsValues({ spec });
  const launcher = { spec, randoms: input.randoms, bflAnnotations: input.bflAnnotations };

  if (gpuReleaseWanted(spec, input.gpuNodes)) add("gpu", "hami", "hami", "kube-system", WIZARD_CHART_DIRS.hami, hamiValues(), { optional: true });
  // account: the upgrade never re-applies it, so a new release's chart alone does not either.
  add("account", "account", "account", "default", WIZARD_CHART_DIRS.account, accountValues({ spec, ownerPassword: input.ownerPassword, natGatewayIp: input.natGatewayIp }), { chartIndependent: true });
  // What an upgrade's last step left (the same settings, plus the version) is current too.
  add("settings", "settings", "settings", "default", WIZARD_CHART_DIRS.settings, settings, { alsoCurrent: [{ ...settings, version: spec.version }] });
  const os = osSystemValues({ spec });
  add("os-platform", "os-platform", "os-platform", "os-platform", WIZARD_CHART_DIRS.osPlatform, os);
  add("os-framework", "os-framework", "os-framework", "os-framework", WIZARD_CHART_DIRS.osFramework, os);
  add("launcher", "launcher", `launcher-${username}`, userNs, WIZARD_CHART_DIRS.launcher, launcherValues(launcher), {
    ...(input.bflAnnotations ? { alsoCurrent: [launcherUpgradeValues({ ...launcher, bflAnnotations: input.bflAnnotations })] } : {}),
  });

  // The install applies every app, the wizard included (the owner activates in it); once the install ran
  // and the owner activated, BFL removes the wizard and nothing brings it back (nor uninstalls it first).
  const wizardGone = Boolean(input.ownerActivated && input.installCompleted && !input.wizardInstalled);
  const apps = appsOf(wizardGone);
  const retained = wizardGone ? wizardRetained(input, userNs) : {};
  if (apps.length === 0) return { entries, ...retained };
  if (!input.bfl) return { entries, ...retained, waiting: { key: "apps", reason: `the apps need StatefulSet ${userNs}/bfl and its pod (PrepareAppValues reads them)` } };
  const appValues = appsValues({ spec, randoms: input.randoms, bfl: input.bfl });
  for (const app of apps) add("apps", app, app, userNs, `${WIZARD_CHART_DIRS.apps}/${app}`, appValues, { optional: true, ...(app === "wizard" ? { chartIndependent: true } : {}) });
  return { entries, ...retained };
}

/**
 * The releases `olares-cli upgrade` re-applies, in its order (UpgradeSystemComponents, then
 * UpgradeUserComponents, then UpdateOlaresVersion): account is not re-applied; every chart but hami with
 * --reuse-values (our values on top of the previous revision's); the launcher re-fed the *_rand16 and
 * PV/PVC names from bfl's annotations; the wizard app skipped once the owner activated; settings last with
 * the new version, so a failed upgrade leaves Terminus on the old one and can be re-entered.
 */
export function renderUpgradeList(input: UpgradeListInput): ReleaseList {
  const { spec, source } = input;
  const { entries, add, apps: appsOf } = listBuilder(spec, source);
  const username = spec.owner.username;
  const userNs = `user-space-${username}`;
  const reuse = { reuseValues: true };
  const settings = settingsValues({ spec });
  const final = settingsValues({ spec, version: spec.version });

  if (gpuReleaseWanted(spec, input.gpuNodes)) add("gpu", "hami", "hami", "kube-system", WIZARD_CHART_DIRS.hami, hamiValues(), { optional: true });
  add("settings", "settings", "settings", "default", WIZARD_CHART_DIRS.settings, settings, { ...reuse, alsoCurrent: [final] });
  const os = osSystemValues({ spec });
  add("os-platform", "os-platform", "os-platform", "os-platform", WIZARD_CHART_DIRS.osPlatform, os, reuse);
  add("os-framework", "os-framework", "os-framework", "os-framework", WIZARD_CHART_DIRS.osFramework, os, reuse);
  if (!input.bfl) return { entries, waiting: { key: "launcher", reason: `the upgrade re-feeds the launcher from StatefulSet ${userNs}/bfl, which is not running` } };
  add("launcher", "launcher", `launcher-${username}`, userNs, WIZARD_CHART_DIRS.launcher, launcherUpgradeValues({ spec, randoms: input.randoms, bflAnnotations: input.bfl.annotations }), reuse);
  const appValues = appsValues({ spec, randoms: input.randoms, bfl: input.bfl });
  for (const app of appsOf(input.ownerActivated)) add("apps", app, app, userNs, `${WIZARD_CHART_DIRS.apps}/${app}`, appValues, { optional: true, ...reuse });
  // Every other user, as upgradeUserComponents: launcher-<u> with --reuse-values and only its bfl's
  // *_rand16 and PV/PVC names, then its apps as <app>-<u> with --reuse-values and no values (the wizard
  // skipped once that user completed it). Owner first, the others by name.
  for (const u of [...(input.otherUsers ?? [])].filter((x) => x.name !== username).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const ns = `user-space-${u.name}`;
    const bfl = Object.fromEntries(BFL_UPGRADE_KEYS.map((k) => [k, u.bflAnnotations[k] ?? ""]));
    add("launcher", "launcher", `launcher-${u.name}`, ns, WIZARD_CHART_DIRS.launcher, { bfl }, reuse);
    for (const app of appsOf(u.wizardCompleted)) add("apps", app, `${app}-${u.name}`, ns, `${WIZARD_CHART_DIRS.apps}/${app}`, {}, { optional: true, ...reuse });
  }
  add("version", "settings", "settings", "default", WIZARD_CHART_DIRS.settings, final, reuse);
  return { entries, ...wizardRetained(input, userNs) };
}

export function releasesOf(list: ReleaseList): ChartRelease[] {
  return list.entries.map((e) => e.release);
}
