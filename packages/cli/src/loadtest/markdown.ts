/** The load test report as Markdown (printed at the end, and written beside `--out`). */
import { formatTable } from "../output/format.ts";
import type { Summary } from "../stats.ts";
import type { LoadtestReport } from "./report.ts";

function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : "–";
}

function mdTable(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.map(String).join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

function latencyRow(s: Summary): string[] {
  return [String(s.count), ms(s.p50), ms(s.p95), ms(s.p99), ms(s.max)];
}

function queueDepth(report: LoadtestReport): string {
  const q = report.peakQueueDepth;
  return `${q.value}${q.active === undefined ? "" : ` queued, ${q.active} active`} (${q.source})`;
}

export function renderMarkdown(report: LoadtestReport): string {
  const model =
    report.model.kind === "closed"
      ? `closed model, concurrency ${report.model.concurrency}`
      : `open model, ${report.model.rate} exports/s`;
  const s = report.settings;
  const e = report.exports;
  const statuses = [...new Set(Object.values(report.requests.byOp).flatMap((m) => Object.keys(m)))].sort();
  const out: string[] = [
    `# cellport loadtest — ${report.verdict.pass ? "PASS" : "FAIL"}`,
    "",
    `${report.target} · ${model} · ${report.cells.length} cells · ${s.durationMs / 1000} s / at most ${s.maxExports} exports · ` +
      `${s.pollers} pollers every ${s.pollIntervalMs} ms${s.mix.length ? ` · mix: ${s.mix.join(", ")}` : ""} · ` +
      `${report.startedAt}`,
    "",
    "## Exports",
    "",
    mdTable(
      [
        "launched",
        "accepted",
        "completed",
        "failed",
        "lost",
        "stuck",
        "verified",
        "verify failures",
        "exports/s",
      ],
      [
        [
          e.launched,
          e.accepted,
          e.completed,
          e.failed,
          e.lost,
          e.stuck,
          e.verified,
          e.verifyFailures,
          e.perSecond.toFixed(2),
        ],
      ],
    ),
    "",
    "## Latency (ms)",
    "",
    mdTable(
      ["measure", "count", "p50", "p95", "p99", "max"],
      [
        ["time to ready (POST → ready)", ...latencyRow(report.timeToReadyMs)],
        ["status (GET __export)", ...latencyRow(report.statusLatencyMs)],
      ],
    ),
    "",
    "## Requests by status",
    "",
    mdTable(
      ["operation", ...statuses, "total"],
      Object.entries(report.requests.byOp)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([op, counts]) => [
          op,
          ...statuses.map((code) => counts[code] ?? 0),
          Object.values(counts).reduce((a, b) => a + b, 0),
        ]),
    ),
    "",
    `Requests: ${report.requests.total} · errors: ${report.errors.total} · 409s seen: ${report.conflicts.total} · ` +
      `lock violations: ${report.lockViolations} · non-monotonic progress: ${report.nonMonotonic.total} · ` +
      `peak in flight: ${report.peakInFlight} · peak queue depth: ${queueDepth(report)}`,
  ];
  if (report.errors.total > 0) {
    out.push("", "## Errors", "", ...report.errors.samples.map((line) => `- ${line}`));
  }
  if (report.lostExports.length > 0) {
    out.push("", "## Lost or stuck exports", "");
    out.push(
      mdTable(
        ["cell", "name", "kind", "detail"],
        report.lostExports.map((l) => [l.cell, l.name, l.kind, l.detail]),
      ),
    );
  }
  if (report.verifyProblems.length > 0) {
    out.push("", "## Verification problems", "", ...report.verifyProblems.map((line) => `- ${line}`));
  }
  out.push("", "## Verdict", "");
  if (report.verdict.pass) out.push("PASS: every threshold held.");
  else out.push(...report.verdict.failures.map((f) => `- FAIL: ${f}`));
  return `${out.join("\n")}\n`;
}

/** A compact plain-text summary for the terminal. */
export function renderSummary(report: LoadtestReport): string {
  const e = report.exports;
  const rows: Array<[string, string]> = [
    [
      "exports",
      `${e.completed} completed / ${e.accepted} accepted (${e.perSecond.toFixed(2)}/s), ${e.failed} failed`,
    ],
    ["lost / stuck", `${e.lost} / ${e.stuck}`],
    ["verified", `${e.verified} (${e.verifyFailures} failed)`],
    [
      "time to ready",
      `p50 ${ms(report.timeToReadyMs.p50)}  p95 ${ms(report.timeToReadyMs.p95)}  p99 ${ms(report.timeToReadyMs.p99)} ms`,
    ],
    [
      "status latency",
      `p50 ${ms(report.statusLatencyMs.p50)}  p99 ${ms(report.statusLatencyMs.p99)}  max ${ms(report.statusLatencyMs.max)} ms (${report.statusLatencyMs.count} polls)`,
    ],
    ["requests", `${report.requests.total}, errors ${report.errors.total}, 409s ${report.conflicts.total}`],
    ["non-monotonic", String(report.nonMonotonic.total)],
    ["peak queue depth", queueDepth(report)],
    ["verdict", report.verdict.pass ? "PASS" : `FAIL: ${report.verdict.failures.join("; ")}`],
  ];
  return formatTable(["", ""], rows).split("\n").slice(1).join("\n");
}
