// What every host-task kind module provides, and the checker its validator reports through.
import type { HostTaskBase } from "../node-config.js";

export interface TaskChecker {
  /** Records "<task id>.<field>: <value> <rule>". */
  bad(field: string, value: unknown, rule: string): void;
  /** A list of min..max strings, each passing `ok`. */
  list(field: string, value: unknown, ok: (s: string) => boolean, rule: string, min: number, max: number): void;
}

/** One host-task kind: its validator (every rule the agent relies on) and its `plan` lines. */
export interface HostTaskKindSpec<T extends HostTaskBase> {
  kind: T["kind"];
  validate(task: T, check: TaskChecker): void;
  /** What applying it does on the host, one line per file, unit, package, restart or reboot. */
  describe(task: T): string[];
}

export const TASK_ID = /^[a-z0-9][a-z0-9._/-]{0,127}$/;

export function isMode(n: unknown): boolean {
  return typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= 0o7777;
}

export function isContent(s: unknown): boolean {
  return typeof s === "string" && !s.includes("\0") && s.length <= 1024 * 1024;
}

export const CONTENT_RULE = "must be text without NUL bytes, at most 1 MiB";
