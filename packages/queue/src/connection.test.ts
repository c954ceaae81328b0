import { Cluster, Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import {
  assertPrefixFits,
  ClusterPrefixError,
  createRedisClient,
  isConnectionError,
  producerConnectionOptions,
  waitForReady,
  workerConnectionOptions,
} from "./connection.ts";

describe("createRedisClient", () => {
  it("builds a Cluster client for redis+cluster:// with the per-node options where BullMQ reads them", () => {
    const client = createRedisClient("redis+cluster://127.0.0.1:1,127.0.0.1:2", {
      ...workerConnectionOptions(),
      lazyConnect: true,
    });
    try {
      expect(client).toBeInstanceOf(Cluster);
      const options = (client as Cluster).options;
      // BullMQ refuses a blocking connection unless this is null on the nodes' options.
      expect(options.redisOptions?.maxRetriesPerRequest).toBeNull();
      expect(options.enableOfflineQueue).toBe(true);
    } finally {
      client.disconnect();
    }
  });

  it("keeps the api's fail-fast choice on a cluster: no offline queue", () => {
    const client = createRedisClient("redis+cluster://127.0.0.1:1", {
      ...producerConnectionOptions(),
      lazyConnect: true,
    });
    try {
      expect((client as Cluster).options.enableOfflineQueue).toBe(false);
      expect((client as Cluster).options.redisOptions?.commandTimeout).toBe(1_000);
    } finally {
      client.disconnect();
    }
  });

  it("builds a client that finds its primary through the Sentinels for redis+sentinel://", () => {
    const client = createRedisClient(
      "rediss+sentinel://me:pw@127.0.0.1:1,127.0.0.1:2/cellport/2?sentinelPassword=sp",
      { ...producerConnectionOptions(), lazyConnect: true },
    );
    try {
      expect(client).toBeInstanceOf(Redis);
      const { options } = client as Redis;
      expect(options).toMatchObject({
        sentinels: [
          { host: "127.0.0.1", port: 1 },
          { host: "127.0.0.1", port: 2 },
        ],
        name: "cellport",
        db: 2,
        username: "me",
        password: "pw",
        sentinelPassword: "sp",
        enableTLSForSentinelMode: true,
        // The api's fail-fast choices hold as for one server.
        enableOfflineQueue: false,
        commandTimeout: 1_000,
        // A failover ends the connections that are still up (see sentinelOptions).
        failoverDetector: true,
      });
      expect(
        options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica.")),
      ).toBe(2);
      expect(options.reconnectOnError?.(new Error("ERR wrong number of arguments"))).toBe(false);
    } finally {
      client.disconnect();
    }
  });

  it("builds a plain client for redis://", () => {
    const client = createRedisClient("redis://127.0.0.1:1", { lazyConnect: true });
    expect(client).toBeInstanceOf(Redis);
    client.disconnect();
  });
});

describe("assertPrefixFits", () => {
  it("refuses a prefix without a hash tag on a cluster only", () => {
    expect(() => assertPrefixFits("redis+cluster://a:1", "cellport")).toThrow(ClusterPrefixError);
    expect(() => assertPrefixFits("redis+cluster://a:1", "{cellport}")).not.toThrow();
    expect(() => assertPrefixFits("redis://a:1", "cellport")).not.toThrow();
  });
});

describe("isConnectionError", () => {
  it.each([
    "Connection is closed.",
    "connect ECONNREFUSED 127.0.0.1:6379",
    "Command timed out",
    "Cluster isn't ready and enableOfflineQueue options is false",
    "OOM command not allowed when used memory > 'maxmemory'.",
    "LOADING Redis is loading the dataset in memory",
    "READONLY You can't write against a read only replica.",
    "CLUSTERDOWN The cluster is down",
  ])("%s → unavailable", (message) => {
    expect(isConnectionError(new Error(message))).toBe(true);
  });

  it.each([
    "ERR wrong number of arguments",
    "WRONGTYPE Operation against a key holding the wrong kind of value",
  ])("%s → a real failure", (message) => {
    expect(isConnectionError(new Error(message))).toBe(false);
  });
});

describe("waitForReady", () => {
  it("fails at once when the client already knows Redis is down, instead of waiting out its timeout", async () => {
    const client = createRedisClient("redis://127.0.0.1:1", {
      ...producerConnectionOptions(),
      retryStrategy: () => 60_000,
    });
    try {
      await expect(waitForReady(client, 5_000)).rejects.toThrow(/unreachable/);
      expect(client.status).toBe("reconnecting");
      const started = performance.now();
      await expect(waitForReady(client, 5_000)).rejects.toThrow(/unreachable/);
      expect(performance.now() - started).toBeLessThan(50);
    } finally {
      client.disconnect();
    }
  });
});
