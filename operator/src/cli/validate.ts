// `olares-operator validate -f FILE`: offline schema + CEL + semantic validation of OlaresInstallation
// documents. Exit 1 with every problem as `field: rule`; exit 0 printing `<name>: valid` per document.
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { yamlDocuments } from "./yaml-documents.js";
import { formatProblem, KIND, secretReferences, validateInstallation, type OlaresInstallationSpec, type ValidationProblem } from "../api/index.js";

export interface ValidateIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Reads all of standard input (for `-f -`). */
  readStdin: () => string;
}

const processIO: ValidateIO = {
  stdout: (line) => process.stdout.write(`${line}\n`),
  stderr: (line) => process.stderr.write(`${line}\n`),
  readStdin: () => readFileSync(0, "utf8"),
};

interface SecretDocument {
  name: string;
  namespace?: string;
  keys: Set<string>;
}

/** Validates the YAML text (one or many documents); returns the exit code. Never throws on bad input. */
export function validateText(text: string, source: string, io: Pick<ValidateIO, "stdout" | "stderr">): number {
  const documents = yamlDocuments(text);
  const parsed: Array<{ index: number; value: unknown }> = [];
  let failed = false;
  for (const doc of documents) {
    if ("error" in doc) {
      io.stderr(`${source}: document ${doc.index + 1}: ${doc.error}`);
      failed = true;
      continue;
    }
    parsed.push(doc);
  }
  // With several OlaresInstallations in one file each is named by position and name.
  const multi = parsed.filter(({ value }) => { const k = (value as { kind?: unknown }).kind; return k === undefined || k === KIND; }).length > 1;

  const secrets = parsed.flatMap(({ value }) => secretOf(value) ?? []);
  let installations = 0;
  for (const { index, value } of parsed) {
    const kind = (value as { kind?: unknown }).kind;
    if (kind === "Secret" && secretOf(value)) continue;
    // Other kinds (CRDs, Secrets, ...) may share the file; a document without a kind is checked and reported.
    if (kind !== undefined && kind !== KIND) {
      io.stderr(`${source}: document ${index + 1}: ${String(kind)} is not an OlaresInstallation, skipped`);
      continue;
    }
    installations++;
    const result = validateInstallation(value);
    const objectName = typeof result.object?.metadata?.name === "string" ? result.object.metadata.name : undefined;
    const name = multi ? `document ${index + 1}${objectName ? ` (${objectName})` : ""}` : (objectName ?? `document ${index + 1}`);
    const problems = uniqueProblems([...result.problems, ...secretReferenceProblems(result.object?.spec, secrets)]);
    if (problems.length === 0) {
      io.stdout(`${name}: valid`);
      continue;
    }
    failed = true;
    io.stderr(`${name}: invalid (${problems.length} problem${problems.length === 1 ? "" : "s"})`);
    for (const problem of problems) io.stderr(`  ${formatProblem(problem)}`);
  }
  if (installations === 0 && !failed) {
    io.stderr(`${source}: no OlaresInstallation found`);
    failed = true;
  }
  return failed ? 1 : 0;
}

/** A problem is reported once, however many checks found it. */
function uniqueProblems(problems: ValidationProblem[]): ValidationProblem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = formatProblem(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function secretOf(value: unknown): SecretDocument | undefined {
  const doc = value as { apiVersion?: unknown; kind?: unknown; metadata?: { name?: unknown; namespace?: unknown }; data?: unknown; stringData?: unknown };
  if (doc?.kind !== "Secret" || doc.apiVersion !== "v1" || typeof doc.metadata?.name !== "string") return undefined;
  const keys = new Set<string>([
    ...Object.keys(typeof doc.data === "object" && doc.data ? doc.data : {}),
    ...Object.keys(typeof doc.stringData === "object" && doc.stringData ? doc.stringData : {}),
  ]);
  return { name: doc.metadata.name, namespace: typeof doc.metadata.namespace === "string" ? doc.metadata.namespace : undefined, keys };
}

/** When a referenced Secret is in the same file, the keys the operator reads must be there (otherwise it is checked in-cluster). */
function secretReferenceProblems(spec: OlaresInstallationSpec | undefined, secrets: SecretDocument[]): ValidationProblem[] {
  if (!spec || typeof spec !== "object") return [];
  const problems: ValidationProblem[] = [];
  for (const ref of secretReferences(spec)) {
    const secret = secrets.find((x) => x.name === ref.name && (ref.namespace === undefined || x.namespace === undefined || x.namespace === ref.namespace));
    if (!secret) continue;
    for (const { field, key } of ref.keys) {
      if (!secret.keys.has(key)) problems.push({ field, rule: `Invalid value: ${JSON.stringify(key)}: Secret ${ref.name} in this file has no such key` });
    }
  }
  return problems;
}

export function registerValidateCommand(program: Command, io: ValidateIO = processIO): Command {
  return program
    .command("validate")
    .description("Validate OlaresInstallation manifests offline (schema, CEL rules and semantic checks)")
    .requiredOption("-f, --filename <file>", "YAML file with one or more documents, or - for standard input")
    .action((options: { filename: string }) => {
      let text: string;
      try {
        text = options.filename === "-" ? io.readStdin() : readFileSync(options.filename, "utf8");
      } catch (err) {
        io.stderr(`cannot read ${options.filename}: ${err instanceof Error ? err.message : String(err)}`);
        process.exitCode = 1;
        return;
      }
      let code: number;
      try {
        code = validateText(text, options.filename === "-" ? "<stdin>" : options.filename, io);
      } catch (err) {
        // Whatever the input, one line and exit 1, never a stack trace.
        io.stderr(`${options.filename}: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
        code = 1;
      }
      if (code !== 0) process.exitCode = code;
    });
}
