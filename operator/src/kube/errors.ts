// Typed API errors. Built from a metav1.Status body; secret values can never leak because only the
// Status fields (reason, message, causes) are kept, and messages are scrubbed of data-looking payloads.

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  /** Set when the server asked to retry later (Retry-After on 429/5xx). */
  retryAfterSeconds?: number;
  constructor(
    /** HTTP status code; 0 when the request never got an answer. */
    readonly status: number,
    /** metav1.StatusReason, e.g. "NotFound", "Conflict", "Expired". */
    readonly reason: string,
    message: string,
    readonly causes: StatusCause[] = [],
    /** verb + path of the failed request, for logs (never a body). */
    readonly request?: string,
  ) {
    super(message);
  }
}

const REASON_BY_STATUS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

const MAX_MESSAGE = 1000;

/** The apiserver echoes request bodies in some messages (e.g. decode errors); strip anything that looks like data. */
export function scrubMessage(message: string): string {
  let out = message
    .replace(/("?(?:data|stringData)"?\s*[:=]\s*)(\{[^}]*\}|map\[[^\]]*\])/gi, "$1<redacted>")
    .replace(/((?:password|passwd|secret|token|access[-_]?key|api[-_]?key|credential)[\w-]*"?\s*[:=]\s*)("[^"]*"|[^\s,;&]+)/gi, "$1<redacted>")
    .replace(/(--?(?:password|passwd|secret|token|access[-_]?key|api[-_]?key)[\w-]*\s+)(?!-)(\S+)/gi, "$1<redacted>");
  if (out.length > MAX_MESSAGE) out = `${out.slice(0, MAX_MESSAGE)}…`;
  return out;
}

/** Builds an ApiError from an HTTP status and the (possibly non-JSON) response body. */
export function apiErrorFromResponse(status: number, body: string, request?: string): ApiError {
  let reason = REASON_BY_STATUS[status] ?? (status >= 500 ? "InternalError" : "Unknown");
  let message = `HTTP ${status}`;
  let causes: StatusCause[] = [];
  try {
    const parsed = JSON.parse(body) as { kind?: string; reason?: string; message?: string; details?: { causes?: StatusCause[] } };
    if (parsed && parsed.kind === "Status") {
      if (parsed.reason) reason = parsed.reason;
      if (parsed.message) message = parsed.message;
      causes = (parsed.details?.causes ?? []).map((c) => ({
        ...(c.reason !== undefined ? { reason: c.reason } : {}),
        ...(c.message !== undefined ? { message: scrubMessage(c.message) } : {}),
        ...(c.field !== undefined ? { field: c.field } : {}),
      }));
    }
  } catch {
    // not JSON: keep the generic message, never the raw body
  }
  return new ApiError(status, reason, scrubMessage(message), causes, request);
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
/** The object does not exist (not: its kind is unknown, see isNoKindMatch). */
export const isNotFound = (err: unknown): boolean => isApiError(err) && err.status === 404 && err.reason !== "NoKindMatch";
/** The kind is not served (e.g. its CRD is not installed). */
export const isNoKindMatch = (err: unknown): boolean => isApiError(err) && err.reason === "NoKindMatch";
export const isConflict = (err: unknown): boolean => isApiError(err) && err.status === 409 && err.reason !== "AlreadyExists";
export const isAlreadyExists = (err: unknown): boolean => isApiError(err) && err.status === 409 && err.reason === "AlreadyExists";
export const isGone = (err: unknown): boolean => isApiError(err) && (err.status === 410 || err.reason === "Expired" || err.reason === "Gone");
/** Errors worth retrying with backoff: throttling, server-side trouble, no answer at all. */
export const isTransient = (err: unknown): boolean =>
  isApiError(err) && (err.status === 0 || err.status === 429 || err.status >= 500);
