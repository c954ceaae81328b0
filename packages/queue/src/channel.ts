/**
 * Pub/sub on a connection of its own (a subscribed ioredis client can do nothing
 * else). Messages are fire-and-forget: what is published while the subscriber is
 * reconnecting is lost, so listeners hear when that window opens (`onDown`) and when
 * it closes (`onResubscribed`) and make up for it from durable state.
 */
import type { RedisClient } from "./connection.ts";

export interface ChannelListener {
  close(): Promise<void>;
}

export async function listenOnChannel(options: {
  subscriber: RedisClient;
  channel: string;
  onMessage: (message: string) => void;
  /** The connection dropped: messages may be missed until `onResubscribed`. */
  onDown?: () => void;
  /** Subscribed again after a drop (ioredis re-subscribes by itself). */
  onResubscribed?: () => void;
}): Promise<ChannelListener> {
  const { subscriber, channel, onMessage, onDown, onResubscribed } = options;
  const message = (from: string, text: string) => {
    if (from === channel) onMessage(text);
  };
  // The first ready is the initial connect, not a re-subscription.
  let readyCount = subscriber.status === "ready" ? 1 : 0;
  const ready = () => {
    readyCount += 1;
    if (readyCount > 1) onResubscribed?.();
  };
  const down = () => onDown?.();
  subscriber.on("message", message);
  subscriber.on("ready", ready);
  subscriber.on("close", down);
  await subscriber.subscribe(channel);
  return {
    async close() {
      subscriber.off("message", message);
      subscriber.off("ready", ready);
      subscriber.off("close", down);
      await subscriber.unsubscribe(channel).catch(() => {});
    },
  };
}
