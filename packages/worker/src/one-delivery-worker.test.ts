import { setTimeout as sleep } from "node:timers/promises";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix, waitFor } from "@cellport/queue/testing";
import { type Job, Queue, WaitingError } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { OneDeliveryWorker } from "./one-delivery-worker.ts";

const prefix = uniquePrefix("one-delivery");
const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue("one-delivery", { connection, prefix });

afterAll(async () => {
  await queue.close();
  await deleteKeys(connection, prefix);
  await connection.quit();
});

it("a job that comes back while its older delivery is in flight waits, is handed back, and then runs alone", async () => {
  const LOCK_MS = 1_000;
  const deliveries: Array<{ attempt: number; start: number; end?: number }> = [];
  let redelivered!: () => void;
  const redelivery = new Promise<void>((resolve) => {
    redelivered = resolve;
  });

  const worker = new OneDeliveryWorker<string, string>(
    "one-delivery",
    async (job: Job<string, string>, token?: string) => {
      const delivery = { attempt: job.attemptsStarted, start: Date.now() } as (typeof deliveries)[number];
      deliveries.push(delivery);
      try {
        if (job.attemptsStarted === 1) {
          // What the stalled check does to a delivery whose lock lapsed: the job goes back
          // to the wait list while this delivery still runs, and the free slot fetches it.
          await job.moveToWait(token);
          await redelivery;
          // Still in flight after being told, longer than a lock: the redelivery waiting
          // for it must keep its own lock, or the job stalls.
          await sleep(LOCK_MS * 1.5);
          throw new WaitingError();
        }
        // Longer than the lock: only renewals keep it, and BullMQ renews by job id.
        await sleep(LOCK_MS * 2.5);
        return "done";
      } finally {
        delivery.end = Date.now();
      }
    },
    { connection, prefix, concurrency: 2, lockDuration: LOCK_MS, stalledInterval: 500, maxStalledCount: 1 },
  );
  const told: string[] = [];
  worker.onRedelivery = (jobId) => {
    told.push(jobId);
    redelivered();
  };

  try {
    const job = await queue.add("j", "data", { jobId: "the-job" });
    const finished = await waitFor(
      async () => {
        const state = await queue.getJobState(job.id ?? "");
        return state === "completed" || state === "failed" ? state : undefined;
      },
      { timeoutMs: 15_000, what: "the job to finish" },
    );
    expect(finished).toBe("completed");
    expect((await queue.getJob(job.id ?? ""))?.returnvalue).toBe("done");
    expect(told).toEqual(["the-job"]);
    // The redelivery never reached the processor: two runs, one after the other.
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 3]);
    const [first, last] = deliveries;
    expect(last?.start).toBeGreaterThanOrEqual(first?.end ?? Number.POSITIVE_INFINITY);
    // No lock lapsed, neither the waiting redelivery's nor the last delivery's: no stall.
    expect((await queue.getJob(job.id ?? ""))?.stalledCounter).toBe(0);
  } finally {
    await worker.close();
  }
});
