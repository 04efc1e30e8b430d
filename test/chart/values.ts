// Value sets shared by the chart tests.

/** Everything non-default at once: HA, monitoring, PDB, digest, and the installation block. */
export const NON_DEFAULT_VALUES = {
  replicaCount: 2,
  leaderElection: { enabled: true },
  operator: { qps: 30, burst: 60, nodeOptions: "--max-old-space-size=256" },
  image: { repository: "registry.example/olares/olares-operator", digest: `sha256:${"a".repeat(64)}` },
  priorityClassName: "system-cluster-critical",
  nodeSelector: { "kubernetes.io/os": "linux" },
  podDisruptionBudget: { enabled: true, minAvailable: 1 },
  metrics: { serviceMonitor: { enabled: true, labels: { release: "kube-prometheus-stack" } } },
  installation: {
    enabled: true,
    name: "olares",
    spec: {
      version: "1.12.1",
      owner: { username: "alice", domain: "olares.com" },
      storage: { type: "LocalFS" },
    },
  },
};
