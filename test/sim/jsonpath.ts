// The JSONPath subset printer columns use: .a.b, [n], [*], [?(@.k=="v")] (and != ).
import { isPlainObject } from "./objects.js";
import type { Json } from "./types.js";

export function evalJsonPath(obj: Json, path: string): Json[] {
  let cur: Json[] = [obj];
  const tokens = path.replace(/^\{|\}$/g, "").match(/\.[^.[\]]+|\[[^\]]*\]/g) ?? [];
  for (const t of tokens) {
    const next: Json[] = [];
    if (t.startsWith(".")) {
      const k = t.slice(1);
      for (const v of cur) if (isPlainObject(v) && v[k] !== undefined) next.push(v[k]);
    } else {
      const inner = t.slice(1, -1);
      const filter = inner.match(/^\?\(@\.([\w.-]+)\s*(==|!=)\s*["']?([^"')]*)["']?\)$/);
      for (const v of cur) {
        if (!Array.isArray(v)) continue;
        if (inner === "*") next.push(...v);
        else if (filter) {
          for (const item of v) {
            const got = String(filter[1].split(".").reduce((o: Json, k) => (isPlainObject(o) ? o[k] : undefined), item));
            if ((filter[2] === "==") === (got === filter[3])) next.push(item);
          }
        } else if (/^-?\d+$/.test(inner)) {
          const i = Number(inner);
          const item = v[i < 0 ? v.length + i : i];
          if (item !== undefined) next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
