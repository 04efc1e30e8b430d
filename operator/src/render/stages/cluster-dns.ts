// ClusterDNS: CoreDNS behind Service kube-system/kube-dns, shaped like K3s's own addon, for clusters
// that have no DNS of their own (the bootstrap runs K3s with --disable=coredns, as olares-cli does).
// Runs after NodeConfig: CoreDNS forwards through the node's resolv.conf and pulls through the
// registry mirrors, both written by the node config. Nothing before CoreServices needs cluster DNS.
import type { ClusterDNSSpec } from "../../api/index.js";
import type { KubeObject, ObservedState, Readiness, Stage } from "../../contract/index.js";
import { configHash, makeObject, selectorLabels, type RenderContext } from "../context.js";
import { objectsReadiness } from "../readiness.js";
import { ANNOTATION_CONFIG_HASH, CLUSTER_DNS_NAMESPACE, CLUSTER_DNS_SERVICE, KUBE_DNS_LABEL_KEY, KUBE_DNS_LABEL_VALUE } from "../../contract/index.js";
import { RenderError } from "../render-error.js";

export { CLUSTER_DNS_NAMESPACE, CLUSTER_DNS_SERVICE, KUBE_DNS_LABEL_KEY, KUBE_DNS_LABEL_VALUE };

const STAGE = "ClusterDNS" as const;

/** K3s's default cluster DNS address (its kubelets' --cluster-dns): used when the Service range is not observed (offline plan). */
export const DEFAULT_CLUSTER_DNS_IP = "10.43.0.10";
/** kubeadm and K3s give kube-dns the 10th address of the Service range; Service default/kubernetes holds the 1st. */
const DNS_INDEX_AFTER_KUBERNETES = 9n;
/** The CoreDNS image K3s v1.33 ships (in its airgap images, so airgapped nodes already hold it). */
export const COREDNS_IMAGE = "rancher/mirrored-coredns-coredns:1.12.3";
export const COREDNS_NAME = "coredns";
/** Optional ConfigMap with *.override / *.server snippets, the extension point K3s users know. */
export const COREDNS_CUSTOM_CONFIGMAP = "coredns-custom";
const RBAC_NAME = "olares-coredns";
const CLUSTER_DOMAIN = "cluster.local";
const COMPONENT = "coredns";

export type ClusterDNSMode = NonNullable<ClusterDNSSpec["mode"]>;

/** What CoreDNS needs to serve cluster.local (K3s's system:coredns rules). */
export const COREDNS_CLUSTER_RULES = [
  { apiGroups: [""], resources: ["endpoints", "services", "pods", "namespaces"], verbs: ["list", "watch"] },
  { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
];

const IPV4 = /^((25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;
const IPV6 = /^[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}$/;

/** The values land in a Corefile and a Service: only IP literals (the CRD checks this too). */
function ipLiteral(field: string, value: string): string {
  if (!IPV4.test(value) && !IPV6.test(value)) throw new RenderError(field, `must be an IPv4 or IPv6 address literal, got "${value}"`);
  return value;
}

export function corefile(upstreams: string[]): string {
  const forward = upstreams.length ? upstreams.join(" ") : "/etc/resolv.conf";
  return [
    ".:53 {",
    "    errors",
    "    health {",
    "        lameduck 5s",
    "    }",
    "    ready",
    `    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {`,
    "        pods insecure",
    "        fallthrough in-addr.arpa ip6.arpa",
    "    }",
    "    prometheus :9153",
    `    forward . ${forward}`,
    "    cache 30",
    "    loop",
    "    reload",
    "    loadbalance",
    "    import /etc/coredns/custom/*.override",
    "}",
    "import /etc/coredns/custom/*.server",
    "",
  ].join("\n");
}

function coreDnsObjects(ctx: RenderContext, clusterIP: string, upstreams: string[]): KubeObject[] {
  const ns = CLUSTER_DNS_NAMESPACE;
  const dnsLabels = { [KUBE_DNS_LABEL_KEY]: KUBE_DNS_LABEL_VALUE, "kubernetes.io/name": "CoreDNS" };
  const podSelector = { [KUBE_DNS_LABEL_KEY]: KUBE_DNS_LABEL_VALUE, ...selectorLabels(ctx, COMPONENT) };
  const config = { Corefile: corefile(upstreams) };
  // Forwarding through the node's resolv.conf: a pod reads it once, so roll when spec.os.dns changes it.
  const nodeNameservers = upstreams.length ? [] : (ctx.spec.os?.dns?.nameservers ?? []);
  const meta = { namespace: ns, component: COMPONENT };
  return [
    makeObject(ctx, STAGE, { apiVersion: "v1", kind: "ServiceAccount", name: COREDNS_NAME, ...meta, body: {} }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      name: RBAC_NAME,
      component: COMPONENT,
      body: { rules: COREDNS_CLUSTER_RULES },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      name: RBAC_NAME,
      component: COMPONENT,
      body: {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: RBAC_NAME },
        subjects: [{ kind: "ServiceAccount", name: COREDNS_NAME, namespace: ns }],
      },
    }),
    makeObject(ctx, STAGE, { apiVersion: "v1", kind: "ConfigMap", name: COREDNS_NAME, ...meta, body: { data: config } }),
    makeObject(ctx, STAGE, {
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: COREDNS_NAME,
      ...meta,
      labels: dnsLabels,
      body: {
        spec: {
          replicas: 1,
          // a single replica: start the new pod before stopping the old, so lookups never go dark
          strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
          selector: { matchLabels: podSelector },
          template: {
            metadata: { labels: podSelector, annotations: { [ANNOTATION_CONFIG_HASH]: configHash({ config, nodeNameservers }) } },
            spec: {
              serviceAccountName: COREDNS_NAME,
              priorityClassName: "system-cluster-critical",
              // CoreDNS resolves upstream names through the node's resolver, never through itself
              dnsPolicy: "Default",
              nodeSelector: { "kubernetes.io/os": "linux" },
              tolerations: [
                { key: "CriticalAddonsOnly", operator: "Exists" },
                { key: "node-role.kubernetes.io/control-plane", operator: "Exists", effect: "NoSchedule" },
                { key: "node-role.kubernetes.io/master", operator: "Exists", effect: "NoSchedule" },
              ],
              securityContext: { seccompProfile: { type: "RuntimeDefault" } },
              containers: [
                {
                  name: "coredns",
                  image: COREDNS_IMAGE,
                  imagePullPolicy: "IfNotPresent",
                  args: ["-conf", "/etc/coredns/Corefile"],
                  resources: { requests: { cpu: "100m", memory: "70Mi" }, limits: { memory: "170Mi" } },
                  ports: [
                    { name: "dns", containerPort: 53, protocol: "UDP" },
                    { name: "dns-tcp", containerPort: 53, protocol: "TCP" },
                    { name: "metrics", containerPort: 9153, protocol: "TCP" },
                  ],
                  securityContext: {
                    allowPrivilegeEscalation: false,
                    readOnlyRootFilesystem: true,
                    capabilities: { add: ["NET_BIND_SERVICE"], drop: ["ALL"] },
                  },
                  livenessProbe: {
                    httpGet: { path: "/health", port: 8080, scheme: "HTTP" },
                    initialDelaySeconds: 60,
                    periodSeconds: 10,
                    timeoutSeconds: 1,
                    failureThreshold: 3,
                  },
                  readinessProbe: {
                    httpGet: { path: "/ready", port: 8181, scheme: "HTTP" },
                    periodSeconds: 2,
                    timeoutSeconds: 1,
                    failureThreshold: 3,
                  },
                  volumeMounts: [
                    { name: "config-volume", mountPath: "/etc/coredns", readOnly: true },
                    { name: "custom-config-volume", mountPath: "/etc/coredns/custom", readOnly: true },
                  ],
                },
              ],
              volumes: [
                { name: "config-volume", configMap: { name: COREDNS_NAME, items: [{ key: "Corefile", path: "Corefile" }] } },
                { name: "custom-config-volume", configMap: { name: COREDNS_CUSTOM_CONFIGMAP, optional: true } },
              ],
            },
          },
        },
      },
    }),
    makeObject(ctx, STAGE, {
      apiVersion: "v1",
      kind: "Service",
      name: CLUSTER_DNS_SERVICE,
      ...meta,
      labels: { ...dnsLabels, "kubernetes.io/cluster-service": "true" },
      annotations: { "prometheus.io/port": "9153", "prometheus.io/scrape": "true" },
      body: {
        spec: {
          selector: podSelector,
          clusterIP,
          ports: [
            { name: "dns", port: 53, targetPort: 53, protocol: "UDP" },
            { name: "dns-tcp", port: 53, targetPort: 53, protocol: "TCP" },
            { name: "metrics", port: 9153, targetPort: 9153, protocol: "TCP" },
          ],
        },
      },
    }),
  ];
}

/** A stage that applies nothing and reports a fixed verdict about the cluster's DNS. */
function verdictStage(readiness: (observed: ObservedState) => Readiness): Stage {
  return { name: STAGE, objects: [], ready: readiness };
}

function parseRef(ref: string): { namespace: string; name: string } {
  const [namespace, name] = ref.split("/") as [string, string];
  return { namespace, name };
}

/** Auto found the cluster's own DNS: ready while that Service is there (a vanished one is replaced next reconcile). */
function existingDnsStage(foreign: string[]): Stage {
  return verdictStage((observed) => {
    const present = foreign.filter((ref) => observed.get({ apiVersion: "v1", kind: "Service", ...parseRef(ref) }) !== undefined);
    if (present.length === 0) {
      return { ready: false, reason: "ClusterDNSGone", message: `cluster DNS Service ${foreign.join(", ")} is gone; CoreDNS is deployed on the next reconcile` };
    }
    return {
      ready: true,
      reason: "ExistingClusterDNS",
      message: `cluster DNS is provided by Service ${present.join(", ")} (not managed by Olares; kubernetes.clusterDNS.mode Auto leaves it alone)`,
    };
  });
}

function ipv4ToBig(ip: string): bigint {
  return ip.split(".").reduce((n, o) => (n << 8n) | BigInt(Number(o)), 0n);
}

function bigToIpv4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 255n)).join(".");
}

function ipv6ToBig(ip: string): bigint | undefined {
  const [head, tail, ...rest] = ip.split("::");
  if (rest.length > 0) return undefined;
  const h = head ? head.split(":") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  if (groups.length !== 8 || groups.some((g) => !/^[0-9A-Fa-f]{1,4}$/.test(g))) return undefined;
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

function bigToIpv6(n: bigint): string {
  const groups = [...Array(8).keys()].map((i) => ((n >> BigInt((7 - i) * 16)) & 0xffffn).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes "::"
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === "0") j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  if (best.at < 0) return groups.join(":");
  return `${groups.slice(0, best.at).join(":")}::${groups.slice(best.at + best.len).join(":")}`;
}

/**
 * The kube-dns address for a cluster whose Service default/kubernetes has `kubernetesServiceIP`: the 10th
 * address of the Service range (the apiserver gives kubernetes the 1st), as kubeadm (GetDNSIP) and K3s
 * (--cluster-dns) do — 10.96.0.10 on kubeadm's 10.96.0.0/12, 10.43.0.10 on K3s's 10.43.0.0/16.
 * Without the fact (offline plan): K3s's.
 */
export function defaultClusterDnsIP(kubernetesServiceIP: string | undefined): string {
  if (kubernetesServiceIP && IPV4.test(kubernetesServiceIP)) {
    const n = ipv4ToBig(kubernetesServiceIP) + DNS_INDEX_AFTER_KUBERNETES;
    if (n <= 0xffffffffn) return bigToIpv4(n);
  }
  const v6 = kubernetesServiceIP && IPV6.test(kubernetesServiceIP) ? ipv6ToBig(kubernetesServiceIP) : undefined;
  if (v6 !== undefined && v6 + DNS_INDEX_AFTER_KUBERNETES < 1n << 128n) return bigToIpv6(v6 + DNS_INDEX_AFTER_KUBERNETES);
  return DEFAULT_CLUSTER_DNS_IP;
}

export function clusterDnsMode(ctx: RenderContext): ClusterDNSMode {
  return ctx.spec.kubernetes?.clusterDNS?.mode ?? "Auto";
}

export function renderClusterDns(ctx: RenderContext): Stage | undefined {
  const mode = clusterDnsMode(ctx);
  if (mode === "External") return undefined;
  const facts = ctx.facts.clusterDNS;
  const field = "spec.kubernetes.clusterDNS";

  if (mode === "Auto" && facts && !facts.observable) {
    return verdictStage(() => ({
      ready: false,
      degraded: true,
      reason: "ClusterDNSUnobservable",
      message:
        "cannot tell whether the cluster already has DNS (the operator does not watch kube-system); " +
        `not deploying CoreDNS in mode Auto (set ${field}.mode to Managed or External)`,
    }));
  }
  if (mode === "Auto" && facts && !facts.ownServicePresent && facts.foreignServices.length > 0) {
    return existingDnsStage(facts.foreignServices);
  }
  const ownName = `${CLUSTER_DNS_NAMESPACE}/${CLUSTER_DNS_SERVICE}`;
  if (mode === "Managed" && facts?.foreignServices.includes(ownName)) {
    return verdictStage(() => ({
      ready: false,
      degraded: true,
      reason: "ClusterDNSConflict",
      message: `${field}.mode is Managed but Service ${ownName} exists and is not managed by Olares; remove it (and its CoreDNS) or use mode Auto or External`,
    }));
  }

  const dns = ctx.spec.kubernetes?.clusterDNS;
  const clusterIP = ipLiteral(`${field}.clusterIP`, dns?.clusterIP ?? defaultClusterDnsIP(facts?.kubernetesServiceIP));
  const upstreams = (dns?.upstreamNameservers ?? []).map((ip, i) => ipLiteral(`${field}.upstreamNameservers[${i}]`, ip));
  const objects = coreDnsObjects(ctx, clusterIP, upstreams);
  return { name: STAGE, objects, ready: (observed) => objectsReadiness(STAGE, objects, observed) };
}
