/**
 * Redis connection options for the two sides of the queue, and the one test of
 * "this error means Redis is unreachable".
 *
 * BullMQ is given ready-made ioredis instances, never options: its ESM build cannot
 * `require("ioredis")` itself, and owning the instance lets us choose how it fails.
 */
import { Redis, type RedisOptions } from "ioredis";

/**
 * The api's connection: fail fast. No offline queue (a command while disconnected
 * fails at once instead of waiting for a reconnect), short connect and command
 * timeouts, no per-request retries; it keeps reconnecting in the background.
 */
export function producerConnectionOptions(timeoutMs = 1_000): RedisOptions {
  return {
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2_000),
  };
}

/**
 * The worker's connection: BullMQ requires `maxRetriesPerRequest: null` for the
 * blocking fetch and waits through outages instead of failing jobs.
 */
export function workerConnectionOptions(): RedisOptions {
  return {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(200 * times, 5_000),
  };
}

/**
 * An ioredis client for `url` with `options`. An `error` listener is attached so a
 * refused connection is a state (status != ready), not an unhandled event; callers
 * that care pass `onError`.
 */
export function createRedisClient(
  url: string,
  options: RedisOptions,
  onError: (error: Error) => void = () => {},
): Redis {
  const client = new Redis(url, { lazyConnect: false, ...options });
  client.on("error", onError);
  return client;
}

const CONNECTION_ERROR_PATTERN =
  /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|connect ETIMEDOUT|Socket closed/i;

/** True for the errors ioredis and BullMQ raise when Redis cannot be reached or did not answer. */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ConnectionClosedError" || error.name === "MaxRetriesPerRequestError") return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(code)) return true;
  return CONNECTION_ERROR_PATTERN.test(error.message);
}

/** One pending "ready" wait per client, shared by every caller (no listener pile-up under load). */
const readySignals = new WeakMap<Redis, Promise<void>>();

function readySignal(client: Redis): Promise<void> {
  let signal = readySignals.get(client);
  if (!signal) {
    signal = new Promise<void>((resolve, reject) => {
      const onReady = () => settle(resolve);
      const onEnd = () => settle(() => reject(new Error("Connection is closed.")));
      function settle(done: () => void) {
        client.off("ready", onReady);
        client.off("end", onEnd);
        readySignals.delete(client);
        done();
      }
      client.on("ready", onReady);
      client.on("end", onEnd);
    });
    signal.catch(() => {});
    readySignals.set(client, signal);
  }
  return signal;
}

/** Resolves once `client` is ready, or rejects after `timeoutMs` (never waits longer). */
export function waitForReady(client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  if (client.status === "end") return Promise.reject(new Error("Connection is closed."));
  if (client.status === "wait") client.connect().catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`Redis not ready within ${timeoutMs} ms (status ${client.status})`)),
      timeoutMs,
    );
  });
  return Promise.race([readySignal(client), timeout]).finally(() => clearTimeout(timer));
}
