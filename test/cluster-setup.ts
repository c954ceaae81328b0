/**
 * The `e2e-cluster` project: the same end-to-end files, against a local three-master
 * Redis Cluster created here (loopback ports) — the way cellport scales past one
 * Redis. Tests read the URL with `inject("redisUrl")` (test/support/processes.ts).
 */
import type { TestProject } from "vitest/node";
import { startRedisCluster } from "./support/redis-cluster.ts";

declare module "vitest" {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster(3);
  project.provide("redisUrl", cluster.url);
  return () => cluster.stop();
}
