// An Executor for tests: records every argv and answers from scripted rules (first match wins).
import type { ExecOptions, ExecResult, Executor } from "../../operator/src/agent/host/types.js";

type Answer = Partial<ExecResult> | undefined;
/** May answer asynchronously (e.g. a fake that creates files the way a real command would). */
export type Responder = (argv: readonly string[], opts: ExecOptions) => Answer | Promise<Answer>;

export interface RecordedCall {
  argv: string[];
  opts: ExecOptions;
}

export class RecordingExecutor implements Executor {
  readonly calls: RecordedCall[] = [];
  private readonly rules: Responder[] = [];

  /**
   * Adds a rule. `match` is an argv prefix (strings compared exactly) or a predicate; `result` may be
   * a function of the argv. Unmatched commands succeed with empty output.
   */
  on(
    match: readonly string[] | ((argv: readonly string[]) => boolean),
    result: Partial<ExecResult> | ((argv: readonly string[], opts: ExecOptions) => Partial<ExecResult>),
  ): this {
    const matches = typeof match === "function" ? match : (argv: readonly string[]) => match.every((m, i) => argv[i] === m);
    this.rules.unshift((argv, opts) => (matches(argv) ? (typeof result === "function" ? result(argv, opts) : result) : undefined));
    return this;
  }

  /** A responder that sees every call first (for stateful fakes); returning undefined falls through. */
  use(responder: Responder): this {
    this.rules.unshift(responder);
    return this;
  }

  async run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ argv: [...argv], opts });
    for (const rule of this.rules) {
      const r = await rule(argv, opts);
      if (r) return { exitCode: 0, stdout: "", stderr: "", timedOut: false, ...r };
    }
    return { exitCode: 0, stdout: "", stderr: "", timedOut: false };
  }

  /** Recorded argvs joined with spaces, for readable assertions. */
  commands(): string[] {
    return this.calls.map((c) => c.argv.join(" "));
  }

  clear(): void {
    this.calls.length = 0;
  }
}
