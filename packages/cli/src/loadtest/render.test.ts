import { describe, expect, it } from "vitest";
import { cleanReport } from "../testing/reports.ts";
import { renderMarkdown, renderSummary } from "./markdown.ts";
import type { LoadtestReport } from "./report.ts";
import { niceCeiling, renderSvg } from "./svg.ts";
import { judge } from "./verdict.ts";

function report(mutate: (r: Omit<LoadtestReport, "verdict">) => void = () => {}): LoadtestReport {
  const partial = cleanReport();
  partial.timeline = [
    { t: 1, inFlight: 2, finished: 0, statusP50: 3, statusP99: 9, statusMax: 11 },
    { t: 2, inFlight: 1, finished: 1, statusP50: 4, statusP99: 15, statusMax: 40 },
    { t: 3, inFlight: 0, finished: 2, statusP50: null, statusP99: null, statusMax: null },
  ];
  mutate(partial);
  return { ...partial, verdict: judge(partial, { maxErrors: 0, maxLost: 0 }) };
}

describe("markdown report", () => {
  it("shows the verdict, the latency table and requests by status", () => {
    const md = renderMarkdown(report());
    expect(md).toMatch(/^# cellport loadtest — PASS/);
    expect(md).toContain("| time to ready (POST → ready) | 3 | 1000.0 |");
    expect(md).toContain("| operation | 200 | 202 | total |");
    expect(md).toContain("| POST __export | 0 | 10 | 10 |");
    expect(md).toContain("PASS: every threshold held.");
  });

  it("lists lost exports and the failures", () => {
    const md = renderMarkdown(
      report((r) => {
        r.exports.lost = 1;
        r.lostExports = [{ cell: "c1", name: "lt_1", kind: "lost", detail: "no trace" }];
      }),
    );
    expect(md).toMatch(/^# cellport loadtest — FAIL/);
    expect(md).toContain("| c1 | lt_1 | lost | no trace |");
    expect(md).toContain("- FAIL: 1 lost and 0 stuck exports (max 0)");
  });

  it("summarises for the terminal", () => {
    expect(renderSummary(report())).toMatch(/lost \/ stuck\s+0 \/ 0/);
  });
});

describe("svg chart", () => {
  it("is a standalone SVG with both panels and escaped text", () => {
    const svg = renderSvg(report().timeline, "run <1> & co");
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("run &lt;1&gt; &amp; co");
    expect(svg).toContain("status latency");
    expect(svg).toContain("exports in flight");
    expect(svg.match(/<polyline/g)).toHaveLength(4);
    expect(svg).not.toMatch(/NaN|undefined/);
  });

  it("draws an empty timeline without NaN", () => {
    expect(renderSvg([], "empty")).not.toMatch(/NaN|undefined|Infinity/);
  });

  it("rounds axes up to 1, 2 or 5 × 10^n", () => {
    expect(niceCeiling(7)).toBe(10);
    expect(niceCeiling(13)).toBe(20);
    expect(niceCeiling(41)).toBe(50);
    expect(niceCeiling(0)).toBe(1);
  });
});
