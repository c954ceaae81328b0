import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { luaScript, runScript } from "./lua-script.ts";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "./testing.ts";

const redis = new Redis(TEST_REDIS_URL);
const prefix = uniquePrefix("lua");

afterAll(async () => {
  await deleteKeys(redis, prefix);
  await redis.quit();
});

describe("runScript", () => {
  it("loads a script the server does not know yet (EVAL), then runs it by its sha", async () => {
    // A script no server has seen: the first run must fall back from EVALSHA to EVAL.
    const script = luaScript(`-- ${randomUUID()}\nreturn redis.call("INCR", KEYS[1]) + tonumber(ARGV[1])`);
    const [known] = (await redis.call("SCRIPT", "EXISTS", script.sha)) as [number];
    expect(known).toBe(0);

    const key = `${prefix}:counter`;
    expect(await runScript(redis, script, [key], [10])).toBe(11);
    const [loaded] = (await redis.call("SCRIPT", "EXISTS", script.sha)) as [number];
    expect(loaded).toBe(1);
    expect(await runScript(redis, script, [key], [10])).toBe(12);
  });

  it("passes a script's own error through", async () => {
    const script = luaScript(`-- ${randomUUID()}\nreturn redis.error_reply("ERR no good")`);
    await expect(runScript(redis, script, [`${prefix}:x`], [])).rejects.toThrow("no good");
  });
});
