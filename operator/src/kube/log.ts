// JSON logs through winston. A redaction format masks the values of secret-looking keys anywhere in
// the metadata (nested objects and arrays included), and secret-looking `key=value` pairs in messages.
import winston from "winston";
import { scrubMessage } from "./errors.js";

/** The operator-wide logger shape (contract/logger.ts); createLogger returns a winston logger, which has it. */
export type { Logger } from "../contract/index.js";
export type WinstonLogger = winston.Logger;

export const REDACTED = "[REDACTED]";

const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|access[-_]?key|secret[-_]?key|api[-_]?key|credential|authorization|private[-_]?key|session[-_]?key|cookie)/i;

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key);
}

/** A copy of `value` with secret-looking keys masked. Handles cycles and Errors. */
export function redact(value: unknown, seen = new WeakSet<object>()): unknown {
  if (typeof value === "string") return scrubMessage(value);
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) return "[Circular]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => redact(v, seen));
  if (value instanceof Error) {
    return { name: value.name, message: scrubMessage(value.message), ...redactEntries(value as unknown as Record<string, unknown>, seen) };
  }
  return redactEntries(value as Record<string, unknown>, seen);
}

function redactEntries(obj: Record<string, unknown>, seen: WeakSet<object>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    // Kubernetes Secret payloads are masked wholesale.
    const secret =
      isSecretKey(k) ||
      ((k === "data" || k === "stringData") && obj["kind"] === "Secret") ||
      // env-var style pairs: { name: "AWS_SECRET_ACCESS_KEY", value: "..." }
      (k === "value" && typeof obj["name"] === "string" && isSecretKey(obj["name"]));
    if (secret) out[k] = v === undefined ? v : REDACTED;
    else out[k] = redact(v, seen);
  }
  return out;
}

/** winston format: masks secrets in every field of the log entry (message included). */
export const redactFormat = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (key === "level") continue;
    info[key] = isSecretKey(key) ? REDACTED : redact(info[key]);
  }
  return info;
});

export interface LoggerOptions {
  level?: string;
  /** Component name, added as `logger` to every line. */
  name?: string;
  /** Where lines go (default stdout). */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

export function createLogger(opts: LoggerOptions = {}): WinstonLogger {
  return winston.createLogger({
    level: opts.level ?? process.env["LOG_LEVEL"] ?? "info",
    silent: opts.silent ?? false,
    defaultMeta: opts.name ? { logger: opts.name } : {},
    format: winston.format.combine(winston.format.errors({ stack: false }), redactFormat(), winston.format.timestamp(), winston.format.json()),
    transports: [opts.stream ? new winston.transports.Stream({ stream: opts.stream }) : new winston.transports.Console()],
  });
}

/** A logger that drops everything (tests, library defaults). */
export function silentLogger(): WinstonLogger {
  return createLogger({ silent: true });
}
