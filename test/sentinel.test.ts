/**
 * cellport on Redis Sentinel: a primary, a replica and a Sentinel, the real api and
 * worker processes with `REDIS_URL=redis+sentinel://…/cellport`, an export start to
 * finish; then a failover, after which both processes work on the new primary by
 * themselves — another export completes, and the first one's history (replicated
 * before the switch) is still there.
 */
import { seedCell } from "@cellport/cli";
import { REQUIRED_ENTRIES } from "@cellport/shared";
import { createFsStore } from "@cellport/store";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeaders, eventually } from "./support/http.ts";
import {
  type ApiProc,
  createContext,
  type Proc,
  type StackContext,
  startApi,
  startWorker,
  stopWithOwnRedis,
} from "./support/processes.ts";
import { type RedisSentinelSetup, startRedisSentinel } from "./support/redis-sentinel.ts";
import { readZipEntries } from "./support/zip.ts";

let sentinel: RedisSentinelSetup;
let ctx: StackContext;
let api: ApiProc;
let worker: Proc;

beforeAll(async () => {
  sentinel = await startRedisSentinel();
  ctx = { ...(await createContext()), redisUrl: sentinel.url };
  [api, worker] = await Promise.all([startApi(ctx), startWorker(ctx)]);
});

afterAll(() => stopWithOwnRedis([worker, api], sentinel, ctx));

const url = (path: string) => `${api.baseUrl}${path}`;
const auth = () => authHeaders(ctx.masterToken);

async function exportAndWait(cell: string, name: string): Promise<void> {
  // Right after a failover a request may meet the api between two connections (503): asked again.
  await eventually(async () => {
    const res = await fetch(url(`${cell}/__export`), {
      method: "POST",
      headers: auth(),
      body: JSON.stringify({ Name: name }),
    });
    return res.status === 202 ? true : undefined;
  }, 20_000);
  await eventually(async () => {
    const res = await fetch(url(`${cell}/__export`), { headers: auth() });
    return res.status === 200 && ((await res.json()) as { status: string }).status === "ready"
      ? true
      : undefined;
  }, 30_000);
}

async function history(cell: string): Promise<Array<{ outcome: string; name: string }>> {
  const res = await fetch(url(`${cell}/__export/history`), { headers: auth() });
  expect(res.status).toBe(200);
  return ((await res.json()) as { exports: Array<{ outcome: string; name: string }> }).exports;
}

describe("on Redis Sentinel", () => {
  it("runs an export, and another on the new primary after a failover", async () => {
    const seeded = await seedCell(createFsStore({ dataDir: ctx.dataDir, durable: false }), {
      cell: "sn-cell",
      boxes: 1,
      entitiesPerType: 3,
      files: 10,
      totalBytes: 512 * 1024,
      textRatio: 0.5,
      seed: "sn-cell",
    });
    await exportAndWait("sn-cell", "before");
    const zip = await readZipEntries(
      Buffer.from(
        await (await fetch(url("sn-cell/__snapshot/before.zip"), { headers: auth() })).arrayBuffer(),
      ),
    );
    for (const entry of REQUIRED_ENTRIES) expect(zip.has(entry), entry).toBe(true);
    expect([...zip.keys()].filter((n) => n.endsWith("/content"))).toHaveLength(seeded.files);

    const oldPrimary = await sentinel.primaryPort();
    const newPrimary = await sentinel.failover();
    expect(newPrimary).not.toBe(oldPrimary);

    await exportAndWait("sn-cell", "after");
    expect((await fetch(url("sn-cell/__snapshot/after.zip"), { headers: auth() })).status).toBe(200);
    // Written to the new primary — not to the demoted one, which keeps accepting writes
    // until the Sentinel reconfigures it, and then drops them.
    const onNewPrimary = new Redis({ host: "127.0.0.1", port: newPrimary, lazyConnect: true });
    try {
      await onNewPrimary.connect();
      const entries = await onNewPrimary.lrange(`${ctx.prefix}:history:sn-cell`, 0, -1);
      expect(entries.map((entry) => (JSON.parse(entry) as { name: string }).name)).toEqual([
        "after",
        "before",
      ]);
    } finally {
      onNewPrimary.disconnect();
    }
    expect((await history("sn-cell")).map((entry) => [entry.name, entry.outcome])).toEqual([
      ["after", "completed"],
      ["before", "completed"],
    ]);
    expect(api.running && worker.running).toBe(true);
  });
});
