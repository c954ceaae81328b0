/**
 * A worker process for the crash test (worker.test.ts): runs createCellWorker on a
 * slow store and prints "ready" so the test can SIGKILL it mid-export. Arguments:
 * one JSON object `{ redisUrl, prefix, dataDir, lockDurationMs, stalledIntervalMs, delayMs }`.
 */
import { createLogger } from "@cellport/runtime";
import { createFsStore } from "@cellport/store";
import { slowStore } from "./test-fixtures.ts";
import { createCellWorker } from "./worker.ts";

const args = JSON.parse(process.argv[2] ?? "{}") as {
  redisUrl: string;
  prefix: string;
  dataDir: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  delayMs: number;
};
const store = slowStore(createFsStore({ dataDir: args.dataDir, durable: false }), args.delayMs);
await createCellWorker({
  redisUrl: args.redisUrl,
  prefix: args.prefix,
  store,
  logger: createLogger({ level: "silent", name: "crash-worker" }),
  concurrency: 1,
  lockDurationMs: args.lockDurationMs,
  stalledIntervalMs: args.stalledIntervalMs,
  progressIntervalMs: 0,
});
process.stdout.write("ready\n");
