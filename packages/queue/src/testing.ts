/**
 * Helpers for tests that run against real Redis (queue and worker packages): a
 * unique prefix per test file, removal of every key under it, and bounded polling.
 * Not used by production code.
 */
import { randomBytes } from "node:crypto";
import { Cluster } from "ioredis";
import type { RedisClient } from "./connection.ts";

/** The machine's Redis (stack.md); tests isolate themselves by prefix, not by server. */
export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

/** A hash-tagged prefix no other test file (or run) shares. */
export function uniquePrefix(label: string): string {
  return `{cellport-test-${label}-${randomBytes(4).toString("hex")}}`;
}

/** Deletes every key under `prefix` (on every master of a cluster); returns how many. */
export async function deleteKeys(redis: RedisClient, prefix: string): Promise<number> {
  let deleted = 0;
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, batch] = await node.scan(cursor, "MATCH", `${escapeGlob(prefix)}*`, "COUNT", 500);
      cursor = next;
      // One key per DEL: keys of a prefix without a hash tag may live in different slots.
      for (const key of batch) deleted += await node.del(key);
    } while (cursor !== "0");
  }
  return deleted;
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}

/** Polls `probe` until it returns a truthy value, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const { timeoutMs = 10_000, intervalMs = 25, what = "condition" } = options;
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < until) {
    last = await probe();
    if (last) return last as NonNullable<T>;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(
    `Timed out after ${timeoutMs} ms waiting for ${what} (last value: ${JSON.stringify(last)})`,
  );
}
