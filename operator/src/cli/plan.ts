// `olares-operator plan -f FILE`: every object the operator would apply, in stage order, and every
// host change per node config — offline, with the same render() the controller uses.
import { Command, InvalidArgumentError, Option } from "commander";
import { yamlDocuments } from "./yaml-documents.js";
import { KIND } from "../api/index.js";
import { DEFAULT_OPERATOR_IMAGE } from "../render/images.js";
import { RenderError } from "../render/index.js";
import { planFor, PlanError } from "./plan-model.js";
import { formatPlan, PLAN_FORMATS, type PlanFormat } from "./plan-output.js";
import { processIO, type CliIO } from "./io.js";

export interface PlanCommandOptions {
  file: string;
  output: PlanFormat;
  nodes: number;
  gpuNodes: number;
  image: string;
}

function count(flag: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 0`);
    return Number(value);
  };
}

/** The OlaresInstallation documents of a YAML stream (other kinds, e.g. Secrets, are skipped). */
export function installationDocuments(text: string, source: string): unknown[] {
  const out: unknown[] = [];
  for (const doc of yamlDocuments(text)) {
    if ("error" in doc) throw new PlanError(`${source}: document ${doc.index + 1}: ${doc.error}`);
    const value = doc.value as { kind?: unknown } | null;
    if (value && value.kind === KIND) out.push(value);
  }
  if (out.length === 0) throw new PlanError(`${source}: no ${KIND} document found`);
  if (out.length > 1) throw new PlanError(`${source}: ${out.length} ${KIND} documents; only one is honoured, plan one at a time`);
  return out;
}

/** Runs the plan; returns the exit code. */
export function runPlan(opts: PlanCommandOptions, io: CliIO = processIO): number {
  try {
    const text = io.readFile(opts.file);
    const [document] = installationDocuments(text, opts.file === "-" ? "stdin" : opts.file);
    const plan = planFor(document, { nodes: opts.nodes, gpuNodes: opts.gpuNodes, image: opts.image });
    io.stdout(formatPlan(plan, opts.output));
    return 0;
  } catch (err) {
    if (err instanceof PlanError || err instanceof RenderError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      io.stderr(`${opts.file}: no such file\n`);
      return 1;
    }
    throw err;
  }
}

export function registerPlanCommand(program: Command, io: CliIO = processIO): Command {
  return program
    .command("plan")
    .description("Show, offline, every object the operator would apply (in stage order) and every host change per node config")
    .option("-f, --filename <file>", "OlaresInstallation YAML ('-' for stdin)")
    .addOption(new Option("--file <file>", "same as --filename").hideHelp())
    .addOption(new Option("-o, --output <format>", "output format").choices([...PLAN_FORMATS]).default("table"))
    .option("--nodes <n>", "number of simulated nodes", count("--nodes"), 1)
    .option("--gpu-nodes <n>", "how many of the simulated nodes have an NVIDIA GPU", count("--gpu-nodes"), 0)
    .option("--image <image>", "operator image (the node agent runs it too)", DEFAULT_OPERATOR_IMAGE)
    .action((opts: PlanCommandOptions & { filename?: string }) => {
      const file = opts.filename ?? opts.file;
      if (!file) {
        io.stderr("error: required option '-f, --filename <file>' not specified\n");
        process.exitCode = 1;
        return;
      }
      process.exitCode = runPlan({ ...opts, file }, io);
    });
}
