// Storage: the layout the host side follows (ConfigMap olares-storage) and the local-path
// provisioner that turns <rootPath>/rootfs (a local directory, or the JuiceFS mount) into volumes.
import type { KubeObject, Stage } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, standardLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { secretReferencesHook } from "../hooks.js";
import { canonicalJson } from "../../contract/index.js";
import { BUSYBOX_IMAGE, LOCAL_PATH_PROVISIONER_IMAGE } from "../images.js";
import { ANNOTATION_CONFIG_HASH, SYSTEM_NAMESPACE } from "../../contract/index.js";

const STAGE = "Storage" as const;
export const STORAGE_CONFIGMAP = "olares-storage";
export const LOCAL_PATH = "local-path-provisioner";
export const LOCAL_PATH_CONFIGMAP = "local-path-config";
export const LOCAL_PATH_STORAGE_CLASS = "local-path";

export function rootPathOf(ctx: RenderContext): string {
  return (ctx.spec.storage?.rootPath ?? "/olares").replace(/\/+$/, "") || "/";
}

/** The directories Olares uses under the root path (same names as olares-cli). */
export function storageLayout(ctx: RenderContext): Record<string, unknown> {
  const root = rootPathOf(ctx);
  const type = ctx.spec.storage?.type ?? "LocalFS";
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
      cache: { dir: jfs?.cache?.dir ?? `${root}/jfscache`, sizeMiB: jfs?.cache?.sizeMiB ?? 102400 },
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
  ];
  const hooks = secretReferencesHook(ctx, STAGE);
  if (layout.type === "JuiceFS") return { name: STAGE, objects, hooks, ready: () => JUICEFS_NOT_AVAILABLE };
  return { name: STAGE, objects, hooks, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}

/**
 * The API accepts JuiceFS (the CRD is the contract), but the host side (managed Redis/MinIO, format,
 * mount, data migration) is not in this release. Say so instead of reporting Ready with data on local
 * disk: the walk stops here, nothing on the hosts' storage is touched, and earlier objects stay.
 */
export const JUICEFS_NOT_AVAILABLE = {
  ready: false,
  degraded: true,
  reason: "JuiceFSNotAvailable",
  message:
    "storage.type JuiceFS is accepted by the API, but this operator release does not yet set up JuiceFS on hosts " +
    "(Redis, MinIO, juicefs mount) or migrate data; nothing was changed on the hosts' storage. Use storage.type LocalFS.",
} as const;
