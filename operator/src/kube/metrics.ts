// Prometheus metrics of the operator runtime. One registry per process (tests make their own).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface OperatorMetrics {
  registry: Registry;
  /** API requests by verb and HTTP code ("0" = no answer). */
  apiRequests: Counter<"verb" | "code">;
  reconcileTotal: Counter<"stage" | "result">;
  reconcileDuration: Histogram<"stage">;
  reconcileErrors: Counter<"stage">;
  queueDepth: Gauge<"queue">;
  queueAdds: Counter<"queue">;
  queueRetries: Counter<"queue">;
  informerRelists: Counter<"kind" | "reason">;
  informerWatchRestarts: Counter<"kind">;
  leader: Gauge;
  eventsDropped: Counter<"reason">;
}

export interface MetricsOptions {
  registry?: Registry;
  /** Process metrics (CPU, memory, event loop lag); off in tests. */
  defaultMetrics?: boolean;
}

export function createMetrics(opts: MetricsOptions = {}): OperatorMetrics {
  const registry = opts.registry ?? new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry, prefix: "olares_operator_" });
  const registers = [registry];
  return {
    registry,
    apiRequests: new Counter({
      name: "olares_operator_api_requests_total",
      help: "Kubernetes API requests sent, by verb and HTTP status code.",
      labelNames: ["verb", "code"],
      registers,
    }),
    reconcileTotal: new Counter({
      name: "olares_operator_reconcile_total",
      help: "Stage reconciliations, by stage and result (ready, progressing, error).",
      labelNames: ["stage", "result"],
      registers,
    }),
    reconcileDuration: new Histogram({
      name: "olares_operator_reconcile_duration_seconds",
      help: "Time spent reconciling one stage.",
      labelNames: ["stage"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    reconcileErrors: new Counter({
      name: "olares_operator_reconcile_errors_total",
      help: "Stage reconciliations that failed with an error.",
      labelNames: ["stage"],
      registers,
    }),
    queueDepth: new Gauge({
      name: "olares_operator_workqueue_depth",
      help: "Keys waiting in the work queue (not counting delayed ones).",
      labelNames: ["queue"],
      registers,
    }),
    queueAdds: new Counter({
      name: "olares_operator_workqueue_adds_total",
      help: "Keys added to the work queue.",
      labelNames: ["queue"],
      registers,
    }),
    queueRetries: new Counter({
      name: "olares_operator_workqueue_retries_total",
      help: "Keys re-added with rate limiting after a failure.",
      labelNames: ["queue"],
      registers,
    }),
    informerRelists: new Counter({
      name: "olares_operator_informer_relists_total",
      help: "Full relists by informers, by kind and reason (initial, gone, watchdog, error).",
      labelNames: ["kind", "reason"],
      registers,
    }),
    informerWatchRestarts: new Counter({
      name: "olares_operator_informer_watch_restarts_total",
      help: "Watch streams re-opened from the last resourceVersion.",
      labelNames: ["kind"],
      registers,
    }),
    leader: new Gauge({
      name: "olares_operator_leader",
      help: "1 while this replica holds the leader lease.",
      registers,
    }),
    eventsDropped: new Counter({
      name: "olares_operator_events_dropped_total",
      help: "Kubernetes Events that could not be written (the reconcile went on).",
      labelNames: ["reason"],
      registers,
    }),
  };
}

/**
 * Times one stage reconcile: duration histogram, `reconcile_total{result}` (from `resultOf`, default
 * "success"; "error" when it throws) and `reconcile_errors_total`.
 */
export async function measureStage<T>(
  metrics: OperatorMetrics | undefined,
  stage: string,
  fn: () => Promise<T>,
  resultOf: (value: T) => string = () => "success",
): Promise<T> {
  if (!metrics) return fn();
  const end = metrics.reconcileDuration.startTimer({ stage });
  try {
    const value = await fn();
    metrics.reconcileTotal.inc({ stage, result: resultOf(value) });
    return value;
  } catch (err) {
    metrics.reconcileTotal.inc({ stage, result: "error" });
    metrics.reconcileErrors.inc({ stage });
    throw err;
  } finally {
    end();
  }
}
