// Builders for task tests.
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { nodeConfigId, type HostTask } from "../../operator/src/contract/index.js";
import { applyNodeConfig, type ApplyResult, type TypedNodeConfig } from "../../operator/src/agent/tasks/index.js";
import type { FakeSystem } from "./fake-system.js";

export function configOf(tasks: HostTask[], group = "default"): TypedNodeConfig {
  return { id: nodeConfigId(tasks), group, tasks };
}

export function apply(sys: FakeSystem, config: TypedNodeConfig, allowReboot = false): Promise<ApplyResult> {
  return applyNodeConfig(sys.host, config, { allowReboot, log: sys.log });
}

export async function hostText(sys: FakeSystem, p: string): Promise<string | undefined> {
  try {
    return await readFile(path.join(sys.root, p), "utf8");
  } catch {
    return undefined;
  }
}

export async function mtimeOf(sys: FakeSystem, p: string): Promise<number> {
  return (await stat(path.join(sys.root, p))).mtimeMs;
}

/** Applies twice: the second run must change nothing and run no mutating command. */
export async function applyIdempotent(sys: FakeSystem, config: TypedNodeConfig, allowReboot = false): Promise<ApplyResult> {
  const first = await apply(sys, config, allowReboot);
  if (first.error) throw new Error(`first apply failed at ${first.error.taskId}: ${first.error.message}`);
  sys.exec.clear();
  const second = await apply(sys, config, allowReboot);
  if (second.error) throw new Error(`re-apply failed at ${second.error.taskId}: ${second.error.message}`);
  if (second.changed.length > 0) throw new Error(`re-apply changed ${second.changed.join(", ")}`);
  const mutating = sys.mutatingCommands();
  if (mutating.length > 0) throw new Error(`re-apply ran ${mutating.join("; ")}`);
  return first;
}

export const base = { description: "test task", disruption: "none" as const };
