import type { CurrentJob } from "@cellport/shared";
import { describe, expect, it } from "vitest";
import { createStatusCache } from "./status-cache.ts";

function job(progress: number): CurrentJob {
  return {
    state: "active",
    progress,
    data: {
      kind: "export",
      cell: "c1",
      name: "n",
      acceptedAt: "2026-12-04T00:00:00.000Z",
      requestKey: "k",
      unitUrl: "http://localhost/",
    },
  };
}

/** A cache over a scripted Redis: `answers` are handed out in order; the clock is manual. */
function setup(answers: Array<CurrentJob | null>, maxAgeMs = 100) {
  let clock = 0;
  const reads: string[] = [];
  const cache = createStatusCache({
    maxAgeMs,
    now: () => clock,
    readFresh: async (cell) => {
      reads.push(cell);
      return answers.length > 1 ? (answers.shift() ?? null) : (answers[0] ?? null);
    },
  });
  cache.setServing(true);
  return { cache, reads, advance: (ms: number) => (clock += ms) };
}

describe("status cache", () => {
  it("serves an in-progress answer from memory until it is maxAgeMs old", async () => {
    const { cache, reads, advance } = setup([job(10), job(20)]);
    expect((await cache.read("c1"))?.progress).toBe(10);
    advance(49);
    expect((await cache.read("c1"))?.progress).toBe(10);
    expect(reads).toHaveLength(1);
    advance(51);
    expect((await cache.read("c1"))?.progress).toBe(20);
    expect(reads).toHaveLength(2);
  });

  it("refreshes an entry past half its age in the background, still serving it meanwhile", async () => {
    const { cache, reads, advance } = setup([job(10), job(20), job(30)]);
    await cache.read("c1");
    advance(60);
    expect((await cache.read("c1"))?.progress).toBe(10); // served, refresh started
    expect(reads).toHaveLength(2);
    await Promise.resolve();
    expect((await cache.read("c1"))?.progress).toBe(20); // the refreshed entry, read at 60
    advance(99);
    expect((await cache.read("c1"))?.progress).toBe(20); // 99 ms old: still served…
    expect(reads).toHaveLength(3); // …and refreshed again
  });

  it("drops the entry when a refresh finds nothing running", async () => {
    const { cache, advance } = setup([job(10), null]);
    await cache.read("c1");
    advance(60);
    await cache.read("c1");
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(cache.holdsJob("c1")).toBe(false);
    expect(await cache.read("c1")).toBeNull();
  });

  it("never keeps 'nothing running': the next read asks Redis again", async () => {
    const { cache, reads } = setup([null, job(0)]);
    expect(await cache.read("c1")).toBeNull();
    expect((await cache.read("c1"))?.progress).toBe(0);
    expect(reads).toHaveLength(2);
    expect(cache.holdsJob("c1")).toBe(true);
  });

  it("shares one read among concurrent callers", async () => {
    const { cache, reads } = setup([job(5)]);
    const results = await Promise.all(Array.from({ length: 20 }, () => cache.read("c1")));
    expect(reads).toHaveLength(1);
    expect(new Set(results).size).toBe(1);
  });

  it("drops a cell on forget, and does not keep a read that was on its way meanwhile", async () => {
    const { cache, reads } = setup([job(50), job(60), null]);
    await cache.read("c1");
    const inFlight = cache.read("c1"); // fresh: from memory
    cache.forget("c1");
    expect(cache.holdsJob("c1")).toBe(false);
    const racing = cache.read("c1"); // a new read, issued before the job's end was heard…
    cache.forget("c1"); // …and the end arrives while it is on its way
    expect((await racing)?.progress).toBe(60); // its callers get what Redis said
    expect(await inFlight).not.toBeNull();
    expect(await cache.read("c1")).toBeNull(); // but it was not kept
    expect(reads).toHaveLength(3);
  });

  it("keeps what an enqueue left (update) like a read: the next poll needs no trip to Redis", async () => {
    const { cache, reads } = setup([job(70)]);
    expect((await cache.update("c1", async () => job(0)))?.progress).toBe(0);
    expect((await cache.read("c1"))?.progress).toBe(0);
    expect(cache.holdsJob("c1")).toBe(true);
    expect(reads).toHaveLength(0);
    // An enqueue that found nothing running (its holder had just ended) drops the entry.
    expect(await cache.update("c1", async () => null)).toBeNull();
    expect((await cache.read("c1"))?.progress).toBe(70);
  });

  it("an update supersedes a read on its way, and is not kept if the job's end arrives meanwhile", async () => {
    let release: (job: CurrentJob | null) => void = () => {};
    const { cache, reads } = setup([job(10), job(90)]);
    const reading = cache.read("c1");
    const updating = cache.update("c1", () => new Promise((resolve) => (release = resolve)));
    expect((await reading)?.progress).toBe(10); // the older read: its callers get it…
    expect(cache.holdsJob("c1")).toBe(false); // …but it is not kept
    cache.forget("c1"); // the job ends before the enqueue's answer is back
    release(job(0));
    expect((await updating)?.progress).toBe(0);
    expect((await cache.read("c1"))?.progress).toBe(90); // not kept: Redis is asked
    expect(reads).toHaveLength(2);
  });

  it("serves nothing from memory while the end-of-job feed is down", async () => {
    const { cache, reads } = setup([job(1), job(2), job(3)]);
    await cache.read("c1");
    cache.setServing(false);
    expect(cache.holdsJob("c1")).toBe(false);
    expect((await cache.read("c1"))?.progress).toBe(2);
    expect((await cache.read("c1"))?.progress).toBe(3);
    expect(reads).toHaveLength(3);
  });

  it("holds 'the cell has a job' a little longer than the status max age (the cell exists)", async () => {
    const { cache, advance } = setup([job(1)], 100);
    await cache.read("c1");
    advance(500);
    expect(cache.holdsJob("c1")).toBe(true);
    advance(500);
    expect(cache.holdsJob("c1")).toBe(false);
  });

  it("reads Redis every time with a max age of 0", async () => {
    const { cache, reads } = setup([job(1)], 0);
    await cache.read("c1");
    await cache.read("c1");
    expect(reads).toHaveLength(2);
    expect(cache.holdsJob("c1")).toBe(false);
  });
});
