/**
 * Log levels, most verbose first.
 *
 * @example
 * ```ts
 * createClient({ sdkKey, baseUrl, logger: consoleLogger(LogLevel.WARN) });
 * ```
 */
export const LogLevel = {
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
} as const;

/**
 * One of {@link LogLevel}.
 *
 * @example
 * ```ts
 * const level: LogLevel = process.env.DEBUG ? 'debug' : 'warn';
 * ```
 */
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/**
 * Where the SDK writes what it does. Every method takes a message and optional structured fields.
 * The default logger discards everything: a library must not write to a service's console unless
 * asked to.
 *
 * @example
 * ```ts
 * // pino (fields first, message second):
 * const log = pino();
 * createClient({ sdkKey, baseUrl, logger: {
 *   debug: (m, f) => log.debug(f ?? {}, m), info: (m, f) => log.info(f ?? {}, m),
 *   warn: (m, f) => log.warn(f ?? {}, m), error: (m, f) => log.error(f ?? {}, m),
 * } });
 * ```
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const noop = (): void => {};

/**
 * A logger that discards everything (the default).
 *
 * @example
 * ```ts
 * createClient({ sdkKey, baseUrl, logger: silentLogger });
 * ```
 */
export const silentLogger: Logger = Object.freeze({ debug: noop, info: noop, warn: noop, error: noop });

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * A logger that writes to `console` from `level` up, prefixed with `[switchyard]`. Opt-in only.
 *
 * @example
 * ```ts
 * createClient({ sdkKey, baseUrl, logger: consoleLogger('warn') });
 * ```
 */
export function consoleLogger(level: LogLevel = 'info'): Logger {
  const at = RANK[level];
  const write = (l: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (RANK[l] < at) return;
    const fn = l === 'debug' ? console.debug : l === 'info' ? console.info : l === 'warn' ? console.warn : console.error;
    if (fields === undefined) fn(`[switchyard] ${message}`);
    else fn(`[switchyard] ${message}`, fields);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * Wraps a user-supplied logger so that a throwing logger can never break the SDK (a log call
 * sits on paths such as error handling that must not fail themselves).
 */
export function safeLogger(logger: Logger | undefined): Logger {
  if (logger === undefined) return silentLogger;
  const guard = (l: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    try {
      logger[l](message, fields);
    } catch {
      // A broken logger loses its own line, nothing else.
    }
  };
  return { debug: guard('debug'), info: guard('info'), warn: guard('warn'), error: guard('error') };
}
