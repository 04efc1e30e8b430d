// Shared by the release tests: the fixture release (built once per machine into the cache), unpacked
// copies of it, and a spec for the owner alice.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { buildFixtureRelease, type FixtureRelease } from "../../hack/fixture-release/build.js";
import { DEFAULT_FIXTURE_VERSION } from "../../hack/fixture-release/version.js";
import { defaultSpec } from "../../operator/src/api/defaults.js";
import type { DefaultedSpec, OlaresInstallationSpec } from "../../operator/src/api/index.js";
import { ensureWizard, loadRelease, type LoadedRelease } from "../../operator/src/helm/release-cache.js";
import { missingRandoms } from "../../operator/src/render/releases/randoms.js";
import { randomBytes } from "node:crypto";

export const FIXTURE_ROOT = process.env.OLARES_FIXTURE_DIR ?? join(homedir(), ".cache/olares-operator/fixture-release");
export const VERSION = DEFAULT_FIXTURE_VERSION;

export function fixture(version = VERSION): FixtureRelease {
  return buildFixtureRelease(version, FIXTURE_ROOT);
}

export interface Unpacked extends LoadedRelease {
  cacheDir: string;
  cleanup(): void;
}

/** A fresh cache with the fixture's wizard unpacked (as the operator does from an airgap dir). */
export async function unpackFixture(version = VERSION): Promise<Unpacked> {
  const rel = fixture(version);
  const cacheDir = mkdtempSync(join(tmpdir(), "olares-release-cache-"));
  const w = await ensureWizard({ kind: "dir", path: rel.cdnDir }, version, cacheDir);
  const loaded = await loadRelease(w.installerDir);
  return { ...loaded, cacheDir, cleanup: () => rmSync(cacheDir, { recursive: true, force: true }) };
}

/** A writable copy of the fixture's CDN dir (to break things in). */
export function copyCdn(version = VERSION): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "olares-cdn-"));
  cpSync(fixture(version).cdnDir, dir, { recursive: true });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function aliceSpec(extra: Partial<OlaresInstallationSpec> = {}): DefaultedSpec {
  return defaultSpec({ version: VERSION, owner: { username: "alice", domain: "example.com", email: "alice@example.com" }, storage: { type: "LocalFS" }, gpu: { enabled: "false" }, ...extra });
}

export function randoms(): Record<string, string> {
  return missingRandoms({}, (n) => randomBytes(n));
}

/** Serves a directory over HTTP on 127.0.0.1 (a CDN mirror); counts requests per path. */
export async function serveDir(dir: string): Promise<{ base: string; hits: Map<string, number>; close(): Promise<void> }> {
  const { createServer } = await import("node:http");
  const { createReadStream, statSync } = await import("node:fs");
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? "/").split("?")[0]!);
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = join(dir, path);
    if (path.includes("..") || !statSync(file, { throwIfNoEntry: false })?.isFile()) {
      res.writeHead(404).end("not found");
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { base: `http://127.0.0.1:${port}`, hits, close: () => new Promise<void>((r) => server.close(() => r())) };
}
