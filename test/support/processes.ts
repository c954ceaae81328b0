/**
 * The e2e harness: the process helpers live in `@cellport/cli/stack` (the CLI's
 * `bench` starts the same processes); this file binds them to the test environment
 * (`CELLPORT_TEST_REDIS_URL`, `CELLPORT_TEST_VERBOSE`) so tests keep one import.
 */
import { rm } from "node:fs/promises";
import {
  type ApiProc,
  cleanupContext,
  createStackContext,
  nodeArgsFor,
  PROCESS_ENTRIES,
  Proc,
  repoRoot,
  type SpawnOptions,
  type StackContext,
  spawnProcess as spawnStackProcess,
  startApi,
  startWorker,
} from "@cellport/cli/stack";
import { expect, inject } from "vitest";

export {
  type ApiProc,
  cleanupContext,
  nodeArgsFor,
  PROCESS_ENTRIES,
  Proc,
  repoRoot,
  type StackContext,
  startApi,
  startWorker,
};

/**
 * The Redis the processes under test use: the cluster of the `e2e-cluster` project
 * (test/cluster-setup.ts), else CELLPORT_TEST_REDIS_URL, else the machine's 6379.
 */
export const REDIS_URL =
  (inject("redisUrl") as string | undefined) ??
  process.env.CELLPORT_TEST_REDIS_URL ??
  "redis://127.0.0.1:6379";
const verbose = Boolean(process.env.CELLPORT_TEST_VERBOSE);

export function createContext(): Promise<StackContext> {
  return createStackContext({ redisUrl: REDIS_URL, label: "e2e", echo: verbose });
}

export function spawnProcess(
  name: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  options: SpawnOptions = {},
): Proc {
  return spawnStackProcess(name, entry, env, { echo: verbose, ...options });
}

/**
 * The end of a file that brought its own Redis topology (a cluster, Sentinel): stops
 * the processes — each must exit cleanly — then that Redis, whose keys go with it,
 * then the data dir.
 */
export async function stopWithOwnRedis(
  procs: ReadonlyArray<Proc | undefined>,
  redis: { stop(): Promise<void> } | undefined,
  ctx: StackContext | undefined,
): Promise<void> {
  const exits = await Promise.all(procs.map((proc) => proc?.stop("SIGTERM")));
  await redis?.stop();
  if (ctx) await rm(ctx.dataDir, { recursive: true, force: true });
  for (const exit of exits) if (exit) expect(exit).toEqual({ code: 0, signal: null });
}
