/**
 * Redis connection options for the two sides of the queue, the one place that turns
 * `REDIS_URL` into a client (one server, a Redis Cluster, or a primary found through
 * Redis Sentinel), and the one test of "this error means Redis is unreachable".
 *
 * BullMQ is given ready-made ioredis instances, never options: its ESM build cannot
 * `require("ioredis")` itself, and owning the instance lets us choose how it fails.
 */
import { hasHashTag, parseRedisUrl, type RedisTarget } from "@cellport/shared";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/**
 * A connection to one server or to a Redis Cluster. BullMQ takes either; our own
 * commands only ever touch keys under one hash-tagged prefix (keys.ts), so each
 * MULTI and pipeline stays in one slot and works the same on both.
 */
export type RedisClient = Redis | Cluster;

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
): RedisClient {
  const target = parseRedisUrl(url);
  const client =
    target.kind === "single"
      ? new Redis(target.url, { lazyConnect: false, ...options })
      : target.kind === "cluster"
        ? new Cluster(target.nodes, clusterOptions(target, options))
        : new Redis(sentinelOptions(target, options));
  client.on("error", onError);
  return client;
}

/**
 * A primary found through its Sentinels: ioredis asks them for the primary's address
 * on every (re)connection. A failover must also end connections that are still up:
 * a demoted primary keeps its clients and, until the Sentinels reconfigure it (10 s
 * later in a local test), goes on accepting writes that its new primary never sees.
 * So each client listens for the Sentinels' `+switch-master` and reconnects at once,
 * and a write answered READONLY (a connection to a replica) reconnects and is sent
 * again. `options` (timeouts, retries, offline queue) apply as to one server; the same
 * retry strategy paces the rounds of asking the Sentinels.
 */
function sentinelOptions(
  target: Extract<RedisTarget, { kind: "sentinel" }>,
  options: RedisOptions,
): RedisOptions {
  return {
    lazyConnect: false,
    ...options,
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    ...(target.username !== undefined ? { username: target.username } : {}),
    ...(target.password !== undefined ? { password: target.password } : {}),
    ...(target.sentinelUsername !== undefined ? { sentinelUsername: target.sentinelUsername } : {}),
    ...(target.sentinelPassword !== undefined ? { sentinelPassword: target.sentinelPassword } : {}),
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    ...(options.retryStrategy ? { sentinelRetryStrategy: options.retryStrategy } : {}),
    failoverDetector: true,
    reconnectOnError: (error) => (error.message.startsWith("READONLY") ? 2 : false),
  };
}

/**
 * The same behaviour on a cluster: the offline-queue and retry choices apply to the
 * cluster as a whole (ioredis manages its node connections itself), the rest —
 * timeouts, `maxRetriesPerRequest` (BullMQ checks it there) — to every node.
 */
function clusterOptions(
  target: Extract<RedisTarget, { kind: "cluster" }>,
  options: RedisOptions,
): ClusterOptions {
  const { enableOfflineQueue, enableReadyCheck, retryStrategy, ...perNode } = options;
  return {
    lazyConnect: false,
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: enableReadyCheck ?? true,
    ...(retryStrategy ? { clusterRetryStrategy: (times: number) => retryStrategy(times) } : {}),
    redisOptions: {
      ...perNode,
      ...(target.username !== undefined ? { username: target.username } : {}),
      ...(target.password !== undefined ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
  };
}

/** Thrown at start-up for a prefix that would scatter the queue over a cluster's slots. */
export class ClusterPrefixError extends Error {
  constructor(prefix: string) {
    super(
      `Expected CELLPORT_QUEUE_PREFIX to hold a Redis Cluster hash tag such as {cellport} ` +
        `(REDIS_URL is a cluster), got \`${prefix}\``,
    );
    this.name = "ClusterPrefixError";
  }
}

/**
 * On a cluster, every key of the queue must hash to one slot (BullMQ's Lua scripts and
 * our MULTI blocks span several keys): refuse a prefix without a hash tag up front
 * rather than fail every job with CROSSSLOT.
 */
export function assertPrefixFits(url: string, prefix: string): void {
  if (parseRedisUrl(url).kind === "cluster" && !hasHashTag(prefix)) throw new ClusterPrefixError(prefix);
}

const CONNECTION_ERROR_PATTERN =
  /Stream isn't writeable|Connection is closed|Command timed out|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|connect ETIMEDOUT|Socket closed|Cluster isn't ready|CLUSTERDOWN|Failed to refresh slots cache|None of startup nodes is available/i;

/**
 * Replies of a Redis that is there but cannot serve now: full under `noeviction`
 * (OOM), still loading its AOF after a restart, a replica or a primary without
 * replicas after a failover. For a client these mean "unavailable, retry later" (503),
 * not a failure of the request (500).
 */
const UNAVAILABLE_REPLY = /^(OOM|LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|NOREPLICAS) /;

/**
 * True for the errors ioredis and BullMQ raise when Redis cannot be reached, did not
 * answer, or answered that it cannot serve now.
 */
export function isConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (
    error.name === "ConnectionClosedError" ||
    error.name === "MaxRetriesPerRequestError" ||
    error.name === "ClusterAllFailedError"
  ) {
    return true;
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code && /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE)$/.test(code)) return true;
  return CONNECTION_ERROR_PATTERN.test(error.message) || UNAVAILABLE_REPLY.test(error.message);
}

/** The client knows Redis is down: its last connection attempt failed and it waits to retry. */
const DOWN_STATUSES = new Set(["close", "reconnecting"]);

function unreachable(client: RedisClient): Error {
  return new Error(`Connection is closed. Redis is unreachable (status ${client.status})`);
}

/**
 * One pending "ready" wait per client, shared by every caller (no listener pile-up
 * under load). It settles with the connection attempt in flight: ready, or failed
 * (the client turns to `reconnecting`) — waiting for the next attempt would only
 * turn a quick 503 into a slow one.
 */
const readySignals = new WeakMap<RedisClient, Promise<void>>();

function readySignal(client: RedisClient): Promise<void> {
  let signal = readySignals.get(client);
  if (!signal) {
    signal = new Promise<void>((resolve, reject) => {
      const onReady = () => settle(resolve);
      const onDown = () => settle(() => reject(unreachable(client)));
      function settle(done: () => void) {
        client.off("ready", onReady);
        client.off("end", onDown);
        client.off("reconnecting", onDown);
        readySignals.delete(client);
        done();
      }
      client.on("ready", onReady);
      client.on("end", onDown);
      client.on("reconnecting", onDown);
    });
    signal.catch(() => {});
    readySignals.set(client, signal);
  }
  return signal;
}

/**
 * Resolves once `client` is ready; rejects at once when it knows Redis is down (its
 * last attempt failed), else when the attempt in flight fails or after `timeoutMs`.
 */
export function waitForReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === "ready") return Promise.resolve();
  if (client.status === "end" || DOWN_STATUSES.has(client.status)) return Promise.reject(unreachable(client));
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
