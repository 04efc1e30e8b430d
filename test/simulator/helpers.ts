// Shared fixtures for the simulator conformance suite: a simulator per suite, the real client-node
// against its kubeconfig, and the real kubectl with a private HOME/cache.
import * as k8s from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSimulator, type Simulator, type SimulatorOptions } from "../sim/server.js";
import type { KObj } from "../sim/types.js";

export interface Bed {
  sim: Simulator;
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  objects: k8s.KubernetesObjectApi;
  home: string;
  kubectl(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** kubectl that must succeed; returns stdout. */
  kubectlOk(args: string[], stdin?: string): Promise<string>;
  writeFile(name: string, content: string): string;
}

export async function startBed(opts: SimulatorOptions = {}): Promise<Bed> {
  const sim = await startSimulator(opts);
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(sim.kubeconfigPath);
  const home = mkdtempSync(join(tmpdir(), "sim-kubectl-"));
  const kubectl = (args: string[], stdin?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        "kubectl",
        ["--kubeconfig", sim.kubeconfigPath, ...args],
        { env: { ...process.env, HOME: home, KUBECACHEDIR: join(home, "cache"), KUBECONFIG: sim.kubeconfigPath }, timeout: 15_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      if (stdin !== undefined) child.stdin!.end(stdin);
    });
  return {
    sim,
    kc,
    core: kc.makeApiClient(k8s.CoreV1Api),
    objects: k8s.KubernetesObjectApi.makeApiClient(kc),
    home,
    kubectl,
    async kubectlOk(args, stdin) {
      const r = await kubectl(args, stdin);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
      return r.stdout;
    },
    writeFile(name, content) {
      const p = join(home, name);
      writeFileSync(p, content);
      return p;
    },
  };
}

/** The Status body of a failed client-node call. */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; body: Record<string, any> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: number; body?: unknown };
    const body = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
    return { code: err.code ?? 0, body: body as Record<string, any> };
  }
  throw new Error("expected the call to fail");
}

/** Raw HTTP against the simulator with its token (for what client-node does not expose). */
export async function raw(sim: Simulator, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const { request } = await import("node:https");
  const ca = readFileSync(new URL("../sim/tls/sim-cert.pem", import.meta.url));
  const url = new URL(path, sim.url);
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { Authorization: `Bearer ${sim.token}`, "Content-Type": "application/json", ...(payload !== undefined ? { "Content-Length": String(Buffer.byteLength(payload)) } : {}), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const h = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (typeof v === "string") h.set(k, v);
        resolve({ status: res.statusCode ?? 0, headers: h, text, json });
      });
    });
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` returns a truthy value (or throw after timeoutMs). */
export async function eventually<T>(check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 3000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await sleep(10);
  }
}

export const configMap = (name: string, namespace = "default", data: Record<string, string> = {}, labels?: Record<string, string>): KObj => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, ...(labels ? { labels } : {}) },
  data,
});

/** A small CRD exercising defaults, CEL (self/oldSelf), status and scale subresources, printer columns. */
export const widgetCrd: KObj = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.sim.example.com" },
  spec: {
    group: "sim.example.com",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList", shortNames: ["wd"], categories: ["all"] },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {}, scale: { specReplicasPath: ".spec.replicas", statusReplicasPath: ".status.replicas" } },
        additionalPrinterColumns: [
          { name: "Size", type: "string", jsonPath: ".spec.size" },
          { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
        ],
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                required: ["owner"],
                properties: {
                  owner: { type: "string", description: "Who owns the widget. Immutable.", "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "owner is immutable" }] },
                  size: { type: "string", enum: ["S", "M", "L"], default: "M" },
                  replicas: { type: "integer", minimum: 0, default: 1 },
                  ports: {
                    type: "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    items: { type: "object", required: ["name"], properties: { name: { type: "string" }, port: { type: "integer" } } },
                  },
                },
                "x-kubernetes-validations": [{ rule: "self.size != 'L' || self.replicas <= 3", message: "large widgets allow at most 3 replicas", fieldPath: ".replicas" }],
              },
              status: {
                type: "object",
                properties: {
                  replicas: { type: "integer" },
                  phase: { type: "string" },
                  conditions: { type: "array", items: { type: "object", properties: { type: { type: "string" }, status: { type: "string" }, reason: { type: "string" }, message: { type: "string" }, lastTransitionTime: { type: "string" } } } },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/**
 * Create the Widget CRD as kubectl would (raw JSON). client-node's typed serializer drops the
 * x-kubernetes-* and default keys of a plain-object CRD, so tests do not send CRDs through it.
 */
export async function installWidgetCrd(bed: Bed): Promise<void> {
  const r = await raw(bed.sim, "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", widgetCrd);
  if (r.status !== 201) throw new Error(`creating the Widget CRD failed: ${r.text}`);
  await bed.sim.settle();
}

export const widget = (name: string, spec: Record<string, unknown>, namespace = "default"): KObj => ({
  apiVersion: "sim.example.com/v1",
  kind: "Widget",
  metadata: { name, namespace },
  spec,
});
