// The real Executor: execa with argv arrays (no shell), a timeout and captured output.
import { execa } from "execa";
import type { ExecOptions, ExecResult, Executor } from "./types.js";

export const DEFAULT_TIMEOUT_MS = 120_000;
/** PATH for host commands: the host's own tools, not the agent image's environment. */
export const HOST_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function createExecaExecutor(): Executor {
  return {
    async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
      const [file, ...args] = argv;
      if (!file) throw new Error("exec: empty argv");
      const r = await execa(file, args, {
        reject: false,
        shell: false,
        timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        input: opts.input,
        stdin: opts.input === undefined ? "ignore" : undefined,
        env: { PATH: HOST_PATH, LC_ALL: "C", ...opts.env },
        extendEnv: false,
        stripFinalNewline: false,
        maxBuffer: 32 * 1024 * 1024,
      });
      const notFound = (r as { code?: string }).code === "ENOENT";
      return {
        exitCode: r.exitCode ?? (notFound ? 127 : 1),
        stdout: String(r.stdout ?? ""),
        stderr: String(r.stderr ?? "") || (r.failed && r.exitCode === undefined ? String(r.shortMessage ?? "") : ""),
        timedOut: r.timedOut,
      };
    },
  };
}
