import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { freePort, redisAnswers, resolveRedis } from "./redis-resolver.ts";

const logger = pino({ level: "silent" });
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir() {
  const dir = await mkdtemp(join(tmpdir(), "cellport-redis-"));
  dirs.push(dir);
  return dir;
}

describe("resolveRedis", () => {
  it("uses REDIS_URL as given", async () => {
    const resolved = await resolveRedis({ redisUrl: "redis://example:1", dataDir: await tempDir(), logger });
    expect(resolved).toMatchObject({ url: "redis://example:1", embedded: false });
  });

  it("uses the default port when a Redis answers there", async () => {
    const resolved = await resolveRedis({ dataDir: await tempDir(), logger });
    expect(resolved).toMatchObject({ url: "redis://127.0.0.1:6379", embedded: false });
  });

  it("starts a private redis-server when nothing answers, shares it with a sibling, and stops it", async () => {
    const dataDir = await tempDir();
    const closedPort = await freePort();
    const first = await resolveRedis({ dataDir, logger, defaultPort: closedPort });
    expect(first.embedded).toBe(true);
    const port = Number(new URL(first.url).port);
    expect(await redisAnswers("127.0.0.1", port)).toBe(true);

    const sibling = await resolveRedis({ dataDir, logger, defaultPort: closedPort });
    expect(sibling.url).toBe(first.url);
    await sibling.stop(); // not the owner: does nothing
    expect(await redisAnswers("127.0.0.1", port)).toBe(true);

    await first.stop();
    expect(await redisAnswers("127.0.0.1", port)).toBe(false);
  });
});
