// `olares-operator plan -f FILE`: every object the operator would apply, in stage order, and every
// host change per node config — offline, with the same render() the controller uses. With
// `--from CURRENT`, what changes from CURRENT to FILE (plan-diff.ts).
import { Command, InvalidArgumentError, Option } from "commander";
import { yamlDocuments } from "./yaml-documents.js";
import { API_VERSION, KIND } from "../api/index.js";
import { DEFAULT_OPERATOR_IMAGE } from "../render/images.js";
import { RenderError } from "../render/index.js";
import { planFor, PlanError } from "./plan-model.js";
import { formatPlan, PLAN_FORMATS, type PlanFormat } from "./plan-output.js";
import { processIO, type CliIO } from "./io.js";
import { diffPlans } from "./plan-diff.js";
import { formatPlanDiff } from "./plan-diff-output.js";
import type { KubeObject, StorageKind } from "../contract/index.js";
import { renderPlanReleases } from "./plan-render.js";

export interface PlanCommandOptions {
  file: string;
  output: PlanFormat;
  nodes: number;
  gpuNodes: number;
  image: string;
  /** The spec running now: plan shows what changes from it to `file`. */
  from?: string;
  /** What serves the rootfs now, when known better than from's spec (a live object's status.storage.activeType). */
  fromActiveStorageType?: StorageKind;
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
    const planOptions = { nodes: opts.nodes, gpuNodes: opts.gpuNodes, image: opts.image };
    const source = opts.file === "-" ? "stdin" : opts.file;
    const [document] = installationDocuments(readNamed(io, opts.file), source);
    if (opts.from === undefined) {
      io.stdout(formatPlan(inFile(source, () => planFor(document, planOptions)), opts.output));
      return 0;
    }
    if (opts.from === opts.file && opts.file === "-") throw new PlanError("--from and -f cannot both read stdin");
    const fromSource = opts.from === "-" ? "stdin" : opts.from;
    const [current] = installationDocuments(readNamed(io, opts.from), fromSource);
    const before = inFile(fromSource, () => planFor(current, planOptions));
    // The new spec is checked against the current one as the stored object (transition rules), and the
    // storage type of the current one is what serves the rootfs: a different type is a migration.
    const activeStorageType = opts.fromActiveStorageType ?? (before.spec.storage.type as StorageKind);
    const after = inFile(source, () => planFor(document, { ...planOptions, activeStorageType }, current));
    if (before.installationName !== after.installationName) {
      throw new PlanError(`${source}: metadata.name: ${JSON.stringify(after.installationName)} is not the installation in ${fromSource} (${JSON.stringify(before.installationName)})`);
    }
    if (opts.output === "yaml") throw new PlanError("-o yaml lists objects; with --from use -o table or -o json");
    io.stdout(formatPlanDiff(diffPlans(before, after, { from: fromSource, to: source }), after, opts.output));
    return 0;
  } catch (err) {
    if (err instanceof PlanError || err instanceof RenderError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

function readNamed(io: CliIO, file: string): string {
  try {
    return io.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new PlanError(`${file}: no such file`);
    throw err;
  }
}

/** Runs `make`, naming `source` in a validation or render error (two files are in play with --from). */
function inFile<T>(source: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof PlanError || err instanceof RenderError) throw new PlanError(`${source}: ${err.message}`);
    throw err;
  }
}

export function registerPlanCommand(program: Command, io: CliIO = processIO): Command {
  return program
    .command("plan")
    .description("Show, offline, every object the operator would apply (in stage order) and every host change per node config")
    .option("-f, --filename <file>", "OlaresInstallation YAML ('-' for stdin)")
    .option("--from <file>", "the OlaresInstallation running now: show what changes from it to -f (objects per stage, host tasks per node, a storage switch step by step)")
    .option("--from-cluster", "like --from, with the live OlaresInstallation of -f's name (and its status.storage.activeType) read from the cluster")
    .option("--kubeconfig <file>", "kubeconfig for --from-cluster (default: in-cluster service account, then KUBECONFIG / ~/.kube/config)")
    .addOption(new Option("--file <file>", "same as --filename").hideHelp())
    .addOption(new Option("-o, --output <format>", "output format").choices([...PLAN_FORMATS]).default("table"))
    .option("--nodes <n>", "number of simulated nodes", count("--nodes"), 1)
    .option("--gpu-nodes <n>", "how many of the simulated nodes have an NVIDIA GPU", count("--gpu-nodes"), 0)
    .option("--image <image>", "operator image (the node agent runs it too)", DEFAULT_OPERATOR_IMAGE)
    .option("--render", "also expand each Helm release of the Olares release with helm template (needs the release on this machine)")
    .option("--release-dir <dir>", "with --render: an unpacked release (its installer dir, or a cache holding versions/v<ver>); default the operator's cache")
    .option("--helm <path>", "with --render: the helm binary (default $OLARES_HELM, else helm on PATH)")
    .action(async (opts: PlanCommandOptions & { filename?: string; render?: boolean; releaseDir?: string; helm?: string; fromCluster?: boolean; kubeconfig?: string }) => {
      const file = opts.filename ?? opts.file;
      if (!file) {
        io.stderr("error: required option '-f, --filename <file>' not specified\n");
        process.exitCode = 1;
        return;
      }
      if (opts.fromCluster) {
        if (opts.from !== undefined) io.stderr("error: --from and --from-cluster both say what runs now; give one\n");
        process.exitCode = opts.from !== undefined ? 1 : await planFromCluster({ ...opts, file }, opts.kubeconfig, io);
        return;
      }
      process.exitCode = runPlan({ ...opts, file }, io);
      if (!opts.render || process.exitCode !== 0) return;
      const [document] = installationDocuments(io.readFile(file), file) as Array<{ metadata?: { name?: string }; spec?: unknown }>;
      const cacheDir = process.env.OLARES_RELEASE_CACHE ?? "/var/cache/olares-operator";
      const r = await renderPlanReleases(document!, { cacheDir, helm: opts.helm ?? process.env.OLARES_HELM ?? "helm", gpuNodes: opts.gpuNodes, ...(opts.releaseDir ? { releaseDir: opts.releaseDir } : {}) });
      io.stdout(r.text);
      if (!r.ok) process.exitCode = 1;
    });
}

/** `plan --from-cluster`: the live object of -f's name is the current spec (its status says what serves the rootfs). */
export async function planFromCluster(opts: PlanCommandOptions, kubeconfig: string | undefined, io: CliIO = processIO): Promise<number> {
  let name: string;
  try {
    const [document] = installationDocuments(readNamed(io, opts.file), opts.file === "-" ? "stdin" : opts.file);
    const found = (document as { metadata?: { name?: unknown } }).metadata?.name;
    if (typeof found !== "string" || found === "") throw new PlanError(`${opts.file}: metadata.name: Required value: the live installation is looked up by it`);
    name = found;
  } catch (err) {
    if (err instanceof PlanError) {
      io.stderr(`${err.message}\n`);
      return 1;
    }
    throw err;
  }
  let live: KubeObject | undefined;
  try {
    // Loaded here: client-node is slow to import and plan without --from-cluster never needs it.
    const { createClusterClient } = await import("../kube/client.js");
    const { loadKubeConfig } = await import("../kube/kubeconfig.js");
    const client = createClusterClient(loadKubeConfig(kubeconfig), { userAgent: "olares-operator-plan" });
    live = await client.get({ apiVersion: API_VERSION, kind: KIND, name });
  } catch (err) {
    io.stderr(`plan --from-cluster: reading ${KIND}/${name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
  if (!live) {
    io.stderr(`plan --from-cluster: ${KIND}/${name} does not exist in the cluster; plan -f ${opts.file} shows a first install\n`);
    return 1;
  }
  const source = `cluster:${KIND}/${name}`;
  const active = (live.status as { storage?: { activeType?: unknown } } | undefined)?.storage?.activeType;
  const liveText = JSON.stringify(live);
  return runPlan(
    { ...opts, from: source, ...(active === "LocalFS" || active === "JuiceFS" ? { fromActiveStorageType: active } : {}) },
    { ...io, readFile: (p) => (p === source ? liveText : io.readFile(p)) },
  );
}
