/** The dashboard's view of the queue, on real Redis under a unique prefix. */
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createQueueDashboardSource } from "./dashboard.ts";
import { createJobBackend } from "./job-backend.ts";
import { deleteKeys, TEST_REDIS_URL, uniquePrefix } from "./testing.ts";

const prefix = uniquePrefix("dashboard");
const backend = createJobBackend({ redisUrl: TEST_REDIS_URL, prefix });

afterAll(async () => {
  await backend.close();
  const admin = new Redis(TEST_REDIS_URL);
  await deleteKeys(admin, prefix);
  await admin.quit();
});

describe("createQueueDashboardSource", () => {
  it("adapts the cell-jobs queue under the configured prefix and sees its jobs", async () => {
    const source = createQueueDashboardSource({ redisUrl: TEST_REDIS_URL, prefix, readOnly: true });
    try {
      expect(source.queues).toHaveLength(1);
      const [queue] = source.queues;
      expect(queue?.getName()).toBe("cell-jobs");
      expect(queue?.readOnlyMode).toBe(true);
      expect(queue?.allowRetries).toBe(false);
      await backend.enqueue({
        kind: "export",
        cell: "c1",
        name: "snap",
        acceptedAt: new Date().toISOString(),
        requestKey: "rk",
        unitUrl: "http://localhost/",
      });
      expect((await queue?.getJobCounts())?.waiting).toBe(1);
      const [job] = (await queue?.getJobs(["waiting"])) ?? [];
      expect(job?.toJSON().data).toMatchObject({ cell: "c1", name: "snap" });
    } finally {
      await source.close();
      await source.close();
    }
  });

  it("lets operators act on jobs only when asked to", async () => {
    const source = createQueueDashboardSource({ redisUrl: TEST_REDIS_URL, prefix, readOnly: false });
    try {
      expect(source.queues[0]?.readOnlyMode).toBe(false);
      expect(source.queues[0]?.allowRetries).toBe(true);
    } finally {
      await source.close();
    }
  });
});
