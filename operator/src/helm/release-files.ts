// Serves an airgap release's files to the nodes. From an airgap directory (spec.release.airgapDir, a PVC or
// a hostPath mounted read-only into the operator) only the operator can read the manifest's components and
// image archives; the node agents fetch them from here over the cluster network, with the manifest's MD5
// (they check it, as from the CDN). The directory has the CDN's layout (<dir>/<url>, arm64/<url>), as for
// the wizard. Only what a published manifest lists is served, read-only; nothing else of the directory.
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { itemSourceForArch, type ManifestItem } from "../contract/release/manifest.js";

export interface ReleaseFileServer {
  /** The port it listens on (an ephemeral one when asked for 0). */
  readonly port: number;
  /** Serves every file `manifest` lists, from `dir` (CDN layout). Idempotent; several releases add up. */
  publish(dir: string, manifest: readonly ManifestItem[]): void;
  /** How many requests were answered with a file (for tests and metrics). */
  readonly served: number;
  close(): Promise<void>;
}

/** The object names a manifest lists (both architectures), relative, without a leading slash. */
export function manifestObjects(manifest: readonly ManifestItem[]): string[] {
  const out = new Set<string>();
  for (const item of manifest) {
    for (const arch of ["amd64", "arm64"] as const) {
      const s = itemSourceForArch(item, arch);
      // Absolute URLs are fetched from where they point; a ".." never leaves the directory.
      if (s?.url && !/^https?:\/\//.test(s.url) && !s.url.split("/").includes("..")) out.add(s.url.replace(/^\/+/, ""));
    }
  }
  return [...out].sort();
}

export async function startReleaseFileServer(opts: { port: number; host?: string; log?: { info(m: string, meta?: Record<string, unknown>): void } }): Promise<ReleaseFileServer> {
  const files = new Map<string, string>();
  let served = 0;
  const server: Server = createServer((req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    let name: string;
    try {
      name = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname).replace(/^\/+/, "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    const path = files.get(name);
    if (!path) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not a file of a published release\n");
      return;
    }
    stat(path).then(
      (st) => {
        if (!st.isFile()) throw new Error("not a file");
        res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(st.size) });
        if (req.method === "HEAD") {
          res.end();
          return;
        }
        served++;
        createReadStream(path).on("error", () => res.destroy()).pipe(res);
      },
      () => res.writeHead(404, { "content-type": "text/plain" }).end("listed by the manifest but not in the airgap directory\n"),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log?.info("serving the airgap release's files to the nodes", { port });
  return {
    port,
    get served() {
      return served;
    },
    publish(dir, manifest) {
      for (const name of manifestObjects(manifest)) files.set(name, join(dir, name));
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
