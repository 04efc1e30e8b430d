// Storage: the layout the host side follows (ConfigMap olares-storage), the local-path provisioner that
// turns <rootPath>/rootfs (a local directory, or the JuiceFS mount) into volumes, and the storage walk:
// JuiceFS on every node, or a live migration between the types (storage-plan.ts), run by the
// StorageMigration hook with the agents.
import type { KubeObject, Stage } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { secretReferencesHook } from "../hooks.js";
import { canonicalJson } from "../../contract/index.js";
import { BUSYBOX_IMAGE, LOCAL_PATH_PROVISIONER_IMAGE } from "../images.js";
import {
  ANNOTATION_CONFIG_HASH,
  LABEL_INSTALLATION,
  LABEL_MANAGED_BY,
  LABEL_NAME,
  LABEL_PART_OF,
  MANAGED_BY,
  NODE_AGENT_NAME,
  STORAGE_CREDENTIALS_SECRET,
  STORAGE_GENERATED_KEYS,
  STORAGE_GENERATED_SECRET,
  SYSTEM_NAMESPACE,
  type GeneratedSecret,
  type StageHook,
  type StorageCredentialsSource,
  type StorageKind,
  type StorageSecretKeyRef,
} from "../../contract/index.js";
import { ownerReference } from "../context.js";
import { MANAGED_MINIO_ROOT_USER, activeStorageType, renderStorageMigrationPlan, renderStorageNodeTasks, rootOf } from "./storage-plan.js";

const STAGE = "Storage" as const;
export const STORAGE_CONFIGMAP = "olares-storage";
export const LOCAL_PATH = "local-path-provisioner";
export const LOCAL_PATH_CONFIGMAP = "local-path-config";
export const LOCAL_PATH_STORAGE_CLASS = "local-path";

export function rootPathOf(ctx: RenderContext): string {
  return rootOf(ctx.spec);
}

/** The directories Olares uses under the root path (same names as olares-cli). */
export function storageLayout(ctx: RenderContext): Record<string, unknown> {
  const root = rootPathOf(ctx);
  const type = ctx.spec.storage.type;
  const layout: Record<string, unknown> = {
    type,
    rootPath: root,
    paths: {
      rootfs: `${root}/rootfs`,
      userdata: `${root}/userdata`,
      share: `${root}/share`,
      localVolumes: `${root}/rootfs/local-path`,
    },
  };
  if (type === "JuiceFS") {
    const jfs = ctx.spec.storage?.juicefs;
    const objectStore = jfs?.objectStore;
    const managedMinio = (objectStore?.type ?? "ManagedMinIO") === "ManagedMinIO";
    const managedRedis = (jfs?.metadata?.type ?? "ManagedRedis") === "ManagedRedis";
    layout.juicefs = {
      name: jfs?.name ?? "rootfs",
      mountPoint: `${root}/rootfs`,
      cache: { dir: jfs!.cache.dir, sizeMiB: jfs!.cache.sizeMiB },
      metadata: managedRedis
        ? { type: "ManagedRedis", dataDir: `${root}/data/redis` }
        : { type: "External", urlSecretRef: jfs?.metadata?.urlSecretRef },
      objectStore: managedMinio
        ? { type: "ManagedMinIO", dataDir: `${root}/data/minio/vol1` }
        : {
            type: objectStore?.type,
            endpoint: objectStore?.endpoint,
            bucket: objectStore?.bucket,
            region: objectStore?.region,
            // only the reference: credentials never appear in a ConfigMap
            credentialsSecretRef: objectStore?.credentialsSecretRef,
          },
    };
  }
  return layout;
}

const LOCAL_PATH_SETUP = `#!/bin/sh
set -eu
mkdir -m 0777 -p "$VOL_DIR"
`;
const LOCAL_PATH_TEARDOWN = `#!/bin/sh
set -eu
rm -rf "$VOL_DIR"
`;
const LOCAL_PATH_HELPER_POD = `apiVersion: v1
kind: Pod
metadata:
  name: helper-pod
spec:
  priorityClassName: system-node-critical
  tolerations:
    - key: node.kubernetes.io/disk-pressure
      operator: Exists
      effect: NoSchedule
  containers:
    - name: helper-pod
      image: ${BUSYBOX_IMAGE}
      imagePullPolicy: IfNotPresent
`;

function localPathObjects(ctx: RenderContext, volumesDir: string): KubeObject[] {
  const sa = `${LOCAL_PATH}`;
  const configData = {
    "config.json": canonicalJson({ nodePathMap: [{ node: "DEFAULT_PATH_FOR_NON_LISTED_NODES", paths: [volumesDir] }] }),
    "helperPod.yaml": LOCAL_PATH_HELPER_POD,
    setup: LOCAL_PATH_SETUP,
    teardown: LOCAL_PATH_TEARDOWN,
  };
  const common = { component: LOCAL_PATH };
  return [
    makeObject(ctx, STAGE, { ...common, apiVersion: "v1", kind: "ServiceAccount", name: sa, namespace: SYSTEM_NAMESPACE, body: {} }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      name: LOCAL_PATH,
      body: {
        rules: [
          { apiGroups: [""], resources: ["configmaps", "nodes", "persistentvolumeclaims", "pods", "pods/log"], verbs: ["get", "list", "watch"] },
          { apiGroups: [""], resources: ["persistentvolumes"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] },
          { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
          { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: ["get", "list", "watch"] },
        ],
      },
    }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      name: LOCAL_PATH,
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: LOCAL_PATH },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: SYSTEM_NAMESPACE }],
      },
    }),
    // helper pods (mkdir/rm of volume dirs) run in the provisioner's namespace
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      name: LOCAL_PATH,
      namespace: SYSTEM_NAMESPACE,
      body: { rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["create", "delete", "get", "list", "patch", "update", "watch"] }] },
    }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      name: LOCAL_PATH,
      namespace: SYSTEM_NAMESPACE,
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: LOCAL_PATH },
        subjects: [{ kind: "ServiceAccount", name: sa, namespace: SYSTEM_NAMESPACE }],
      },
    }),
    makeObject(ctx, STAGE, { ...common, apiVersion: "v1", kind: "ConfigMap", name: LOCAL_PATH_CONFIGMAP, namespace: SYSTEM_NAMESPACE, body: { data: configData } }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: LOCAL_PATH,
      namespace: SYSTEM_NAMESPACE,
      body: {
        spec: {
          replicas: 1,
          selector: { matchLabels: selectorLabels(ctx, LOCAL_PATH) },
          template: {
            metadata: { labels: standardLabels(ctx, STAGE, LOCAL_PATH), annotations: { [ANNOTATION_CONFIG_HASH]: configHash(configData) } },
            spec: {
              serviceAccountName: sa,
              priorityClassName: "system-cluster-critical",
              tolerations: [
                { effect: "NoSchedule", key: "node-role.kubernetes.io/control-plane", operator: "Exists" },
              ],
              containers: [
                {
                  name: "local-path-provisioner",
                  image: LOCAL_PATH_PROVISIONER_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  command: ["local-path-provisioner", "--debug", "start", "--config", "/etc/config/config.json"],
                  env: [
                    { name: "CONFIG_MOUNT_PATH", value: "/etc/config/" },
                    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
                  ],
                  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "128Mi" } },
                  volumeMounts: [{ name: "config-volume", mountPath: "/etc/config/" }],
                },
              ],
              volumes: [{ name: "config-volume", configMap: { name: LOCAL_PATH_CONFIGMAP } }],
            },
          },
        },
      },
    }),
    makeObject(ctx, STAGE, {
      ...common,
      apiVersion: "storage.k8s.io/v1",
      kind: "StorageClass",
      name: LOCAL_PATH_STORAGE_CLASS,
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
      body: { provisioner: "rancher.io/local-path", reclaimPolicy: "Delete", volumeBindingMode: "WaitForFirstConsumer" },
    }),
  ];
}

/** Lets the node agents read the one storage credentials Secret, by name, and nothing else. */
function credentialsReaderObjects(ctx: RenderContext): KubeObject[] {
  const name = "olares-node-agent-storage-credentials";
  return [
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      name,
      namespace: SYSTEM_NAMESPACE,
      component: "olares-storage",
      body: { rules: [{ apiGroups: [""], resources: ["secrets"], resourceNames: [STORAGE_CREDENTIALS_SECRET], verbs: ["get"] }] },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      name,
      namespace: SYSTEM_NAMESPACE,
      component: "olares-storage",
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
        subjects: [{ kind: "ServiceAccount", name: NODE_AGENT_NAME, namespace: SYSTEM_NAMESPACE }],
      },
    }),
  ];
}

function keyRef(field: string, ref: { name: string; namespace?: string }, key: string): StorageSecretKeyRef {
  return { field, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}), key };
}

/** Where the credentials Secret's values come from (generated Secret, the spec's references). */
function credentialsSource(ctx: RenderContext): StorageCredentialsSource | undefined {
  const jfs = ctx.spec.storage?.juicefs;
  if (!jfs) return undefined;
  const store = jfs.objectStore;
  const meta = jfs.metadata;
  const creds = store.type === "ManagedMinIO" ? undefined : store.credentialsSecretRef;
  const f = "spec.storage.juicefs.objectStore.credentialsSecretRef";
  return {
    generated: { namespace: SYSTEM_NAMESPACE, name: STORAGE_GENERATED_SECRET },
    managedRedis: (meta?.type ?? "ManagedRedis") === "ManagedRedis",
    ...(store.type === "ManagedMinIO" ? { managedMinioRootUser: MANAGED_MINIO_ROOT_USER } : {}),
    ...(meta?.type === "External" && meta.urlSecretRef ? { metaUrl: keyRef("spec.storage.juicefs.metadata.urlSecretRef", meta.urlSecretRef, meta.urlSecretRef.key ?? "url") } : {}),
    ...(creds
      ? {
          accessKey: keyRef(`${f}.accessKeyIdKey`, creds, creds.accessKeyIdKey ?? "AWS_ACCESS_KEY_ID"),
          secretKey: keyRef(`${f}.secretAccessKeyKey`, creds, creds.secretAccessKeyKey ?? "AWS_SECRET_ACCESS_KEY"),
          ...(creds.sessionTokenKey ? { sessionToken: keyRef(`${f}.sessionTokenKey`, creds, creds.sessionTokenKey) } : {}),
        }
      : {}),
  };
}

/** The StorageMigration hook's data, and the generated Secret JuiceFS needs. */
function storageHooks(ctx: RenderContext): StageHook[] {
  const nodeTasks = renderStorageNodeTasks(ctx.spec, ctx.facts);
  const migration = renderStorageMigrationPlan(ctx.spec, ctx.facts);
  const activeType = activeStorageType(ctx.spec, ctx.facts);
  const specType = ctx.spec.storage.type as StorageKind;
  const hooks: StageHook[] = [];
  const juicefsInvolved = specType === "JuiceFS" || activeType === "JuiceFS";
  if (juicefsInvolved && ctx.spec.storage?.juicefs) {
    const secret: GeneratedSecret = {
      namespace: SYSTEM_NAMESPACE,
      name: STORAGE_GENERATED_SECRET,
      component: "olares-storage",
      keys: STORAGE_GENERATED_KEYS,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_PART_OF]: "olares", [LABEL_NAME]: "olares-storage", [LABEL_INSTALLATION]: ctx.installationName, "olares.com/generated": "true" },
    };
    hooks.push({ kind: "GeneratedSecrets", secrets: [secret], ownerReferences: [ownerReference(ctx)] });
  }
  const credentials = credentialsSource(ctx);
  hooks.push({
    kind: "StorageMigration",
    storage: {
      root: rootPathOf(ctx),
      activeType,
      specType,
      nodes: [...nodeTasks.entries()].map(([node, tasks]) => ({ node, tasks })),
      ...(migration ? { migration } : {}),
      ...(credentials ? { credentials } : {}),
      labels: { [LABEL_PART_OF]: "olares", [LABEL_NAME]: "olares-storage", [LABEL_INSTALLATION]: ctx.installationName },
      ownerReferences: [ownerReference(ctx)],
    },
  });
  return hooks;
}

export function renderStorage(ctx: RenderContext): Stage {
  const layout = storageLayout(ctx);
  const paths = layout.paths as { localVolumes: string };
  const objects: KubeObject[] = [
    makeObject(ctx, STAGE, {
      apiVersion: "v1",
      kind: "ConfigMap",
      name: STORAGE_CONFIGMAP,
      namespace: SYSTEM_NAMESPACE,
      component: "olares-storage",
      body: { data: { "layout.json": canonicalJson(layout), type: String(layout.type), rootPath: String(layout.rootPath) } },
    }),
    ...localPathObjects(ctx, paths.localVolumes),
    ...(layout.type === "JuiceFS" || activeStorageType(ctx.spec, ctx.facts) === "JuiceFS" ? credentialsReaderObjects(ctx) : []),
  ];
  const hooks = [...secretReferencesHook(ctx, STAGE), ...storageHooks(ctx)];
  return { name: STAGE, objects, hooks, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
