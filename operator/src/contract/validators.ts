// The one set of value rules every layer uses: api/ validation, render/ and the agent's re-check.
// Pure predicates; the callers word the message (field + rule).
import { isIPv4 as netIsIPv4, isIPv6 as netIsIPv6 } from "node:net";

/** Dotted quad, no leading zeros. */
export function isIPv4(s: string): boolean {
  return netIsIPv4(s);
}

/** IPv6 literal without a zone id (a zone is meaningless off the host that wrote it). */
export function isIPv6(s: string): boolean {
  return !s.includes("%") && netIsIPv6(s);
}

export function isIP(s: string): boolean {
  return isIPv4(s) || isIPv6(s);
}

/** RFC 1123 host name (letters, digits, hyphens; dot-separated labels); not an all-numeric dotted string. */
export function isHostname(s: string): boolean {
  if (s.length < 1 || s.length > 253 || /^[0-9.]+$/.test(s)) return false;
  return s.split(".").every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes DNS-1123 label: lowercase, at most 63 characters (Namespace and Service names). */
export function isDns1123Label(s: string): boolean {
  return s.length <= 63 && DNS1123_LABEL.test(s);
}

/** Kubernetes DNS-1123 subdomain: lowercase labels joined by dots, at most 253 characters (most object names). */
export function isDns1123Subdomain(s: string): boolean {
  return s.length >= 1 && s.length <= 253 && s.split(".").every((l) => DNS1123_LABEL.test(l));
}

export function isPort(n: unknown): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= 65535;
}

/** Percent-decoded, as far as it decodes (a malformed escape stays as it is). */
function decodeOnce(s: string): string {
  return s.replace(/%[0-9A-Fa-f]{2}/g, (m) => String.fromCharCode(parseInt(m.slice(1), 16)));
}

/** A "." or ".." segment, also when spelled with percent escapes (%2e%2e, %2E., doubly encoded). */
export function hasDotSegment(path: string): boolean {
  let s = path;
  for (let i = 0; i < 3; i++) {
    if (s.split(/[/\\]/).some((seg) => seg === "." || seg === "..")) return true;
    const next = decodeOnce(s);
    if (next === s) break;
    s = next;
  }
  return false;
}

const SAFE_PATH = /^\/[A-Za-z0-9._@+-]+(\/[A-Za-z0-9._@+-]+)*$/;

/** Absolute, normalized (no //, no trailing /, no . or .. segments), plain characters only (no %, no spaces). */
export function isPlainAbsolutePath(p: string): boolean {
  return SAFE_PATH.test(p) && !hasDotSegment(p);
}

/** `p` is `dir` or inside it. */
export function isWithin(p: string, dir: string): boolean {
  const d = dir.replace(/\/+$/, "");
  return p === d || p.startsWith(`${d}/`);
}

function isLoopbackHost(host: string): boolean {
  return host === "127.0.0.1" || host === "[::1]" || host === "localhost";
}

function parseUrl(s: string): URL | undefined {
  if (!/^[\x21-\x7e]{1,2048}$/.test(s)) return undefined;
  try {
    return new URL(s);
  } catch {
    return undefined;
  }
}

/** The path part of a URL as written (before the URL parser folds away dot segments). */
function rawUrlPath(s: string): string {
  const rest = s.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*/, "");
  return rest.split(/[?#]/)[0] ?? "";
}

/**
 * A URL whose path has a . or .. segment, also percent-encoded (%2e): the URL parser would silently fold
 * it away. The CRD's twin is the CEL rule on each URL field (see api/semantic-rules.ts, url-dot-segments).
 */
export function urlHasDotSegment(s: string): boolean {
  return /(^|\/)(\.|%2[eE]){1,2}(\/|$)/.test(rawUrlPath(s));
}

/**
 * https URL without credentials, query, fragment or dot segments; plain http only on loopback (local
 * tests, checksummed). The URL is printed by plan, stored in a ConfigMap and logged by the agent, so a
 * presigned URL's signature must never get that far.
 */
export function isDownloadUrl(s: string): boolean {
  const u = parseUrl(s);
  if (!u || u.username || u.password || u.search || u.hash || urlHasDotSegment(s)) return false;
  if (u.protocol === "https:") return true;
  return u.protocol === "http:" && isLoopbackHost(u.hostname);
}

/** A registry mirror endpoint: https URL, no credentials, query, fragment, dot segments or quotes. */
export function isMirrorEndpoint(s: string): boolean {
  if (s.includes('"') || s.includes("\\")) return false;
  const u = parseUrl(s);
  if (!u || urlHasDotSegment(s)) return false;
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return u.protocol === "https:" && !u.username && !u.password && !u.search && !u.hash && (isHostname(host) || isIP(host));
}

/** Registry key of containerd's certs.d: host[:port] or "_default". */
export function isRegistryName(s: string): boolean {
  if (s === "_default") return true;
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(s);
  if (!m) return false;
  return (isHostname(m[1]!) || isIPv4(m[1]!)) && (m[2] === undefined || isPort(Number(m[2])));
}

const PACKAGE_NAME = /^[a-z0-9][a-z0-9+.-]{0,127}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const SYSCTL_KEY = /^[a-z0-9_][a-z0-9_.\-/]{0,199}$/;
const SYSCTL_VALUE = /^[A-Za-z0-9 \t._:,/+=-]{1,200}$/;
const TIMEZONE = /^[A-Za-z0-9_+-]{1,30}(\/[A-Za-z0-9_+-]{1,30}){0,2}$/;
const UNIT_NAME = /^[A-Za-z0-9:_.@-]{1,200}\.(service|socket|timer|target|mount|swap|path)$/;

/** Debian package name. */
export function isPackageName(s: string): boolean {
  return PACKAGE_NAME.test(s);
}

export function isSha256(s: string): boolean {
  return SHA256.test(s);
}

export function isSysctlKey(s: string): boolean {
  return SYSCTL_KEY.test(s) && !s.split(/[./]/).includes("..");
}

export function isSysctlValue(s: string): boolean {
  return SYSCTL_VALUE.test(s);
}

/** Shape of an IANA zone name (whether the zone exists is the caller's question). */
export function isTimezone(s: string): boolean {
  return TIMEZONE.test(s) && !s.split("/").some((seg) => seg === "." || seg === "..");
}

export function isUnitName(s: string): boolean {
  return UNIT_NAME.test(s);
}

export function isIntIn(n: unknown, min: number, max: number): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= min && n <= max;
}
