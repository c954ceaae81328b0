/**
 * Our own Redis scripts, run by EVALSHA (EVAL once per server that does not know the
 * script yet). A script instead of MULTI or a pipeline: ioredis builds every pipeline
 * by copying each script defined on the connection onto it, and BullMQ defines ~40
 * on the connections it shares with us — building one cost more than the commands it
 * carried. A script is also one command, one reply, and reads a consistent state.
 */
import { createHash } from "node:crypto";
import type { RedisClient } from "./connection.ts";

export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

/**
 * Runs `script` with `keys` (every key it touches must be declared or, like BullMQ's
 * own scripts, share their hash tag) and `args`.
 */
export async function runScript(
  redis: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await redis.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return redis.eval(script.source, keys.length, ...keys, ...args);
  }
}
