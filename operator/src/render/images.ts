// Pinned images for everything that is not versioned with Olares itself.

export const DEFAULT_OPERATOR_IMAGE = "ghcr.io/olares-operator/olares-operator:v0.1.0";
export const NVIDIA_DEVICE_PLUGIN_IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.1";
export const HAMI_IMAGE = "projecthami/hami:v2.5.1";
export const KUBE_SCHEDULER_IMAGE = "registry.k8s.io/kube-scheduler:v1.33.1";
export const LOCAL_PATH_PROVISIONER_IMAGE = "rancher/local-path-provisioner:v0.0.31";
export const BUSYBOX_IMAGE = "busybox:1.37.0";
export const CITUS_IMAGE = "citusdata/citus:12.1.6";
export const NATS_IMAGE = "nats:2.10.29-alpine";
export const KVROCKS_IMAGE = "apache/kvrocks:2.11.1";
export const LLDAP_IMAGE = "lldap/lldap:v0.6.1";

/** beclab images are pinned to the Olares release being installed. */
export function beclabImage(component: string, version: string): string {
  return `beclab/${component}:v${version.replace(/^v/, "")}`;
}
