/**
 * Keeps a StatusCache honest across processes: subscribes to the job-ended channel
 * (job-ended.ts) on a connection of its own and drops the cell of every announced
 * end. The cache serves only while the subscription is up; until it is, after a drop,
 * and if subscribing fails (tried again after a pause), every status read goes to Redis.
 */
import { type ChannelListener, listenOnChannel } from "./channel.ts";
import { type RedisClient, waitForReady } from "./connection.ts";
import type { StatusCache } from "./status-cache.ts";

const SUBSCRIBE_RETRY_MS = 1_000;

export interface StatusFeed {
  /** Subscribes unless subscribed or subscribing (cheap: call it on every status read). */
  follow(): void;
  close(): Promise<void>;
}

export function createStatusFeed(options: {
  /** Duplicated for the subscription. */
  redis: RedisClient;
  channel: string;
  cache: StatusCache;
  timeoutMs: number;
}): StatusFeed {
  const { redis, channel, cache, timeoutMs } = options;
  let listening: Promise<ChannelListener | undefined> | undefined;
  let subscriber: RedisClient | undefined;
  let closed = false;

  return {
    follow() {
      if (listening || closed) return;
      const connection = redis.duplicate();
      connection.on("error", () => {});
      subscriber = connection;
      listening = waitForReady(connection, timeoutMs)
        .then(() =>
          listenOnChannel({
            subscriber: connection,
            channel,
            onMessage: (cell) => cache.forget(cell),
            onDown: () => cache.setServing(false),
            onResubscribed: () => cache.setServing(true),
          }),
        )
        .then(
          (listener) => {
            cache.setServing(!closed);
            return listener;
          },
          () => {
            connection.disconnect();
            setTimeout(() => {
              if (subscriber === connection) listening = undefined;
            }, SUBSCRIBE_RETRY_MS).unref();
            return undefined;
          },
        );
    },
    async close() {
      closed = true;
      cache.setServing(false);
      await (await listening)?.close();
      subscriber?.disconnect();
    },
  };
}
