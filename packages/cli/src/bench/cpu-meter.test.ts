import { describe, expect, it } from "vitest";
import { cpuPerExport, parseProcStatCpuMs, parseRedisCpuMs, sampleCpu } from "./cpu-meter.ts";

describe("cpu meter", () => {
  it("reads user + system ticks from /proc/<pid>/stat, whatever the command name holds", () => {
    // Fields 14 and 15 (utime, stime) are 250 and 50 ticks; the name has a space and a ")".
    const line = "4242 (node (x) y) S 1 4242 4242 0 -1 4194304 900 0 0 0 250 50 0 0 20 0 11 0 100 0 0";
    expect(parseProcStatCpuMs(line)).toBe(3_000);
    expect(parseProcStatCpuMs("garbage")).toBeNull();
  });

  it("reads Redis's own CPU from INFO cpu", () => {
    const info = "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:2.500000\r\nused_cpu_sys_children:9.0\r\n";
    expect(parseRedisCpuMs(info)).toBe(3_750);
    expect(parseRedisCpuMs("# CPU\r\n")).toBeNull();
  });

  it("divides each kind's CPU between two samples by the exports, keeping unknowns unknown", () => {
    const before = { api: 1_000, workers: 5_000, redis: null, client: 200 };
    const after = { api: 3_000, workers: 12_000, redis: null, client: 1_200 };
    expect(cpuPerExport(before, after, 1_000)).toEqual({
      api: 2,
      workers: 7,
      redis: null,
      client: 1,
      total: 10,
    });
  });

  it("samples a live process from /proc (Linux), and counts a missing one as unknown", async () => {
    const sample = await sampleCpu({ api: process.pid, workers: [process.pid, undefined], redis: null });
    if (process.platform === "linux") expect(sample.api).toBeGreaterThan(0);
    expect(sample.workers).toBeNull();
    expect(sample.client).toBeGreaterThan(0);
  });
});
