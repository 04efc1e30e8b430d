// HTTP routing: auth, discovery, openapi, and the REST verbs on resources and subresources.
import type { IncomingMessage, ServerResponse } from "node:http";
import YAML from "yaml";
import { PATCH_CONTENT_TYPES, type DeleteOptions, type SimApi, type WriteOptions } from "./api.js";
import { AGGREGATED_V2, aggregated, coreVersions, group, groupList, resourceList } from "./discovery.js";
import { ApiError, badRequest, methodNotAllowed, notFound, unauthorized, unsupportedMediaType } from "./errors.js";
import type { Faults, Verb } from "./faults.js";
import { clone } from "./objects.js";
import { documentHash, openApiDocuments, openApiIndex } from "./openapi.js";
import { decodeProtobuf } from "./protobuf.js";
import { fieldMatcher, labelMatcher } from "./selectors.js";
import { toTable } from "./tables.js";
import { apiVersionOf, typeKeyOf, type Json, type KObj, type ResourceType } from "./types.js";
import { serveWatch, type WatchCounters } from "./watch.js";

export interface RequestRecord {
  verb: Verb | "discovery";
  method: string;
  path: string;
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  code: number;
  userAgent?: string;
  fieldManager?: string;
}

export interface HttpContext {
  api: SimApi;
  faults: Faults;
  token: string;
  gitVersion: string;
  bookmarkIntervalMs: number;
  watches: WatchCounters;
  onRequest: (r: RequestRecord) => void;
}

interface Target {
  rt: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  watchPath: boolean;
}

const json = (res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}) => {
  const text = JSON.stringify(body);
  res.writeHead(code, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
};

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

function parseTarget(ctx: HttpContext, segs: string[]): Target | undefined {
  let groupName = "";
  let version: string;
  let rest: string[];
  if (segs[0] === "api") {
    version = segs[1];
    rest = segs.slice(2);
  } else {
    groupName = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  }
  let watchPath = false;
  if (rest[0] === "watch") {
    watchPath = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === "namespaces" && rest.length >= 3 && !(groupName === "" && (rest[2] === "status" || rest[2] === "finalize"))) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [resource, name, subresource, ...extra] = rest;
  if (!resource || extra.length > 0) return undefined;
  const rt = ctx.api.registry.lookup(groupName, version, resource);
  if (!rt) return undefined;
  if (!rt.namespaced && namespace !== undefined) return undefined;
  return { rt, version, namespace, name, subresource, watchPath };
}

function wantsTable(req: IncomingMessage): boolean {
  return /as=Table/.test(req.headers.accept ?? "");
}

function writeOptions(q: URLSearchParams, req: IncomingMessage): WriteOptions & { force?: boolean } {
  const dryRun = q.getAll("dryRun");
  for (const d of dryRun) if (d !== "All") throw badRequest(`Invalid dry run value: ${d}. Valid values: All`);
  const fv = q.get("fieldValidation") ?? undefined;
  if (fv && !["Strict", "Warn", "Ignore"].includes(fv)) throw badRequest(`fieldValidation ${fv} is invalid, valid values are: Ignore, Warn, Strict`);
  return {
    fieldManager: q.get("fieldManager") ?? undefined,
    userAgent: req.headers["user-agent"],
    dryRun: dryRun.length > 0,
    fieldValidation: fv,
    force: q.get("force") === "true",
  };
}

export function createHandler(ctx: HttpContext) {
  let docsCache: { generation: number; docs: Map<string, Json> } | undefined;
  const openApiDocs = () => {
    if (!docsCache || docsCache.generation !== ctx.api.registry.generation) {
      docsCache = { generation: ctx.api.registry.generation, docs: openApiDocuments(ctx.api.registry) };
    }
    return docsCache.docs;
  };

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? "/", "http://sim");
    const record: RequestRecord = { verb: "discovery", method: req.method ?? "GET", path: url.pathname, code: 200, userAgent: req.headers["user-agent"] };
    const reply = (code: number, body: unknown, headers?: Record<string, string>) => {
      record.code = code;
      json(res, code, body, headers);
    };
    try {
      const anonymous = ["/version", "/healthz", "/readyz", "/livez"].includes(url.pathname.replace(/\/+$/, ""));
      if (!anonymous && req.headers.authorization !== `Bearer ${ctx.token}`) throw unauthorized();
      if (ctx.faults.latencyMs > 0) await new Promise((r) => setTimeout(r, ctx.faults.latencyMs));
      const segs = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
      const p = url.pathname.replace(/\/+$/, "");
      if (p === "/version") return reply(200, versionInfo(ctx.gitVersion));
      if (p === "/healthz" || p === "/readyz" || p === "/livez") {
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end("ok");
        return;
      }
      const aggregatedWanted = (req.headers.accept ?? "").includes("g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList");
      if (p === "/api") return aggregatedWanted ? reply(200, aggregated(ctx.api.registry, true), { "Content-Type": AGGREGATED_V2 }) : reply(200, coreVersions());
      if (p === "/apis") return aggregatedWanted ? reply(200, aggregated(ctx.api.registry, false), { "Content-Type": AGGREGATED_V2 }) : reply(200, groupList(ctx.api.registry));
      if (p === "/api/v1" && req.method === "GET") return reply(200, resourceList(ctx.api.registry, "", "v1"));
      if (segs[0] === "apis" && segs.length === 2 && req.method === "GET") {
        const g = group(ctx.api.registry, segs[1]);
        if (!g) throw notFound({ group: "", resource: "groups" }, segs[1]);
        return reply(200, g);
      }
      if (segs[0] === "apis" && segs.length === 3 && req.method === "GET") {
        const list = resourceList(ctx.api.registry, segs[1], segs[2]);
        if (!list) throw notFound({ group: "", resource: "groupversions" }, `${segs[1]}/${segs[2]}`);
        return reply(200, list);
      }
      if (segs[0] === "openapi") {
        if (segs[1] === "v3" && segs.length === 2) return reply(200, openApiIndex(openApiDocs()));
        if (segs[1] === "v3") {
          const doc = openApiDocs().get(segs.slice(2).join("/"));
          if (doc) return reply(200, doc, { ETag: `"${documentHash(doc)}"` });
        }
        throw notFound({ group: "", resource: "openapi" }, url.pathname);
      }
      if ((segs[0] === "api" && segs.length >= 3) || (segs[0] === "apis" && segs.length >= 4)) {
        const target = parseTarget(ctx, segs);
        if (!target) {
          record.code = 404;
          return reply(404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", details: {}, code: 404 });
        }
        await handleResource(ctx, req, res, url, target, record, reply);
        return;
      }
      reply(404, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "the server could not find the requested resource", reason: "NotFound", details: {}, code: 404 });
    } catch (e) {
      if (e instanceof ApiError) reply(e.code, e.status, e.headers);
      else reply(500, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `simulator bug: ${(e as Error).stack ?? e}`, reason: "InternalError", code: 500 });
    } finally {
      if (record.verb !== "watch") ctx.onRequest(record);
    }
  };
}

function versionInfo(gitVersion: string) {
  const m = gitVersion.match(/^v(\d+)\.(\d+)/);
  return {
    major: m?.[1] ?? "1",
    minor: m?.[2] ?? "33",
    gitVersion,
    gitCommit: "0000000000000000000000000000000000000000",
    gitTreeState: "clean",
    buildDate: "2025-05-15T00:00:00Z",
    goVersion: "go1.24.2",
    compiler: "gc",
    platform: "linux/amd64",
  };
}

async function handleResource(
  ctx: HttpContext,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  t: Target,
  record: RequestRecord,
  reply: (code: number, body: unknown, headers?: Record<string, string>) => void,
): Promise<void> {
  const { api, faults } = ctx;
  const q = url.searchParams;
  const { rt, version, namespace, name, subresource } = t;
  Object.assign(record, { resource: rt.resource, namespace, name, subresource, fieldManager: q.get("fieldManager") ?? undefined });
  const method = req.method ?? "GET";
  const listKindVersion = apiVersionOf(rt.group, version);
  const present = (o: KObj) => api.present(rt, o, version);

  if (subresource && !["status", "scale", ...rt.extraSubresources].includes(subresource)) throw notFound(rt, `${name}/${subresource}`);
  if (subresource === "status" && !rt.statusSubresource) throw notFound(rt, `${name}/status`);
  if (subresource === "scale" && !rt.scale) throw notFound(rt, `${name}/scale`);

  // ---- reads ----
  if (method === "GET") {
    const watch = t.watchPath || q.get("watch") === "true" || q.get("watch") === "1";
    if (watch) {
      record.verb = "watch";
      faults.check("watch", rt, name ?? "");
      const table = wantsTable(req);
      ctx.onRequest({ ...record });
      const fieldSel = q.get("fieldSelector") ?? undefined;
      const nameFromField = fieldSel?.match(/^metadata\.name=([^,]+)$/)?.[1];
      serveWatch(
        api.store,
        {
          typeKey: typeKeyOf(rt.group, rt.resource),
          namespace: rt.namespaced ? namespace : undefined,
          name: name ?? nameFromField,
          labels: labelMatcher(q.get("labelSelector") ?? undefined),
          fields: nameFromField ? undefined : fieldMatcher(fieldSel, rt.selectableFields, rt.kind),
          resourceVersion: q.get("resourceVersion") ?? undefined,
          allowBookmarks: q.get("allowWatchBookmarks") === "true",
          sendInitialEvents: q.get("sendInitialEvents") === "true",
          timeoutSeconds: q.has("timeoutSeconds") ? Number(q.get("timeoutSeconds")) : undefined,
          dropAfterSeconds: faults.dropWatchesAfterSeconds,
          bookmarkIntervalMs: ctx.bookmarkIntervalMs,
          apiVersion: listKindVersion,
          kind: rt.kind,
          render: (o) => (table ? toTable(rt, version, [present(o)], { resourceVersion: o.metadata.resourceVersion }, q.get("includeObject") ?? "Metadata") : present(o)),
        },
        res,
        ctx.watches,
        () => {},
      );
      return;
    }
    if (name) {
      record.verb = "get";
      faults.check("get", rt, name);
      if (subresource === "scale") return reply(200, api.getScale(rt, namespace, name));
      if (subresource === "log") {
        const text = api.podLog(namespace ?? "", name, q.get("container") ?? undefined);
        record.code = 200;
        res.writeHead(200, { "Content-Type": "text/plain" });
        res.end(text);
        return;
      }
      if (subresource && subresource !== "status") throw methodNotAllowed(`GET is not supported on ${rt.resource}/${subresource}`);
      const obj = present(api.get(rt, namespace, name));
      if (wantsTable(req)) return reply(200, toTable(rt, version, [obj], { resourceVersion: obj.metadata.resourceVersion }, q.get("includeObject") ?? "Metadata"));
      return reply(200, obj);
    }
    record.verb = "list";
    faults.check("list", rt, "");
    const out = api.list(rt, namespace, {
      labelSelector: q.get("labelSelector") ?? undefined,
      fieldSelector: q.get("fieldSelector") ?? undefined,
      limit: q.has("limit") ? Number(q.get("limit")) : undefined,
      continue: q.get("continue") ?? undefined,
    });
    const meta: Record<string, unknown> = { resourceVersion: out.resourceVersion };
    if (out.continue) {
      meta.continue = out.continue;
      meta.remainingItemCount = out.remainingItemCount;
    }
    const items = out.items.map(present);
    if (wantsTable(req)) return reply(200, toTable(rt, version, items, meta, q.get("includeObject") ?? "Metadata"));
    return reply(200, { kind: rt.listKind, apiVersion: listKindVersion, metadata: meta, items });
  }

  // ---- writes ----
  const opts = writeOptions(q, req);
  const contentType = (req.headers["content-type"] ?? "application/json").split(";")[0].trim();
  const rawBytes = await readBody(req);
  const raw = rawBytes.toString("utf8");
  const parseJson = (): Json => {
    if (raw.trim() === "") return undefined;
    try {
      if (contentType === "application/yaml" || contentType === "application/apply-patch+yaml") return YAML.parse(raw);
      if (contentType === "application/vnd.kubernetes.protobuf") return decodeProtobuf(rawBytes);
      if (contentType === "application/cbor") throw unsupportedMediaType(contentType);
      return JSON.parse(raw);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      throw badRequest(`error decoding body: ${(e as Error).message}`);
    }
  };

  if (method === "POST") {
    if (name && subresource === "eviction") {
      record.verb = "create";
      faults.check("create", rt, name);
      return reply(201, api.evict(namespace ?? "", name, parseJson(), opts));
    }
    if (name) throw methodNotAllowed(`POST is not supported on ${rt.resource}/${name}${subresource ? `/${subresource}` : ""}`);
    record.verb = "create";
    const body = parseJson() as KObj;
    faults.check("create", rt, body?.metadata?.name ?? "");
    return reply(201, present(api.create(rt, namespace, body, opts)));
  }

  if (method === "PUT") {
    if (!name) throw methodNotAllowed(`PUT requires a name for ${rt.resource}`);
    record.verb = "update";
    faults.check("update", rt, name);
    const body = parseJson() as KObj;
    if (subresource === "scale") {
      return reply(200, api.writeScale(rt, namespace, name, () => body, opts));
    }
    if (subresource === "finalize") {
      const current = api.get(rt, namespace, name);
      return reply(200, api.update(rt, namespace, name, { ...clone(current), spec: { ...current.spec, finalizers: body?.spec?.finalizers ?? [] } }, opts));
    }
    const existed = api.tryGet(rt, namespace, name) !== undefined;
    const out = api.update(rt, namespace, name, body, opts, subresource === "status" ? "status" : "main");
    return reply(existed ? 200 : 201, present(out));
  }

  if (method === "PATCH") {
    if (!name) throw methodNotAllowed(`PATCH requires a name for ${rt.resource}`);
    record.verb = "patch";
    faults.check("patch", rt, name);
    const type = PATCH_CONTENT_TYPES[contentType];
    if (!type) throw unsupportedMediaType(contentType);
    const body = type === "apply" ? raw : parseJson();
    if (subresource === "scale") {
      if (type === "apply") throw methodNotAllowed("server-side apply of the scale subresource is not supported by the simulator");
      return reply(200, api.writeScale(rt, namespace, name, (scale) => api.patchValue(scale, type, body), opts));
    }
    const existed = api.tryGet(rt, namespace, name) !== undefined;
    const out = api.patch(rt, namespace, name, type, body, opts, subresource === "status" ? "status" : "main");
    return reply(existed ? 200 : 201, present(out));
  }

  if (method === "DELETE") {
    const body = parseJson() ?? {};
    const delOpts: DeleteOptions = {
      ...opts,
      dryRun: opts.dryRun || (Array.isArray(body.dryRun) && body.dryRun.includes("All")),
      propagationPolicy: (q.get("propagationPolicy") ?? body.propagationPolicy ?? (body.orphanDependents === true ? "Orphan" : undefined)) as DeleteOptions["propagationPolicy"],
      preconditions: body.preconditions,
      gracePeriodSeconds: q.has("gracePeriodSeconds") ? Number(q.get("gracePeriodSeconds")) : body.gracePeriodSeconds,
    };
    if (delOpts.propagationPolicy && !["Background", "Foreground", "Orphan"].includes(delOpts.propagationPolicy)) {
      throw badRequest(`propagationPolicy: Unsupported value: "${delOpts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan"`);
    }
    if (subresource) throw methodNotAllowed(`DELETE is not supported on ${rt.resource}/${subresource}`);
    if (!name) {
      record.verb = "deletecollection";
      faults.check("deletecollection", rt, "");
      const items = api.deleteCollection(rt, namespace, { labelSelector: q.get("labelSelector") ?? undefined, fieldSelector: q.get("fieldSelector") ?? undefined }, delOpts);
      return reply(200, { kind: rt.listKind, apiVersion: listKindVersion, metadata: { resourceVersion: String(api.store.resourceVersion) }, items: items.map(present) });
    }
    record.verb = "delete";
    faults.check("delete", rt, name);
    const result = api.delete(rt, namespace, name, delOpts);
    const { code, body: out } = api.deleteStatus(rt, result);
    return reply(code, "kind" in out && out.kind !== "Status" ? present(out as KObj) : out);
  }
  throw methodNotAllowed(`${method} is not supported`);
}
