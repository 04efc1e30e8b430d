// Label selector parsing and matching (the string form used in `?labelSelector=`), same grammar as
// k8s.io/apimachinery/pkg/labels: `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`.

export type Requirement =
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/;

function splitTopLevel(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = "";
  for (const ch of selector) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      parts.push(current);
      current = "";
    } else current += ch;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p.length > 0);
}

function checkKey(key: string, selector: string): string {
  if (!KEY.test(key)) throw new Error(`labelSelector: invalid key "${key}" in "${selector}"`);
  return key;
}

export function parseLabelSelector(selector: string | undefined): Requirement[] {
  if (!selector || selector.trim() === "") return [];
  return splitTopLevel(selector).map((part): Requirement => {
    let m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(part);
    if (m) {
      const key = checkKey(m[1]!, selector);
      return { key, op: m[2] === "!=" ? "notin" : "in", values: [m[3]!] };
    }
    m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part);
    if (m) {
      const values = m[3]!.split(",").map((v) => v.trim()).filter((v) => v !== "");
      return { key: checkKey(m[1]!, selector), op: m[2] as "in" | "notin", values };
    }
    m = /^(!?)(\S+)$/.exec(part);
    if (m) return { key: checkKey(m[2]!, selector), op: m[1] ? "!exists" : "exists" };
    throw new Error(`labelSelector: cannot parse "${part}" in "${selector}"`);
  });
}

export function matchesRequirements(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    switch (r.op) {
      case "exists":
        return has;
      case "!exists":
        return !has;
      case "in":
        return has && r.values.includes(l[r.key]!);
      case "notin":
        return !has || !r.values.includes(l[r.key]!);
    }
  });
}

export function matchesLabelSelector(selector: string | undefined, labels: Record<string, string> | undefined): boolean {
  return matchesRequirements(parseLabelSelector(selector), labels);
}

/** Field selectors as the fake and caches support them: `metadata.name=x`, `metadata.namespace!=y`, `spec.nodeName=n`. */
export function matchesFieldSelector(selector: string | undefined, obj: Record<string, unknown>): boolean {
  if (!selector || selector.trim() === "") return true;
  return selector.split(",").every((part) => {
    const m = /^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$/.exec(part);
    if (!m) throw new Error(`fieldSelector: cannot parse "${part}"`);
    let value: unknown = obj;
    for (const seg of m[1]!.split(".")) value = (value as Record<string, unknown> | undefined)?.[seg];
    const actual = value === undefined || value === null ? "" : String(value);
    return m[2] === "!=" ? actual !== m[3] : actual === m[3];
  });
}
