/**
 * A local Redis Cluster for tests: three masters (no replicas) on free loopback
 * ports, their cluster bus on ports of their own (`--cluster-port`, Redis ≥ 7.0, so
 * no "port + 10000" that might be taken or past 65535), joined with
 * `redis-cli --cluster create`, ready once every node reports `cluster_state:ok`.
 * `stop()` kills the nodes and removes their files.
 */
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "@cellport/runtime";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

const run = promisify(execFile);

export interface RedisCluster {
  /** `redis+cluster://127.0.0.1:P1,…` — what REDIS_URL is set to. */
  readonly url: string;
  readonly nodes: readonly RedisServer[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;

async function clusterInfo(port: number): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), "cluster", "info"], {
    timeout: 2_000,
  });
  return stdout;
}

export async function startRedisCluster(masters = 3): Promise<RedisCluster> {
  const root = await mkdtemp(join(tmpdir(), "cellport-cluster-"));
  const nodes: RedisServer[] = [];

  async function stop(): Promise<void> {
    await Promise.allSettled(nodes.map((node) => node.stop()));
    await rm(root, { recursive: true, force: true });
  }

  try {
    for (let i = 0; i < masters; i++) {
      const dir = join(root, `node-${i}`);
      await mkdir(dir);
      const busPort = await freePort();
      nodes.push(
        await startRedisServer({
          dir,
          args: [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-port",
            String(busPort),
            // A short node timeout: a test cluster is on one machine, and a slow failure
            // detection would only make a broken test hang longer.
            "--cluster-node-timeout",
            "5000",
            "--appendonly",
            "no",
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run(
      "redis-cli",
      ["--cluster", "create", ...addresses, "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
    );

    // `--cluster create` returns once slots are assigned; the nodes agree a little later.
    const until = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      const infos = await Promise.all(nodes.map((node) => clusterInfo(node.port).catch(() => "")));
      if (
        infos.every(
          (info) =>
            /cluster_state:ok/.test(info) && /cluster_known_nodes:(\d+)/.exec(info)?.[1] === String(masters),
        )
      ) {
        break;
      }
      if (Date.now() > until) {
        throw new Error(`cluster not ok within ${READY_TIMEOUT_MS} ms:\n${infos.join("\n---\n")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return { url: `redis+cluster://${addresses.join(",")}`, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
