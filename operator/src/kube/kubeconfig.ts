// Where the credentials come from: an explicit file, else in-cluster (service account), else the
// usual KUBECONFIG / ~/.kube/config lookup.
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export function loadKubeConfig(file?: string, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (file) {
    if (!existsSync(file)) throw new Error(`--kubeconfig: file "${file}" does not exist`);
    kc.loadFromFile(file);
  } else if (env["KUBERNETES_SERVICE_HOST"] && existsSync(SERVICE_ACCOUNT_TOKEN)) {
    kc.loadFromCluster();
  } else {
    kc.loadFromDefault();
  }
  if (!kc.getCurrentCluster()) {
    throw new Error("kubeconfig: no current cluster; pass --kubeconfig FILE, set KUBECONFIG, or run in a pod");
  }
  return kc;
}
