// The one logger shape every layer takes. kube/log.ts's winston logger satisfies it; narrower views
// (a task only logs info and warnings) are Picks of it, never a second interface.

export type LogMeta = Record<string, unknown>;

export interface Logger {
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  debug?(message: string, meta?: LogMeta): void;
}

export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

/** A logger that adds `meta` to every line (winston's child(), for any Logger). */
export function withMeta(log: Logger, meta: LogMeta): Logger {
  const child = (log as { child?: (m: LogMeta) => Logger }).child;
  if (typeof child === "function") return child.call(log, meta);
  return {
    info: (m, extra) => log.info(m, { ...meta, ...extra }),
    warn: (m, extra) => log.warn(m, { ...meta, ...extra }),
    error: (m, extra) => log.error(m, { ...meta, ...extra }),
    debug: (m, extra) => log.debug?.(m, { ...meta, ...extra }),
  };
}
