// The transport keeps connections to the API server alive: sequential requests share one TLS socket.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { X509Certificate } from "node:crypto";
import type { TLSSocket } from "node:tls";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { KubeConfig } from "@kubernetes/client-node";
import nock from "nock";
import { Transport } from "../../operator/src/kube/transport.js";
import { TEST_TOKEN } from "./helpers.js";

const TLS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "../sim/tls");
const CERT = readFileSync(path.join(TLS_DIR, "sim-cert.pem"));
const KEY = readFileSync(path.join(TLS_DIR, "sim-key.pem"));

interface Loopback {
  server: Server;
  url: string;
  connections: number;
  authorizations: Array<string | undefined>;
  clientCerts: Array<string | undefined>;
}

async function listen(tls: boolean, opts: { requestCert?: boolean } = {}): Promise<Loopback> {
  const lb = { connections: 0, authorizations: [] as Array<string | undefined>, clientCerts: [] as Array<string | undefined> } as Loopback;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    lb.authorizations.push(req.headers.authorization);
    if (req.url?.includes("watch=true")) {
      // a watch: headers and one event now, then the connection stays open
      res.writeHead(200, { "content-type": "application/json" });
      res.write(JSON.stringify({ type: "BOOKMARK", object: { metadata: { resourceVersion: "1" } } }) + "\n");
      return;
    }
    if (opts.requestCert) lb.clientCerts.push((req.socket as TLSSocket).getPeerCertificate().fingerprint256);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
  };
  // The test certificate is for servers only, so the client certificate is checked by fingerprint, not verified.
  const serverOpts = { cert: CERT, key: KEY, ...(opts.requestCert ? { requestCert: true, rejectUnauthorized: false } : {}) };
  lb.server = tls ? createTlsServer(serverOpts, handler) : createHttpServer(handler);
  // 'connection' fires per TCP connection: one per TLS handshake on the https server.
  lb.server.on("connection", () => lb.connections++);
  await new Promise<void>((resolve) => lb.server.listen(0, "127.0.0.1", resolve));
  lb.url = `${tls ? "https" : "http"}://127.0.0.1:${(lb.server.address() as AddressInfo).port}`;
  return lb;
}

function kubeConfig(server: string, cluster: Record<string, unknown>, user: Record<string, unknown> = { token: TEST_TOKEN }): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "loop", server, ...cluster }],
    users: [{ name: "loop", ...user }],
    contexts: [{ name: "loop", cluster: "loop", user: "loop" }],
    currentContext: "loop",
  });
  return kc;
}

describe("kube transport connections", () => {
  let lb: Loopback | undefined;
  let transport: Transport | undefined;
  // nock, once loaded by another test file, wraps every request in its own socket: step aside.
  let nockWasActive = false;
  before(() => {
    nockWasActive = nock.isActive();
    if (nockWasActive) nock.restore();
  });
  after(() => {
    if (nockWasActive) nock.activate();
  });
  afterEach(async () => {
    transport?.close();
    lb?.server.closeAllConnections?.();
    await new Promise((r) => lb?.server.close(r) ?? r(undefined));
    lb = undefined;
    transport = undefined;
  });

  const getNamespaces = async (t: Transport, n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await t.request({ verb: "get", method: "GET", path: "/api/v1/namespaces/default" });
      expect(res.status).to.equal(200);
    }
  };

  it("sends sequential HTTPS requests over one kept-alive TLS connection, trusting the kubeconfig's CA", async () => {
    lb = await listen(true);
    transport = new Transport(kubeConfig(lb.url, { caData: CERT.toString("base64") }), { qps: 0 });
    await getNamespaces(transport, 10);
    expect(lb.connections).to.equal(1);
    expect(lb.authorizations).to.deep.equal(Array(10).fill(`Bearer ${TEST_TOKEN}`));
  });

  it("honours insecure-skip-tls-verify and still reuses the connection", async () => {
    lb = await listen(true);
    transport = new Transport(kubeConfig(lb.url, { skipTLSVerify: true }), { qps: 0 });
    await getNamespaces(transport, 5);
    expect(lb.connections).to.equal(1);
  });

  it("presents the kubeconfig's client certificate on the kept-alive connection", async () => {
    lb = await listen(true, { requestCert: true });
    const user = { certData: CERT.toString("base64"), keyData: KEY.toString("base64") };
    transport = new Transport(kubeConfig(lb.url, { caData: CERT.toString("base64") }, user), { qps: 0 });
    await getNamespaces(transport, 3);
    expect(lb.connections).to.equal(1);
    expect(lb.clientCerts).to.deep.equal(Array(3).fill(new X509Certificate(CERT).fingerprint256));
    expect(lb.authorizations).to.deep.equal([undefined, undefined, undefined]);
  });

  it("refuses a server whose certificate the kubeconfig does not trust", async () => {
    lb = await listen(true);
    transport = new Transport(kubeConfig(lb.url, {}), { qps: 0, maxRetries: 0 });
    const err = await transport.request({ verb: "get", method: "GET", path: "/api/v1/namespaces/default" }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).to.match(/self[- ]signed|unable to verify|certificate/i);
  });

  it("keeps plain HTTP connections alive too", async () => {
    lb = await listen(false);
    transport = new Transport(kubeConfig(lb.url, { skipTLSVerify: true }), { qps: 0 });
    await getNamespaces(transport, 5);
    expect(lb.connections).to.equal(1);
  });

  it("gives watches connections outside the request pool, so more watches than maxSockets never block requests", async () => {
    lb = await listen(false);
    transport = new Transport(kubeConfig(lb.url, { skipTLSVerify: true }), { qps: 0, maxSockets: 2 });
    const t = transport;
    const watches = await Promise.all(
      Array.from({ length: 5 }, () => t.stream({ verb: "watch", method: "GET", path: "/api/v1/nodes", query: { watch: true } })),
    );
    try {
      const answered = await Promise.race([
        getNamespaces(t, 3).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000)),
      ]);
      expect(answered, "a request behind 5 open watches with maxSockets 2").to.equal(true);
      expect(lb.connections).to.equal(6); // 5 watches + 1 kept-alive request connection
    } finally {
      for (const w of watches) w.response.destroy();
    }
  });
});
