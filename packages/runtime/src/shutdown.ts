/**
 * Graceful-then-forceful shutdown: cleanups run in reverse order of registration
 * (resources released in reverse order of acquisition), each one even when an earlier
 * one throws, all within a deadline. A second signal forces the exit.
 */
import type { Logger } from "pino";

export interface Shutdown {
  /** Registers a cleanup; later registrations run first. */
  add(name: string, cleanup: () => Promise<void> | void): void;
  /** Hooks SIGTERM and SIGINT (once per process, from main.ts). */
  install(): void;
  /** Runs every cleanup, then exits with `code` (0 on a clean stop). */
  run(reason: string, code?: number): Promise<void>;
}

export function createShutdown(options: {
  logger: Logger;
  deadlineMs: number;
  exit?: (code: number) => void;
}): Shutdown {
  const { logger, deadlineMs } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
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

  function install(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (running) {
        logger.warn({ signal }, "second signal: forcing exit");
        exit(130);
        return;
      }
      void run(signal);
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  return { add: (name, cleanup) => cleanups.push({ name, cleanup }), install, run };
}
