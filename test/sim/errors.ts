// Kubernetes Status bodies and the error type that carries them.
import type { ResourceType } from "./types.js";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
  type?: string;
}

export interface StatusBody {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, unknown>;
  status: "Failure" | "Success";
  message?: string;
  reason?: string;
  details?: { name?: string; group?: string; kind?: string; uid?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
  code: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: StatusBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(status.message);
  }
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusBody["details"]): StatusBody {
  const body: StatusBody = { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code };
  if (details) body.details = details;
  return body;
}

/** `deployments.apps` or `pods`: how the apiserver names a resource in messages. */
export const qualifiedResource = (rt: Pick<ResourceType, "group" | "resource">): string =>
  rt.group ? `${rt.resource}.${rt.group}` : rt.resource;

const detailsFor = (rt: Pick<ResourceType, "group" | "resource">, name: string): StatusBody["details"] => {
  const d: StatusBody["details"] = { name, kind: rt.resource };
  if (rt.group) d.group = rt.group;
  return d;
};

export const notFound = (rt: Pick<ResourceType, "group" | "resource">, name: string): ApiError =>
  new ApiError(failure(404, "NotFound", `${qualifiedResource(rt)} "${name}" not found`, detailsFor(rt, name)));

export const alreadyExists = (rt: Pick<ResourceType, "group" | "resource">, name: string): ApiError =>
  new ApiError(failure(409, "AlreadyExists", `${qualifiedResource(rt)} "${name}" already exists`, detailsFor(rt, name)));

export const conflict = (rt: Pick<ResourceType, "group" | "resource">, name: string, why: string): ApiError =>
  new ApiError(
    failure(409, "Conflict", `Operation cannot be fulfilled on ${qualifiedResource(rt)} "${name}": ${why}`, detailsFor(rt, name)),
  );

export const MODIFIED_MESSAGE = "the object has been modified; please apply your changes to the latest version and try again";

export const applyConflict = (conflicts: Array<{ manager: string; apiVersion: string; field: string }>): ApiError => {
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const key = `"${c.manager}" using ${c.apiVersion}`;
    byManager.set(key, [...(byManager.get(key) ?? []), c.field]);
  }
  const parts = [...byManager].map(([who, fields]) =>
    fields.length === 1 ? `conflict with ${who}: ${fields[0]}` : `conflicts with ${who}:\n${fields.map((f) => `- ${f}`).join("\n")}`,
  );
  const n = conflicts.length;
  const message = `Apply failed with ${n} conflict${n === 1 ? "" : "s"}: ${parts.join("\n")}`;
  const causes = conflicts.map((c) => ({
    type: "FieldManagerConflict",
    message: `conflict with "${c.manager}" using ${c.apiVersion}`,
    field: c.field,
  }));
  return new ApiError(failure(409, "Conflict", message, { causes }));
};

export const invalid = (kind: string, group: string, name: string, causes: StatusCause[]): ApiError => {
  const what = group ? `${kind}.${group}` : kind;
  const summary = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : `${c.message}`));
  const list = summary.length === 1 ? summary[0] : `[${summary.join(", ")}]`;
  const details: StatusBody["details"] = { name, kind, causes };
  if (group) details.group = group;
  return new ApiError(failure(422, "Invalid", `${what} "${name}" is invalid: ${list}`, details));
};

export const badRequest = (message: string): ApiError => new ApiError(failure(400, "BadRequest", message));

export const methodNotAllowed = (message: string): ApiError => new ApiError(failure(405, "MethodNotAllowed", message));

export const unsupportedMediaType = (contentType: string): ApiError =>
  new ApiError(failure(415, "UnsupportedMediaType", `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml${contentType ? ` (got ${contentType})` : ""}`));

export const forbidden = (rt: Pick<ResourceType, "group" | "resource">, name: string, message: string): ApiError =>
  new ApiError(failure(403, "Forbidden", `${qualifiedResource(rt)} "${name}" is forbidden: ${message}`, detailsFor(rt, name)));

export const unauthorized = (): ApiError => new ApiError(failure(401, "Unauthorized", "Unauthorized"));

export const gone = (message: string): ApiError => new ApiError(failure(410, "Expired", message));

export const tooManyRequests = (message: string, retryAfterSeconds: number): ApiError =>
  new ApiError(failure(429, "TooManyRequests", message, { retryAfterSeconds }), { "Retry-After": String(retryAfterSeconds) });

export const internalError = (message: string): ApiError => new ApiError(failure(500, "InternalError", message));

export const serviceUnavailable = (message: string): ApiError =>
  new ApiError(failure(503, "ServiceUnavailable", message), { "Retry-After": "1" });

export const successStatus = (details: StatusBody["details"]): StatusBody => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Success",
  details,
  code: 200,
});
