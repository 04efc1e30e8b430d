// Well-known names shared by everything the operator renders (see docs/design/api-outline.md).

export const API_GROUP = "olares.com";
export const API_VERSION = "olares.com/v1alpha1";
export const KIND = "OlaresInstallation";
export const PLURAL = "olaresinstallations";

export const SYSTEM_NAMESPACE = "olares-system";
export const FRAMEWORK_NAMESPACE = "os-framework";

export const FINALIZER = "olares.com/host-cleanup";

export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const LABEL_PART_OF = "app.kubernetes.io/part-of";
export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_VERSION = "app.kubernetes.io/version";
export const LABEL_INSTALLATION = "olares.com/installation";
export const LABEL_STAGE = "olares.com/stage";
export const MANAGED_BY = "olares-operator";

/** Hash of the rendered object; a changed hash means the object must be re-applied. */
export const ANNOTATION_RENDER_HASH = "olares.com/render-hash";
/** Pod-template annotation that rolls pods when a mounted ConfigMap changes. */
export const ANNOTATION_CONFIG_HASH = "olares.com/config-hash";

export const LABEL_GPU_NVIDIA = "olares.com/gpu.nvidia";
export const NODE_AGENT_NAME = "olares-node-agent";
/** Port of the node agent's health endpoint (hostNetwork, so it is a host port). */
export const NODE_AGENT_HEALTH_PORT = 18099;

/** Secrets the controller generates once (render only references them). */
export const OWNER_PASSWORD_SECRET = "olares-owner-password";
export const CORE_CREDENTIALS_SECRET = "olares-core-credentials";

/** Placeholder owner uid for offline rendering (`plan`). */
export const OFFLINE_OWNER_UID = "00000000-0000-0000-0000-000000000000";
export const DEFAULT_INSTALLATION_NAME = "olares";
