/**
 * cellport on a Redis Cluster: a private three-master cluster, the real api and
 * worker processes with `REDIS_URL=redis+cluster://…`, and the main export flow
 * through them — start → poll → ready → a valid zip; exactly one of several
 * concurrent POSTs; the write lock; cancel of a running export (the cancel travels
 * over pub/sub, which a cluster forwards to every node). The queue's keys must all
 * sit in the slot of the prefix's hash tag, so the test also checks where they are.
 */
import { seedCell } from "@cellport/cli";
import { REQUIRED_ENTRIES } from "@cellport/shared";
import { createFsStore } from "@cellport/store";
import { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authHeaders, eventually } from "./support/http.ts";
import {
  type ApiProc,
  createContext,
  PROCESS_ENTRIES,
  type Proc,
  type StackContext,
  spawnProcess,
  startApi,
  startWorker,
  stopWithOwnRedis,
} from "./support/processes.ts";
import { type RedisCluster, startRedisCluster } from "./support/redis-cluster.ts";
import { readZipEntries } from "./support/zip.ts";

let cluster: RedisCluster;
let ctx: StackContext;
let api: ApiProc;
let worker: Proc;

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  // The harness's own context (temp dir, hash-tagged prefix, secrets), pointed at the cluster.
  ctx = { ...(await createContext()), redisUrl: cluster.url };
  [api, worker] = await Promise.all([
    startApi(ctx),
    startWorker(ctx, { CELLPORT_LOCK_DURATION_MS: "5000", CELLPORT_STALLED_INTERVAL_MS: "2000" }),
  ]);
});

afterAll(() => stopWithOwnRedis([worker, api], cluster, ctx));

const url = (path: string) => `${api.baseUrl}${path}`;
const auth = () => authHeaders(ctx.masterToken);
const store = () => createFsStore({ dataDir: ctx.dataDir, durable: false });

async function status(cell: string): Promise<Record<string, string>> {
  const res = await fetch(url(`${cell}/__export`), { headers: auth() });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, string>;
}

function post(cell: string, name: string): Promise<Response> {
  return fetch(url(`${cell}/__export`), {
    method: "POST",
    headers: auth(),
    body: JSON.stringify({ Name: name }),
  });
}

async function waitUntilReady(cell: string, timeoutMs = 30_000): Promise<void> {
  await eventually(async () => ((await status(cell)).status === "ready" ? true : undefined), timeoutMs, 50);
}

describe("on a three-master Redis Cluster", () => {
  it("runs an export start to finish and puts every queue key in the prefix's slot", async () => {
    const seeded = await seedCell(store(), {
      cell: "cl-full",
      boxes: 1,
      entitiesPerType: 3,
      files: 20,
      totalBytes: 2 * 1024 * 1024,
      textRatio: 0.5,
      seed: "cl-full",
    });
    const res = await post("cl-full", "on-cluster");
    expect(res.status).toBe(202);
    expect((await status("cl-full")).status).not.toBe("ready");
    await waitUntilReady("cl-full");

    const download = await fetch(url("cl-full/__snapshot/on-cluster.zip"), { headers: auth() });
    expect(download.status).toBe(200);
    const zip = await readZipEntries(Buffer.from(await download.arrayBuffer()));
    for (const entry of REQUIRED_ENTRIES) expect(zip.has(entry), entry).toBe(true);
    expect([...zip.keys()].filter((n) => n.endsWith("/content"))).toHaveLength(seeded.files);
    const history = (await (await fetch(url("cl-full/__export/history"), { headers: auth() })).json()) as {
      exports: Array<{ outcome: string; name: string }>;
    };
    expect(history.exports[0]).toMatchObject({ outcome: "completed", name: "on-cluster" });

    // Every key of the stack is on one master, in the hash tag's slot; none anywhere else.
    const client = new Cluster(
      cluster.nodes.map((n) => ({ host: "127.0.0.1", port: n.port })),
      { lazyConnect: true },
    );
    try {
      await client.connect();
      const slot = await client.cluster("KEYSLOT", ctx.prefix);
      const perNode: string[][] = [];
      for (const node of client.nodes("master")) {
        const [, keys] = await node.scan(
          "0",
          "MATCH",
          `${ctx.prefix.replace(/[{}]/g, "\\$&")}*`,
          "COUNT",
          10_000,
        );
        perNode.push(keys);
      }
      const all = perNode.flat();
      expect(all.length).toBeGreaterThan(3);
      expect(perNode.filter((keys) => keys.length > 0)).toHaveLength(1);
      for (const key of all.slice(0, 50)) expect(await client.cluster("KEYSLOT", key), key).toBe(slot);
    } finally {
      client.disconnect();
    }
  });

  it("admits exactly one of concurrent POSTs, locks writes while it runs, and cancels it over pub/sub", async () => {
    await seedCell(store(), {
      cell: "cl-race",
      boxes: 1,
      entitiesPerType: 2,
      files: 30,
      totalBytes: 80 * 1024 * 1024,
      textRatio: 0.1,
      seed: "cl-race",
    });
    const responses = await Promise.all(Array.from({ length: 10 }, (_, i) => post("cl-race", `race${i}`)));
    expect(responses.map((r) => r.status).sort()).toEqual([202, ...Array(9).fill(409)]);
    const conflict = (await responses.find((r) => r.status === 409)?.json()) as { code: string };
    expect(conflict.code).toBe("PR409-CM-0002");
    const name = (await status("cl-race")).exportation_name;

    const put = await fetch(url("cl-race/__/note.txt"), { method: "PUT", headers: auth(), body: "x" });
    expect(put.status).toBe(409);

    // Running (progress > 0), then cancelled: the worker hears it on the cancel channel.
    await eventually(
      async () => (Number.parseInt((await status("cl-race")).progress ?? "0", 10) > 0 ? true : undefined),
      20_000,
      50,
    );
    const cancelledAt = Date.now();
    expect((await fetch(url("cl-race/__export"), { method: "DELETE", headers: auth() })).status).toBe(204);
    expect(await status("cl-race")).toEqual({ status: "ready" });
    expect(Date.now() - cancelledAt).toBeLessThan(3_000);
    expect((await fetch(url(`cl-race/__snapshot/${name}.zip`), { headers: auth() })).status).toBe(404);
    const history = (await (await fetch(url("cl-race/__export/history"), { headers: auth() })).json()) as {
      exports: Array<{ outcome: string }>;
    };
    expect(history.exports[0]?.outcome).toBe("cancelled");
    // The lock went with the job.
    expect(
      (await fetch(url("cl-race/__/note.txt"), { method: "PUT", headers: auth(), body: "x" })).status,
    ).toBe(201);
  });

  it("refuses to start a worker whose prefix has no hash tag (it would fail every job with CROSSSLOT)", async () => {
    const proc = spawnProcess("worker-untagged", PROCESS_ENTRIES.worker, {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      REDIS_URL: cluster.url,
      CELLPORT_DATA_DIR: ctx.dataDir,
      CELLPORT_QUEUE_PREFIX: "cellport-untagged",
    });
    let timer: NodeJS.Timeout | undefined;
    const exit = await Promise.race([
      proc.exited,
      new Promise((done) => {
        timer = setTimeout(() => done("still running after 20 s"), 20_000);
      }),
    ]).finally(() => clearTimeout(timer));
    await proc.stop("SIGKILL");
    expect(exit).toEqual({ code: 1, signal: null });
    expect(proc.lines.join("\n")).toMatch(/Expected CELLPORT_QUEUE_PREFIX to hold a Redis Cluster hash tag/);
  });
});
