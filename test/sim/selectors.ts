// Label and field selectors, parsed once and matched per object.
import { badRequest } from "./errors.js";
import { getPath } from "./objects.js";
import type { KObj } from "./types.js";

type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!" };

export type Matcher = (obj: KObj) => boolean;

/** Split on commas that are not inside parentheses. */
function splitTerms(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of s) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== "");
}

const LABEL_KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z.]*[a-z0-9A-Z])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/;

export function parseLabelSelector(selector: string): Requirement[] {
  const reqs: Requirement[] = [];
  for (const term of splitTerms(selector)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      reqs.push({ key: m[1], op: m[2] as "in" | "notin", values: m[3].split(",").map((v) => v.trim()) });
    } else if ((m = term.match(/^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/))) {
      reqs.push({ key: m[1], op: m[2] === "!=" ? "!=" : "=", value: m[3] });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      reqs.push({ key: m[1], op: "!" });
    } else if ((m = term.match(/^(\S+)$/))) {
      reqs.push({ key: m[1], op: "exists" });
    } else {
      throw badRequest(`unable to parse requirement: found '${term}', expected: '=', '!=', '==', 'in', notin'`);
    }
    const key = reqs[reqs.length - 1].key;
    if (!LABEL_KEY.test(key)) throw badRequest(`unable to parse requirement: invalid label key "${key}"`);
  }
  return reqs;
}

function matchLabels(reqs: Requirement[], labels: Record<string, string>): boolean {
  for (const r of reqs) {
    const has = Object.prototype.hasOwnProperty.call(labels, r.key);
    const v = labels[r.key];
    switch (r.op) {
      case "=":
        if (!has || v !== r.value) return false;
        break;
      case "!=":
        if (has && v === r.value) return false;
        break;
      case "in":
        if (!has || !r.values.includes(v)) return false;
        break;
      case "notin":
        if (has && r.values.includes(v)) return false;
        break;
      case "exists":
        if (!has) return false;
        break;
      case "!":
        if (has) return false;
        break;
    }
  }
  return true;
}

export function labelMatcher(selector: string | undefined): Matcher | undefined {
  if (!selector) return undefined;
  const reqs = parseLabelSelector(selector);
  return (obj) => matchLabels(reqs, obj.metadata.labels ?? {});
}

/** metav1.LabelSelector (matchLabels + matchExpressions) as a matcher; empty selects everything. */
export function labelSelectorObjectMatcher(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined): (labels: Record<string, string>) => boolean {
  const reqs: Requirement[] = [];
  for (const [key, value] of Object.entries(sel?.matchLabels ?? {})) reqs.push({ key, op: "=", value });
  for (const e of sel?.matchExpressions ?? []) {
    const op = e.operator;
    if (op === "In") reqs.push({ key: e.key, op: "in", values: e.values ?? [] });
    else if (op === "NotIn") reqs.push({ key: e.key, op: "notin", values: e.values ?? [] });
    else if (op === "Exists") reqs.push({ key: e.key, op: "exists" });
    else if (op === "DoesNotExist") reqs.push({ key: e.key, op: "!" });
  }
  return (labels) => matchLabels(reqs, labels);
}

/** The string form the apiserver prints for a LabelSelector (Scale.status.selector). */
export function labelSelectorToString(sel: { matchLabels?: Record<string, string>; matchExpressions?: Array<{ key: string; operator: string; values?: string[] }> } | undefined): string {
  const parts = Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel?.matchExpressions ?? []) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.join(",");
}

/** Field selector; `allowed` are the fields besides metadata.name/metadata.namespace. */
export function fieldMatcher(selector: string | undefined, allowed: string[], kind: string): Matcher | undefined {
  if (!selector) return undefined;
  const reqs: Array<{ field: string; neg: boolean; value: string }> = [];
  for (const term of splitTerms(selector)) {
    const m = term.match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    const field = m[1].trim();
    if (field !== "metadata.name" && field !== "metadata.namespace" && !allowed.includes(field)) {
      throw badRequest(`field label not supported: ${field}`);
    }
    reqs.push({ field, neg: m[2] === "!=", value: m[3].trim() });
  }
  void kind;
  return (obj) =>
    reqs.every((r) => {
      const raw = r.field === "source" ? getPath(obj, "source.component") : getPath(obj, r.field);
      const v = raw === undefined || raw === null ? "" : String(raw);
      return r.neg ? v !== r.value : v === r.value;
    });
}
