import { describe, expect, it } from "vitest";
import { median, percentile, round, summarize } from "./stats.ts";

describe("percentile (nearest rank)", () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it("returns measured values only", () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile(hundred, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
  });

  it("lets one outlier in a hundred set the p100 but not the p99", () => {
    const values = [...Array.from({ length: 99 }, () => 10), 5_000];
    expect(percentile(values, 99)).toBe(10);
    expect(percentile(values, 100)).toBe(5_000);
  });

  it("is NaN without samples", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("summarize and median", () => {
  it("summarises unsorted input", () => {
    expect(summarize([3, 1, 2, 4])).toEqual({ count: 4, min: 1, max: 4, mean: 2.5, p50: 2, p95: 4, p99: 4 });
  });

  it("takes the mean of the two middle values for an even count", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([5, 1, 3])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it("rounds NaN to null for JSON", () => {
    expect(round(Number.NaN)).toBeNull();
    expect(round(1.26, 1)).toBe(1.3);
  });
});
