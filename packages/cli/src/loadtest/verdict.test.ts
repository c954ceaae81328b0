import { describe, expect, it } from "vitest";
import { cleanReport } from "../testing/reports.ts";
import type { LoadtestReport } from "./report.ts";
import { judge } from "./verdict.ts";

const thresholds = { maxErrors: 0, maxLost: 0 };

describe("judge", () => {
  it("passes a clean run", () => {
    expect(judge(cleanReport(), thresholds)).toEqual({ pass: true, failures: [] });
  });

  it("fails on one synthetic lost export, with the default --max-lost 0", () => {
    const report = cleanReport();
    report.exports.completed = 9;
    report.exports.lost = 1;
    report.lostExports = [{ cell: "c1", name: "lt_1", kind: "lost", detail: "no trace" }];
    const verdict = judge(report, thresholds);
    expect(verdict.pass).toBe(false);
    expect(verdict.failures).toEqual(["1 lost and 0 stuck exports (max 0)"]);
  });

  it("counts stuck exports against the same limit", () => {
    const report = cleanReport();
    report.exports.stuck = 2;
    expect(judge(report, { ...thresholds, maxLost: 1 }).pass).toBe(false);
    expect(judge(report, { ...thresholds, maxLost: 2 }).pass).toBe(true);
  });

  it("applies the error and status p99 thresholds", () => {
    const report = cleanReport();
    report.errors.total = 3;
    expect(judge(report, thresholds).failures).toEqual(["3 errors (max 0)"]);
    expect(judge(report, { ...thresholds, maxErrors: 3 }).pass).toBe(true);
    expect(judge(cleanReport(), { ...thresholds, maxStatusP99Ms: 10 }).failures).toEqual([
      "status p99 12.0 ms (max 10 ms)",
    ]);
  });

  it("fails on contract breaches whatever the thresholds", () => {
    const lenient = { maxErrors: 1_000, maxLost: 1_000 };
    for (const breach of [
      (r: Omit<LoadtestReport, "verdict">) => {
        r.exports.verifyFailures = 1;
      },
      (r: Omit<LoadtestReport, "verdict">) => {
        r.lockViolations = 1;
      },
      (r: Omit<LoadtestReport, "verdict">) => {
        r.nonMonotonic.total = 1;
      },
      (r: Omit<LoadtestReport, "verdict">) => {
        r.exports.accepted = 0;
      },
    ]) {
      const report = cleanReport();
      breach(report);
      expect(judge(report, lenient).pass).toBe(false);
    }
  });
});
