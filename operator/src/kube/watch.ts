// One HTTP watch stream: newline-delimited JSON events. An in-stream ERROR event (e.g. 410 Expired)
// ends the stream with a typed ApiError; stop() closes it without reporting.
import { createInterface } from "node:readline";
import { ApiError, apiErrorFromResponse } from "./errors.js";
import type { Transport } from "./transport.js";
import type { KubeObject } from "../contract/index.js";
import type { WatchEvent, WatchHandle, WatchOptions } from "./types.js";

const EVENT_TYPES = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

export async function openWatch(
  transport: Transport,
  collectionPath: string,
  opts: WatchOptions,
  onEvent: (ev: WatchEvent) => void,
  onDone: (err?: unknown) => void,
): Promise<WatchHandle> {
  const stream = await transport
    .stream({
      verb: "watch",
      method: "GET",
      path: collectionPath,
      query: {
        watch: "true",
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks === false ? undefined : "true",
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        timeoutSeconds: opts.timeoutSeconds,
      },
    })
    .catch((err: unknown) => {
      queueMicrotask(() => onDone(err));
      return undefined;
    });
  if (!stream) return { stop: () => undefined };

  let finished = false;
  const finish = (err?: unknown): void => {
    if (finished) return;
    finished = true;
    stream.abort();
    onDone(err);
  };
  const lines = createInterface({ input: stream.response, crlfDelay: Infinity });
  lines.on("line", (line) => {
    if (finished || line.trim() === "") return;
    let ev: { type?: string; object?: unknown };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return finish(new ApiError(0, "BadWatchEvent", `watch ${collectionPath}: undecodable event`));
    }
    if (!ev.type || !EVENT_TYPES.has(ev.type) || typeof ev.object !== "object" || ev.object === null) {
      return finish(new ApiError(0, "BadWatchEvent", `watch ${collectionPath}: malformed event`));
    }
    if (ev.type === "ERROR") {
      const status = ev.object as { code?: number };
      return finish(apiErrorFromResponse(status.code ?? 500, JSON.stringify(ev.object), `WATCH ${collectionPath}`));
    }
    onEvent({ type: ev.type as WatchEvent["type"], object: ev.object as KubeObject });
  });
  const onError = (err: Error): void => finish(new ApiError(0, "ServiceUnavailable", `watch ${collectionPath}: ${err.message}`));
  stream.response.on("error", onError);
  lines.on("error", onError); // readline re-emits input errors on itself
  lines.on("close", () => finish());
  return {
    stop: () => {
      finished = true;
      stream.abort();
    },
  };
}
