/**
 * Pass or fail, from a report and the thresholds. Some failures have no threshold:
 * a corrupt snapshot, a write accepted while the cell was locked, or progress going
 * backwards breaks the contract itself, so any one of them fails the run.
 */
import type { LoadtestReport, Thresholds } from "./report.ts";

export function judge(
  report: Omit<LoadtestReport, "verdict">,
  thresholds: Thresholds,
): LoadtestReport["verdict"] {
  const failures: string[] = [];
  const lostOrStuck = report.exports.lost + report.exports.stuck;
  if (lostOrStuck > thresholds.maxLost) {
    failures.push(
      `${report.exports.lost} lost and ${report.exports.stuck} stuck exports (max ${thresholds.maxLost})`,
    );
  }
  if (report.errors.total > thresholds.maxErrors) {
    failures.push(`${report.errors.total} errors (max ${thresholds.maxErrors})`);
  }
  const p99 = report.statusLatencyMs.p99;
  if (thresholds.maxStatusP99Ms !== undefined && Number.isFinite(p99) && p99 > thresholds.maxStatusP99Ms) {
    failures.push(`status p99 ${p99.toFixed(1)} ms (max ${thresholds.maxStatusP99Ms} ms)`);
  }
  if (report.exports.verifyFailures > 0) {
    failures.push(`${report.exports.verifyFailures} snapshots failed verification`);
  }
  if (report.lockViolations > 0) {
    failures.push(`${report.lockViolations} writes accepted while an export held the cell`);
  }
  if (report.nonMonotonic.total > 0) {
    failures.push(`${report.nonMonotonic.total} times progress went backwards`);
  }
  if (report.exports.accepted === 0) failures.push("no export was accepted");
  return { pass: failures.length === 0, failures };
}
