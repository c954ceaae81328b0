import { describe, expect, it } from "vitest";
import { createProgressThrottle } from "./progress-throttle.ts";

function fakeClock() {
  let t = 1_000;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
}

/** A throttle on a fake clock that records what it writes. */
function recordingThrottle(totalBytes: number, minIntervalMs?: number) {
  const clock = fakeClock();
  const writes: number[] = [];
  const throttle = createProgressThrottle({
    totalBytes,
    report: (p) => void writes.push(p),
    ...(minIntervalMs !== undefined ? { minIntervalMs } : {}),
    now: clock.now,
  });
  return { clock, writes, throttle };
}

describe("createProgressThrottle", () => {
  it("writes whole percents, at most one per interval, then a final 100", async () => {
    const { clock, writes, throttle } = recordingThrottle(1_000, 200);
    throttle.add(5); // 0% — no change, no write
    throttle.add(5); // 1%, too soon after the start
    clock.advance(200);
    throttle.add(0); // 1% now due
    clock.advance(50);
    throttle.add(100); // 11%, too soon
    clock.advance(200);
    throttle.add(1); // 11% now due
    clock.advance(200);
    throttle.add(0); // no change
    clock.advance(200);
    throttle.add(889); // 100% of bytes read: capped at 99 until finish()
    await throttle.finish();
    expect(writes).toEqual([1, 11, 99, 100]);
  });

  it("never exceeds ~100 writes however many chunks arrive, and never decreases", async () => {
    const { clock, writes, throttle } = recordingThrottle(10_000_000);
    for (let i = 0; i < 100_000; i++) {
      throttle.add(100);
      clock.advance(7);
    }
    await throttle.finish();
    expect(writes.length).toBeLessThanOrEqual(101);
    expect(writes.at(-1)).toBe(100);
    for (let i = 1; i < writes.length; i++) expect(writes[i]).toBeGreaterThan(writes[i - 1] ?? -1);
  });

  it("delivers writes in order even when an earlier write is slower", async () => {
    const clock = fakeClock();
    const landed: number[] = [];
    const throttle = createProgressThrottle({
      totalBytes: 100,
      report: (p) =>
        new Promise<void>((resolve) =>
          setTimeout(
            () => {
              landed.push(p);
              resolve();
            },
            p === 10 ? 30 : 1,
          ),
        ),
      now: clock.now,
    });
    clock.advance(500);
    throttle.add(10);
    clock.advance(500);
    throttle.add(40);
    await throttle.finish();
    expect(landed).toEqual([10, 50, 100]);
  });

  it("writes nothing for an export shorter than the interval: no client could see a percent", async () => {
    const { clock, writes, throttle } = recordingThrottle(100, 200);
    throttle.add(60);
    clock.advance(150);
    throttle.add(40);
    await throttle.finish();
    expect(writes).toEqual([]);
    expect(throttle.reported).toBe(0);
  });

  it("writes nothing for an empty total", async () => {
    const { clock, writes, throttle } = recordingThrottle(0, 0);
    clock.advance(1_000);
    throttle.add(0);
    await throttle.finish();
    expect(writes).toEqual([]);
  });

  it("survives failing writes and still ends with one 100", async () => {
    const clock = fakeClock();
    const errors: unknown[] = [];
    const writes: number[] = [];
    const throttle = createProgressThrottle({
      totalBytes: 100,
      report: (p) => {
        writes.push(p);
        throw new Error("redis down");
      },
      onReportError: (e) => errors.push(e),
      now: clock.now,
    });
    clock.advance(500);
    throttle.add(30);
    await throttle.finish();
    await throttle.finish();
    expect(writes).toEqual([30, 100]);
    expect(errors).toHaveLength(2);
    expect(throttle.reported).toBe(100);
  });
});
