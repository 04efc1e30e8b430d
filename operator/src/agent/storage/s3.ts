// A small AWS Signature V4 client for the object-store probe (PUT/GET/DELETE of one object):
// path-style requests, which MinIO, S3, OSS and COS all accept for the probe.
import { createHash, createHmac } from "node:crypto";

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface S3Target {
  /** http(s)://host[:port] of the store. */
  endpoint: string;
  bucket: string;
  region?: string;
  credentials: S3Credentials;
}

const sha256Hex = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
/** RFC 3986 encoding as SigV4 wants it ("/" kept in paths). */
const uriEncode = (s: string, keepSlash: boolean) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(keepSlash ? /%2F/g : /$^/, "/");

export interface SignedRequest {
  url: string;
  headers: Record<string, string>;
}

/** Signs one request (SigV4, service s3, payload hashed). */
export function signS3Request(t: S3Target, method: string, key: string, body: Buffer, now = new Date()): SignedRequest {
  const base = new URL(t.endpoint);
  const region = t.region || "us-east-1";
  const path = `/${uriEncode(t.bucket, false)}${key ? `/${uriEncode(key, true)}` : ""}`;
  const amzDate = now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256Hex(body);
  const headers: Record<string, string> = {
    host: base.host,
    "x-amz-content-sha256": payloadHash,
    "x-amz-date": amzDate,
  };
  if (t.credentials.sessionToken) headers["x-amz-security-token"] = t.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonical = [method, path, "", ...names.map((n) => `${n}:${headers[n]!.trim()}`), "", names.join(";"), payloadHash].join("\n");
  const scope = `${day}/${region}/s3/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256Hex(canonical)].join("\n");
  const kDate = hmac(`AWS4${t.credentials.secretAccessKey}`, day);
  const kSigning = hmac(hmac(hmac(kDate, region), "s3"), "aws4_request");
  const signature = createHmac("sha256", kSigning).update(toSign).digest("hex");
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${t.credentials.accessKeyId}/${scope}, SignedHeaders=${names.join(";")}, Signature=${signature}`;
  return { url: `${base.origin}${path}`, headers };
}

async function send(t: S3Target, method: string, key: string, body: Buffer = Buffer.alloc(0), timeoutMs = 10_000): Promise<{ status: number; body: Buffer }> {
  const req = signS3Request(t, method, key, body);
  const res = await fetch(req.url, {
    method,
    headers: req.headers,
    body: method === "PUT" || method === "POST" ? new Uint8Array(body) : undefined,
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: Buffer.from(await res.arrayBuffer()) };
}

/** The S3 error code from an XML error body ("SignatureDoesNotMatch", "NoSuchBucket", …). */
function s3Error(body: Buffer): string {
  const s = body.toString("utf8");
  const code = /<Code>([^<]+)<\/Code>/.exec(s)?.[1];
  const message = /<Message>([^<]+)<\/Message>/.exec(s)?.[1];
  return [code, message].filter(Boolean).join(": ") || s.slice(0, 200) || "no body";
}

export class ProbeError extends Error {
  constructor(
    readonly target: string,
    message: string,
  ) {
    super(`${target}: ${message}`);
    this.name = "ProbeError";
  }
}

/** PUT, GET (content compared) and DELETE of a small object; throws ProbeError naming the endpoint and the error. */
export async function probeObjectStore(t: S3Target, opts: { createBucket?: boolean } = {}): Promise<void> {
  const where = `object store ${t.endpoint}/${t.bucket}`;
  const key = `.olares-probe/${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const payload = Buffer.from(`olares-operator probe ${new Date().toISOString()}\n`);
  const step = async (what: string, fn: () => Promise<{ status: number; body: Buffer }>, ok: (s: number) => boolean) => {
    let r;
    try {
      r = await fn();
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new ProbeError(where, `${what} failed: ${cause?.code ?? ""} ${cause?.message ?? (e as Error).message}`.replace(/\s+/g, " ").trim());
    }
    if (!ok(r.status)) throw new ProbeError(where, `${what} returned HTTP ${r.status} (${s3Error(r.body)})`);
    return r;
  };
  if (opts.createBucket) {
    // Managed MinIO: the bucket is ours to create (juicefs format would create it too). 409 = exists.
    await step("create bucket", () => send(t, "PUT", ""), (s) => s === 200 || s === 409);
  }
  await step("put object", () => send(t, "PUT", key, payload), (s) => s === 200);
  const got = await step("get object", () => send(t, "GET", key), (s) => s === 200);
  if (!got.body.equals(payload)) throw new ProbeError(where, "get object returned different content than was put");
  await step("delete object", () => send(t, "DELETE", key), (s) => s === 204 || s === 200);
}
