// Several informers behind one read-only ObservedState: what render's readiness checks and the
// controller read instead of calling the API server.
import type { KubeObject, ObjectRef, ObservedState } from "../contract/index.js";
import type { Informer } from "./informer.js";

export class CacheSet implements ObservedState {
  private readonly informers = new Map<string, Informer[]>();

  constructor(informers: Informer[] = []) {
    informers.forEach((i) => this.add(i));
  }

  add(informer: Informer): this {
    const key = `${informer.apiVersion}/${informer.kind}`;
    this.informers.set(key, [...(this.informers.get(key) ?? []), informer]);
    return this;
  }

  all(): Informer[] {
    return [...this.informers.values()].flat();
  }

  start(): void {
    this.all().forEach((i) => i.start());
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop()));
  }

  hasSynced(): boolean {
    return this.all().every((i) => i.hasSynced());
  }

  async waitForSync(): Promise<void> {
    await Promise.all(this.all().map((i) => i.waitForSync()));
  }

  /** Informers that heard nothing for too long (for /healthz). */
  stalled(): Informer[] {
    return this.all().filter((i) => i.isStalled());
  }

  get(ref: ObjectRef): KubeObject | undefined {
    for (const informer of this.informersFor(ref.apiVersion, ref.kind, ref.namespace)) {
      const obj = informer.get(ref.name, ref.namespace);
      if (obj) return obj;
    }
    return undefined;
  }

  list(apiVersion: string, kind: string, namespace?: string): KubeObject[] {
    const seen = new Set<string>();
    const out: KubeObject[] = [];
    for (const informer of this.informersFor(apiVersion, kind, namespace)) {
      for (const obj of informer.list(namespace)) {
        const key = `${obj.metadata.namespace ?? ""}/${obj.metadata.name}`;
        if (!seen.has(key)) {
          seen.add(key);
          out.push(obj);
        }
      }
    }
    return out;
  }

  private informersFor(apiVersion: string, kind: string, namespace: string | undefined): Informer[] {
    const candidates = this.informers.get(`${apiVersion}/${kind}`);
    if (!candidates) {
      throw new Error(`informer cache: ${apiVersion} ${kind} is not watched; add an informer for it to the CacheSet`);
    }
    // A namespace-scoped informer cannot answer for another namespace.
    const usable = candidates.filter((i) => i.namespace === undefined || namespace === undefined || i.namespace === namespace);
    if (usable.length === 0) {
      throw new Error(`informer cache: ${apiVersion} ${kind} is watched only in ${candidates.map((i) => i.namespace).join(", ")}, not in "${namespace}"`);
    }
    return usable;
  }
}
