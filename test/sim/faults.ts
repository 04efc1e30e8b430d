// Fault injection knobs, applied by the HTTP layer to client requests (never to in-process controllers).
import { ApiError, conflict, internalError, MODIFIED_MESSAGE, serviceUnavailable, tooManyRequests } from "./errors.js";
import type { ObjectStore } from "./store.js";
import type { ResourceType } from "./types.js";

export type Verb = "get" | "list" | "watch" | "create" | "update" | "patch" | "delete" | "deletecollection";
export const WRITE_VERBS: readonly Verb[] = ["create", "update", "patch", "delete", "deletecollection"];

export interface ErrorRate {
  /** 0..1 probability that a request of this verb fails. */
  rate: number;
  /** Status codes picked from at random (default 500, 503, 429). */
  codes?: Array<500 | 503 | 429>;
  /** Retry-After seconds sent with 429/503 (default 1). */
  retryAfterSeconds?: number;
}

export class Faults {
  private readonly errorRates = new Map<Verb, ErrorRate>();
  /** Milliseconds added before every API request is handled. */
  latencyMs = 0;
  /** When set, every watch stream is closed this many seconds after it started. */
  dropWatchesAfterSeconds: number | undefined;
  private forcedConflicts = 0;
  private readinessPaused = false;
  private readonly readinessListeners = new Set<(paused: boolean) => void>();
  /** Counts of injected failures by kind, for assertions. */
  readonly injected = { errors: 0, conflicts: 0 };

  constructor(private readonly store: ObjectStore) {}

  /** Fail `rate` of requests of `verb` ("*" = every verb) with 500/503/429. */
  setErrorRate(verb: Verb | "*", rate: number | ErrorRate): void {
    const spec = typeof rate === "number" ? { rate } : rate;
    if (!(spec.rate >= 0 && spec.rate <= 1)) throw new Error(`faults.setErrorRate: rate must be within 0..1, got ${spec.rate}`);
    const verbs: Verb[] = verb === "*" ? ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"] : [verb];
    for (const v of verbs) {
      if (spec.rate === 0) this.errorRates.delete(v);
      else this.errorRates.set(v, spec);
    }
  }

  /** The next `n` writes (create/update/patch/delete) fail with 409 Conflict. */
  forceConflicts(n: number): void {
    this.forcedConflicts = n;
  }

  /** Drop all watch history now: watches from any older resourceVersion get 410 Gone. */
  compactHistory(): void {
    this.store.compact();
  }

  /** Freeze the simulated kubelets: nodes report Ready=Unknown and pods stop becoming Ready. */
  pauseNodeReadiness(paused = true): void {
    this.readinessPaused = paused;
    for (const l of this.readinessListeners) l(paused);
  }

  get nodeReadinessPaused(): boolean {
    return this.readinessPaused;
  }

  onReadinessPause(listener: (paused: boolean) => void): () => void {
    this.readinessListeners.add(listener);
    return () => this.readinessListeners.delete(listener);
  }

  reset(): void {
    this.errorRates.clear();
    this.latencyMs = 0;
    this.dropWatchesAfterSeconds = undefined;
    this.forcedConflicts = 0;
    if (this.readinessPaused) this.pauseNodeReadiness(false);
  }

  /** Throws the injected error for this request, if any. */
  check(verb: Verb, rt: ResourceType, name: string): void {
    if (this.forcedConflicts > 0 && WRITE_VERBS.includes(verb)) {
      this.forcedConflicts--;
      this.injected.conflicts++;
      throw conflict(rt, name || rt.resource, MODIFIED_MESSAGE);
    }
    const spec = this.errorRates.get(verb);
    if (!spec || Math.random() >= spec.rate) return;
    this.injected.errors++;
    const codes = spec.codes ?? [500, 503, 429];
    const code = codes[Math.floor(Math.random() * codes.length)];
    const retry = spec.retryAfterSeconds ?? 1;
    let err: ApiError;
    if (code === 429) err = tooManyRequests("simulated: too many requests, please try again later", retry);
    else if (code === 503) {
      err = serviceUnavailable("simulated: the server is currently unable to handle the request");
      err.headers["Retry-After"] = String(retry);
    } else err = internalError("simulated: an error on the server has prevented the request from succeeding");
    throw err;
  }
}
