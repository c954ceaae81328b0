/** What every command receives: the config, the output streams, a lazily built client, Ctrl-C. */
import { type CellportClient, createClient, type RequestSample } from "./client/http-client.ts";
import { type CliConfig, resolveToken } from "./config.ts";
import { InterruptedError } from "./errors.ts";
import type { Io } from "./output/format.ts";

export interface CommandContext {
  config: CliConfig;
  io: Io;
  /** Aborted on the first Ctrl-C: long-running commands stop and clean up. */
  signal: AbortSignal;
  /** The shared client, or (with an observer) a dedicated one that reports every request. */
  client(options?: { onSample: (sample: RequestSample) => void }): CellportClient;
}

export function createContext(config: CliConfig, io: Io, signal: AbortSignal): CommandContext {
  let shared: CellportClient | undefined;
  return {
    config,
    io,
    signal,
    client(options) {
      if (!options) {
        shared ??= createClient({ baseUrl: config.url, token: () => resolveToken(config) });
        return shared;
      }
      return createClient({
        baseUrl: config.url,
        token: () => resolveToken(config),
        onSample: options.onSample,
      });
    },
  };
}

/** Waits `ms`, or throws InterruptedError as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal?.aborted) {
      fail(new InterruptedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      fail(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      done();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
