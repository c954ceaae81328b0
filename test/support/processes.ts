/**
 * The e2e harness: the process helpers live in `@cellport/cli/stack` (the CLI's
 * `bench` starts the same processes); this file binds them to the test environment
 * (`CELLPORT_TEST_REDIS_URL`, `CELLPORT_TEST_VERBOSE`) so tests keep one import.
 */
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
import { inject } from "vitest";

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
