import { type Logger, pino } from "pino";

export type { Logger } from "pino";

/**
 * JSON logs on stdout. Credentials are redacted wherever they appear in a logged
 * object: a token must never reach a log line (spec §2.5).
 *
 * Writes are asynchronous (one access line per request must not cost a blocking
 * write(2) each under load); pino flushes what is buffered when the process exits.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino(
    {
      name: options.name,
      level: options.level,
      base: { pid: process.pid, proc: options.name },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          "authorization",
          "cookie",
          "token",
          "*.authorization",
          "*.cookie",
          "*.token",
          "headers.authorization",
          "headers.cookie",
          "req.headers.authorization",
          "req.headers.cookie",
        ],
        censor: "[redacted]",
      },
    },
    pino.destination({ dest: 1, sync: false }),
  );
}

/**
 * A logger for lines built only from fields known to be safe (the api's access log):
 * the same stream, format and bindings as `logger`, without the redaction pass, which
 * costs more than the rest of such a line and runs on every request.
 */
export function createUnredactedSibling(logger: Logger): Logger {
  const stream = (logger as unknown as Record<symbol, pino.DestinationStream>)[pino.symbols.streamSym];
  // `bindings()` leaves out the pid that `base` put in.
  const base = { pid: process.pid, ...logger.bindings() };
  return pino({ level: logger.level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}
