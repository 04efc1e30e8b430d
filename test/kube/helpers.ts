import { KubeConfig } from "@kubernetes/client-node";

export const TEST_TOKEN = "s3cret-bearer-token";

/** A kubeconfig pointing at `server` with a bearer token (plain HTTP needs skipTLSVerify in client-node). */
export function testKubeConfig(server = "http://kube.test"): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "test", server, skipTLSVerify: true }],
    users: [{ name: "test", token: TEST_TOKEN }],
    contexts: [{ name: "test", cluster: "test", user: "test" }],
    currentContext: "test",
  });
  return kc;
}
