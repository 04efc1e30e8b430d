// CoreServices: the Olares core components in os-framework, with per-component overrides
// (enabled/image/replicas/resources; `values` deep-merged onto each component's defaults).
import { merge } from "ts-deepmerge";
import { stringify } from "yaml";
import type { KubeObject, Stage } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { sortKeysDeep, sortedEntries } from "../../contract/index.js";
import { ANNOTATION_CONFIG_HASH, CORE_CREDENTIALS_SECRET, FRAMEWORK_NAMESPACE } from "../../contract/index.js";
import { CORE_COMPONENTS, CORE_COMPONENT_NAMES, type ComponentDefinition, type ComponentResources, type Values } from "./core-catalog.js";
import { LOCAL_PATH_STORAGE_CLASS } from "./storage.js";

const STAGE = "CoreServices" as const;

export interface ComponentOverride {
  enabled?: boolean;
  image?: string;
  replicas?: number;
  resources?: ComponentResources;
  values?: Values;
}

export class RenderError extends Error {
  override readonly name = "RenderError";
  constructor(readonly field: string, readonly rule: string) {
    super(`${field}: ${rule}`);
  }
}

function overridesOf(ctx: RenderContext): Record<string, ComponentOverride> {
  const overrides = (ctx.spec.coreServices ?? {}) as Record<string, ComponentOverride>;
  for (const name of Object.keys(overrides)) {
    if (!CORE_COMPONENT_NAMES.includes(name)) {
      throw new RenderError(`spec.coreServices.${name}`, `unknown component; known components: ${CORE_COMPONENT_NAMES.join(", ")}`);
    }
  }
  return overrides;
}

/** The component's defaults with the user's values deep-merged on top (arrays are replaced, not appended). */
export function mergedValues(ctx: RenderContext, def: ComponentDefinition, override: ComponentOverride | undefined): Values {
  const defaults = def.values({ domain: ctx.spec.owner?.domain ?? "olares.com", username: ctx.spec.owner.username });
  const merged = override?.values ? merge.withOptions({ mergeArrays: false }, defaults, override.values) : defaults;
  return sortKeysDeep(merged as Values);
}

function containerEnv(def: ComponentDefinition, values: Values): unknown[] {
  const plain = sortedEntries((values.env as Record<string, unknown> | undefined) ?? {}).map(([name, value]) => ({ name, value: String(value) }));
  const secret = sortedEntries(def.secretEnv).map(([name, key]) => ({
    name,
    valueFrom: { secretKeyRef: { name: CORE_CREDENTIALS_SECRET, key } },
  }));
  return [...plain, ...secret].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function componentObjects(ctx: RenderContext, def: ComponentDefinition, override: ComponentOverride | undefined): KubeObject[] {
  const values = mergedValues(ctx, def, override);
  const valuesName = `${def.name}-values`;
  const valuesData = { "values.yaml": stringify(values, { sortMapEntries: true }) };
  const common = { namespace: FRAMEWORK_NAMESPACE, component: def.name };
  const selector = selectorLabels(ctx, def.name);
  const mainPort = def.ports[0]!;
  const statefulSet = def.kind === "StatefulSet";
  const mounts: unknown[] = [{ name: "values", mountPath: `/etc/olares/${def.name}`, readOnly: true }];
  if (def.dataPath) mounts.push({ name: "data", mountPath: def.dataPath });
  const podSpec = {
    enableServiceLinks: false,
    containers: [
      {
        name: def.name,
        image: override?.image ?? def.image(ctx.spec.version),
        imagePullPolicy: "IfNotPresent",
        ...(def.args ? { args: def.args(values) } : {}),
        env: containerEnv(def, values),
        ports: def.ports.map((p) => ({ name: p.name, containerPort: p.port, protocol: "TCP" })),
        readinessProbe: { tcpSocket: { port: mainPort.name }, periodSeconds: 10, failureThreshold: 3 },
        resources: override?.resources ?? def.resources,
        volumeMounts: mounts,
      },
    ],
    volumes: [{ name: "values", configMap: { name: valuesName } }],
  };
  const template = {
    metadata: { labels: standardLabels(ctx, STAGE, def.name), annotations: { [ANNOTATION_CONFIG_HASH]: configHash(valuesData) } },
    spec: podSpec,
  };
  const replicas = override?.replicas ?? def.replicas;
  const workloadSpec: Record<string, unknown> = statefulSet
    ? {
        replicas,
        serviceName: def.name,
        selector: { matchLabels: selector },
        template,
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: LOCAL_PATH_STORAGE_CLASS,
              resources: { requests: { storage: String((values.storage as Values | undefined)?.size ?? "10Gi") } },
            },
          },
        ],
      }
    : { replicas, selector: { matchLabels: selector }, template };
  return [
    makeObject(ctx, STAGE, { ...common, apiVersion: "v1", kind: "ConfigMap", name: valuesName, body: { data: valuesData } }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "v1",
      kind: "Service",
      name: def.name,
      body: {
        spec: {
          ...(statefulSet ? { clusterIP: "None" } : {}),
          selector,
          ports: def.ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.name, protocol: "TCP" })),
        },
      },
    }),
    makeObject(ctx, STAGE, { ...common, apiVersion: "apps/v1", kind: def.kind, name: def.name, body: { spec: workloadSpec } }),
  ];
}

function enabledComponents(ctx: RenderContext): ComponentDefinition[] {
  const overrides = overridesOf(ctx);
  return CORE_COMPONENTS.filter((def) => overrides[def.name]?.enabled !== false);
}

/** Whether the CoreServices stage renders at all (some component is enabled). */
export function coreServicesEnabled(ctx: RenderContext): boolean {
  return enabledComponents(ctx).length > 0;
}

export function renderCoreServices(ctx: RenderContext): Stage | undefined {
  const overrides = overridesOf(ctx);
  const enabled = enabledComponents(ctx);
  if (enabled.length === 0) return undefined;
  const objects = enabled.flatMap((def) => componentObjects(ctx, def, overrides[def.name]));
  return { name: STAGE, objects, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
