import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createShutdown, REPEATED_SIGNAL_WINDOW_MS } from "./shutdown.ts";

const logger = pino({ level: "silent" });

describe("createShutdown", () => {
  it("runs cleanups in reverse order, even after one throws, and exits 1 when one failed", async () => {
    const order: string[] = [];
    let code: number | undefined;
    const shutdown = createShutdown({ logger, deadlineMs: 1_000, exit: (c) => (code = c) });
    shutdown.add("redis", () => void order.push("redis"));
    shutdown.add("broken", () => {
      order.push("broken");
      throw new Error("boom");
    });
    shutdown.add("server", async () => void order.push("server"));
    await shutdown.run("test");
    expect(order).toEqual(["server", "broken", "redis"]);
    expect(code).toBe(1);
  });

  it("exits 0 on a clean stop and runs only once", async () => {
    let calls = 0;
    const codes: number[] = [];
    const shutdown = createShutdown({ logger, deadlineMs: 1_000, exit: (c) => codes.push(c) });
    shutdown.add("one", () => void calls++);
    await Promise.all([shutdown.run("a"), shutdown.run("b")]);
    expect(calls).toBe(1);
    expect(codes).toEqual([0]);
  });

  it("forces exit 1 when the deadline passes", async () => {
    let code: number | undefined;
    const shutdown = createShutdown({ logger, deadlineMs: 50, exit: (c) => (code = c) });
    shutdown.add("hangs", () => new Promise(() => {}));
    await shutdown.run("test");
    expect(code).toBe(1);
  });

  it("takes a signal repeated within a second as the same stop; a later one forces exit 130", async () => {
    let t = 0;
    const codes: number[] = [];
    let release = () => {};
    const shutdown = createShutdown({ logger, deadlineMs: 10_000, exit: (c) => codes.push(c), now: () => t });
    shutdown.add("slow", () => new Promise<void>((done) => (release = done)));
    shutdown.signal("SIGINT");
    t += 20;
    shutdown.signal("SIGTERM"); // the supervisor forwarding the same Ctrl-C
    expect(codes).toEqual([]);
    t += REPEATED_SIGNAL_WINDOW_MS;
    shutdown.signal("SIGINT"); // a deliberate second Ctrl-C
    expect(codes).toEqual([130]);
    release();
    await shutdown.run("done");
    expect(codes).toEqual([130, 0]);
  });
});
