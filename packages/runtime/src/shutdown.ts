/**
 * Graceful-then-forceful shutdown: cleanups run in reverse order of registration
 * (resources released in reverse order of acquisition), each one even when an earlier
 * one throws, all within a deadline. A second signal forces the exit — unless it comes
 * within a second of the first: one Ctrl-C reaches every process of the terminal's
 * group *and* a supervisor that forwards it (`npm start`), so a child gets two signals
 * at once for one request to stop.
 */
import type { Logger } from "pino";

export interface Shutdown {
  /** Registers a cleanup; later registrations run first. */
  add(name: string, cleanup: () => Promise<void> | void): void;
  /** Hooks SIGTERM and SIGINT (once per process, from main.ts) to `signal`. */
  install(): void;
  /** A stop signal: the first starts `run`; a later one, past the repeat window, forces exit 130. */
  signal(signal: NodeJS.Signals): void;
  /** Runs every cleanup, then exits with `code` (0 on a clean stop). */
  run(reason: string, code?: number): Promise<void>;
}

/** A signal this soon after the first is the same request to stop, delivered twice. */
export const REPEATED_SIGNAL_WINDOW_MS = 1_000;

export function createShutdown(options: {
  logger: Logger;
  deadlineMs: number;
  exit?: (code: number) => void;
  now?: () => number;
}): Shutdown {
  const { logger, deadlineMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const now = options.now ?? Date.now;
  let firstSignalAt = 0;
  const cleanups: Array<{ name: string; cleanup: () => Promise<void> | void }> = [];
  let running: Promise<void> | undefined;

  async function runCleanups(): Promise<boolean> {
    let clean = true;
    for (const { name, cleanup } of [...cleanups].reverse()) {
      try {
        await cleanup();
        logger.debug({ step: name }, "shutdown step done");
      } catch (error) {
        clean = false;
        logger.error({ step: name, err: error }, "shutdown step failed");
      }
    }
    return clean;
  }

  function run(reason: string, code = 0): Promise<void> {
    running ??= (async () => {
      logger.info({ reason, deadlineMs }, "shutting down");
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<"timeout">((done) => {
        timer = setTimeout(() => done("timeout"), deadlineMs);
        timer.unref();
      });
      const outcome = await Promise.race([runCleanups(), deadline]);
      clearTimeout(timer);
      if (outcome === "timeout") {
        logger.error({ deadlineMs }, "shutdown deadline passed; forcing exit");
        exit(1);
        return;
      }
      logger.info({ clean: outcome }, "stopped");
      exit(outcome ? code : 1);
    })();
    return running;
  }

  function signal(name: NodeJS.Signals): void {
    if (!running) {
      firstSignalAt = now();
      void run(name);
      return;
    }
    if (now() - firstSignalAt < REPEATED_SIGNAL_WINDOW_MS) {
      logger.debug({ signal: name }, "stop signal repeated; still shutting down");
      return;
    }
    logger.warn({ signal: name }, "second signal: forcing exit");
    exit(130);
  }

  function install(): void {
    process.on("SIGTERM", signal);
    process.on("SIGINT", signal);
  }

  return { add: (name, cleanup) => cleanups.push({ name, cleanup }), install, signal, run };
}
