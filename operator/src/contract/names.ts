// Well-known names, labels and annotations every layer shares (see docs/design/api-outline.md).

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

/** Olares' own release host (olaresd and the release artifacts); its checksums are not published. */
export const OLARES_RELEASE_BASE = "https://dc3p1870nn3cj.cloudfront.net";

// ---- cluster DNS as Kubernetes names it ----
export const CLUSTER_DNS_NAMESPACE = "kube-system";
export const CLUSTER_DNS_SERVICE = "kube-dns";
export const KUBE_DNS_LABEL_KEY = "k8s-app";
export const KUBE_DNS_LABEL_VALUE = "kube-dns";

// ---- the Node handshake between the rollout controller and the node agent ----
export const ANNOTATION_DESIRED_CONFIG = "olares.com/desired-config";
export const ANNOTATION_CURRENT_CONFIG = "olares.com/current-config";
export const ANNOTATION_STATE = "olares.com/state";
export const ANNOTATION_REASON = "olares.com/reason";
/** "true"/"false": whether the node was unschedulable before the agent cordoned it (absent: not cordoned by us). */
export const ANNOTATION_WAS_UNSCHEDULABLE = "olares.com/was-unschedulable";
/** Policy the controller copies from spec.nodes onto each node, so a change reaches the agent without a new config. */
export const ANNOTATION_DRIFT_POLICY = "olares.com/drift-policy";
export const ANNOTATION_ALLOW_REBOOT = "olares.com/allow-reboot";
/** When the controller first asked the node for cleanup (RFC 3339), to give up on nodes without an agent. */
export const ANNOTATION_CLEANUP_REQUESTED_AT = "olares.com/cleanup-requested-at";

export const LABEL_GPU_MODEL = "olares.com/gpu.model";
export const LABEL_GPU_DRIVER_VERSION = "olares.com/gpu.driver-version";
export const LABEL_GPU_CUDA_VERSION = "olares.com/gpu.cuda-version";
/** The labels Olares's own charts and UI select GPU nodes by (olares-cli cli/pkg/gpu/types.go@7a80d70b). */
export const LABEL_BYTETRADE_GPU_DRIVER = "gpu.bytetrade.io/driver";
export const LABEL_BYTETRADE_GPU_CUDA = "gpu.bytetrade.io/cuda";
export const LABEL_BYTETRADE_GPU_CUDA_SUPPORTED = "gpu.bytetrade.io/cuda-supported";
export const DEFAULT_SKIP_LABEL = "olares.com/skip-config";

/** The desired-config value that asks the agent to undo everything it applied. */
export const CLEANUP_CONFIG = "cleanup";
export const NODE_CONFIG_PREFIX = "olares-node-config-";
export const NODE_CONFIG_KEY = "config.json";
/** Node annotations stay short enough to read in `kubectl describe`. */
export const MAX_REASON_LENGTH = 512;
