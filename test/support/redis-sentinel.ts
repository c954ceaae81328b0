/**
 * A local Redis Sentinel setup for tests: a primary, one replica and one Sentinel
 * (quorum 1) watching the primary under the name `cellport`, on free loopback ports.
 * Ready once the Sentinel knows the replica (a failover needs one). `failover()` waits
 * until the replica has everything the primary has, asks the Sentinel to promote it,
 * and waits until it names the new primary; `stop()` kills all three and removes
 * their files.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { eventually } from "./http.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

export const PRIMARY_NAME = "cellport";

export interface RedisSentinelSetup {
  /** `redis+sentinel://127.0.0.1:P/cellport` — what REDIS_URL is set to. */
  readonly url: string;
  /** The port of the node the Sentinel names as primary now. */
  primaryPort(): Promise<number>;
  /** Promotes the replica; resolves once the Sentinel names it as the primary. */
  failover(): Promise<number>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

/** True when the primary on `port` has an online replica at its own replication offset. */
async function replicaCaughtUp(port: number): Promise<true | undefined> {
  const client = new Redis({ host: "127.0.0.1", port, lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await client.connect();
    const info = await client.info("replication");
    const offset = /^master_repl_offset:(\d+)/m.exec(info)?.[1];
    const replica = /^slave0:.*state=(\w+),offset=(\d+)/m.exec(info);
    return replica?.[1] === "online" && replica[2] === offset ? true : undefined;
  } finally {
    client.disconnect();
  }
}

export async function startRedisSentinel(): Promise<RedisSentinelSetup> {
  const root = await mkdtemp(join(tmpdir(), "cellport-sentinel-"));
  const servers: RedisServer[] = [];
  let sentinelClient: Redis | undefined;

  async function stop(): Promise<void> {
    sentinelClient?.disconnect();
    await Promise.allSettled(servers.map((server) => server.stop()));
    await rm(root, { recursive: true, force: true });
  }

  try {
    const dirs = ["primary", "replica", "sentinel"].map((name) => join(root, name));
    for (const dir of dirs) await mkdir(dir);
    const [primaryDir, replicaDir, sentinelDir] = dirs as [string, string, string];
    // No wait for more replicas before the first full sync (5 s by default).
    const primary = await startRedisServer({ dir: primaryDir, args: ["--repl-diskless-sync-delay", "0"] });
    servers.push(primary);
    servers.push(
      await startRedisServer({ dir: replicaDir, args: ["--replicaof", "127.0.0.1", String(primary.port)] }),
    );
    const config = join(sentinelDir, "sentinel.conf");
    await writeFile(
      config,
      [
        `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primary.port} 1`,
        // Quick decisions: the whole setup is on one machine.
        `sentinel down-after-milliseconds ${PRIMARY_NAME} 1000`,
        `sentinel failover-timeout ${PRIMARY_NAME} 5000`,
        "",
      ].join("\n"),
    );
    const sentinel = await startRedisServer({ dir: sentinelDir, configFile: config, args: ["--sentinel"] });
    servers.push(sentinel);
    const client = new Redis({ host: "127.0.0.1", port: sentinel.port, lazyConnect: true });
    sentinelClient = client;
    await client.connect();

    const primaryPort = async () => {
      const reply = (await client.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", PRIMARY_NAME)) as [
        string,
        string,
      ];
      return Number(reply[1]);
    };
    // The Sentinel learns of the replica from the primary's INFO, a moment after it starts.
    await eventually(async () => {
      const replicas = (await client.call("SENTINEL", "REPLICAS", PRIMARY_NAME)) as string[][];
      return replicas.some((fields) => fields.includes("slave")) ? true : undefined;
    }, READY_TIMEOUT_MS);

    return {
      url: `redis+sentinel://127.0.0.1:${sentinel.port}/${PRIMARY_NAME}`,
      primaryPort,
      async failover() {
        const before = await primaryPort();
        // As an operator would: only once the replica holds everything (replication is asynchronous).
        await eventually(() => replicaCaughtUp(before), READY_TIMEOUT_MS);
        return eventually(async () => {
          const now = await primaryPort();
          if (now !== before) return now;
          // Refused as INPROG while one runs, NOGOODSLAVE until the replica has synced: asked again.
          await client.call("SENTINEL", "FAILOVER", PRIMARY_NAME).catch(() => {});
          return undefined;
        }, READY_TIMEOUT_MS);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
