import { describe, expect, it } from "vitest";
import { createMonotonicChecker } from "./monotonic.ts";

describe("monotonic progress checker", () => {
  it("accepts rising and equal progress", () => {
    const check = createMonotonicChecker();
    expect(check.observe({ key: "c1/a", percent: 10, sentAt: 0, receivedAt: 5 })).toBeNull();
    expect(check.observe({ key: "c1/a", percent: 10, sentAt: 6, receivedAt: 9 })).toBeNull();
    expect(check.observe({ key: "c1/a", percent: 55, sentAt: 10, receivedAt: 12 })).toBeNull();
    expect(check.regressions).toHaveLength(0);
  });

  it("flags a poll sent after a higher answer arrived", () => {
    const check = createMonotonicChecker();
    check.observe({ key: "c1/a", percent: 60, sentAt: 0, receivedAt: 5 });
    const regression = check.observe({ key: "c1/a", percent: 40, sentAt: 6, receivedAt: 8 });
    expect(regression).toEqual({ key: "c1/a", before: 60, after: 40, at: 8 });
    expect(check.regressions).toHaveLength(1);
  });

  it("ignores overlapping polls whose answers crossed on the wire", () => {
    const check = createMonotonicChecker();
    // B (40%) was sent before A's 60% answer arrived: the server may have answered B first.
    check.observe({ key: "c1/a", percent: 60, sentAt: 0, receivedAt: 10 });
    expect(check.observe({ key: "c1/a", percent: 40, sentAt: 3, receivedAt: 11 })).toBeNull();
  });

  it("keeps exports apart", () => {
    const check = createMonotonicChecker();
    check.observe({ key: "c1/a", percent: 90, sentAt: 0, receivedAt: 1 });
    expect(check.observe({ key: "c1/b", percent: 0, sentAt: 2, receivedAt: 3 })).toBeNull();
    check.forget("c1/a");
    expect(check.observe({ key: "c1/a", percent: 0, sentAt: 4, receivedAt: 5 })).toBeNull();
  });
});
