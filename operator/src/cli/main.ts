#!/usr/bin/env node
// olares-operator: run | plan | validate | crd | agent.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { registerValidateCommand } from "./validate.js";
import { registerPlanCommand } from "./plan.js";
import { registerCrdCommand } from "./crd.js";
import { registerRunCommand } from "./run.js";
import { OPERATOR_VERSION } from "./version.js";

/**
 * The agent command's module loads the host and Kubernetes client stacks at import (~1 s), so it is
 * registered only when it can be asked for: `agent ...`, `help ...` or a bare/--help invocation.
 */
export function agentMayBeInvoked(argv: readonly string[]): boolean {
  const first = argv.slice(2).find((a) => !a.startsWith("-"));
  return first === undefined || first === "agent" || first === "help";
}

export async function buildProgram(argv: readonly string[] = ["node", "olares-operator"]): Promise<Command> {
  const program = new Command()
    .name("olares-operator")
    .description("Install and run Olares on Kubernetes from one OlaresInstallation resource")
    .version(OPERATOR_VERSION)
    .showHelpAfterError();
  registerRunCommand(program);
  registerPlanCommand(program);
  registerValidateCommand(program);
  registerCrdCommand(program);
  if (agentMayBeInvoked(argv)) (await import("./agent.js")).registerAgentCommand(program);
  return program;
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  await (await buildProgram(process.argv)).parseAsync(process.argv);
}
