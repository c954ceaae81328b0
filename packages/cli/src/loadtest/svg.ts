/**
 * The load test chart, hand-written SVG (no dependency): status latency per second
 * (p50, p99, max) on top, exports in flight below, on one shared time axis.
 */
import type { TimelinePoint } from "./report.ts";

const WIDTH = 820;
const HEIGHT = 460;
const LEFT = 60;
const RIGHT = 20;
const TOP_PANEL = { top: 40, height: 220 };
const BOTTOM_PANEL = { top: 310, height: 110 };
const COLORS = {
  p50: "#2b8a3e",
  p99: "#e8590c",
  max: "#c92a2a",
  inFlight: "#1971c2",
  grid: "#dee2e6",
  text: "#343a40",
};

function escapeXml(text: string): string {
  return text.replace(
    /[<>&"']/g,
    (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c] ?? c,
  );
}

/** A "nice" upper bound for an axis: 1, 2 or 5 times a power of ten. */
export function niceCeiling(value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

interface Panel {
  top: number;
  height: number;
}

function axis(panel: Panel, maxY: number, unit: string, xOf: (t: number) => number, maxT: number): string[] {
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (maxY * i) / 4;
    const y = panel.top + panel.height - (panel.height * i) / 4;
    parts.push(
      `<line x1="${LEFT}" y1="${y}" x2="${WIDTH - RIGHT}" y2="${y}" stroke="${COLORS.grid}" stroke-width="1"/>`,
      `<text x="${LEFT - 6}" y="${y + 4}" text-anchor="end" font-size="11" fill="${COLORS.text}">${fmt(value)}${unit}</text>`,
    );
  }
  const stepT = niceCeiling(maxT / 8);
  for (let t = 0; t <= maxT + 1e-9; t += stepT) {
    const x = xOf(t);
    parts.push(
      `<line x1="${x}" y1="${panel.top + panel.height}" x2="${x}" y2="${panel.top + panel.height + 4}" stroke="${COLORS.text}"/>`,
      `<text x="${x}" y="${panel.top + panel.height + 16}" text-anchor="middle" font-size="11" fill="${COLORS.text}">${fmt(t)}s</text>`,
    );
  }
  return parts;
}

function polyline(points: Array<[number, number]>, color: string, width = 1.5, dashed = false): string {
  if (points.length === 0) return "";
  const d = points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(" ");
  const dash = dashed ? ' stroke-dasharray="4 3"' : "";
  return `<polyline fill="none" stroke="${color}" stroke-width="${width}"${dash} points="${d}"/>`;
}

export function renderSvg(timeline: readonly TimelinePoint[], title: string): string {
  const maxT = Math.max(1, ...timeline.map((p) => p.t));
  const xOf = (t: number) => LEFT + ((WIDTH - LEFT - RIGHT) * t) / maxT;
  const latencies = timeline.flatMap((p) => [p.statusMax ?? 0, p.statusP99 ?? 0]);
  const maxLatency = niceCeiling(Math.max(1, ...latencies));
  // A count: four whole-number gridlines.
  const maxInFlight = Math.ceil(Math.max(1, ...timeline.map((p) => p.inFlight)) / 4) * 4;
  const yLatency = (v: number) => TOP_PANEL.top + TOP_PANEL.height - (TOP_PANEL.height * v) / maxLatency;
  const yInFlight = (v: number) =>
    BOTTOM_PANEL.top + BOTTOM_PANEL.height - (BOTTOM_PANEL.height * v) / maxInFlight;

  const series = (key: "statusP50" | "statusP99" | "statusMax") =>
    timeline.flatMap(
      (p): Array<[number, number]> => (p[key] === null ? [] : [[xOf(p.t), yLatency(p[key] as number)]]),
    );
  // Exports in flight change in steps: draw them as a step line.
  const steps: Array<[number, number]> = [];
  for (const [i, p] of timeline.entries()) {
    if (i > 0) steps.push([xOf(p.t), yInFlight((timeline[i - 1] as TimelinePoint).inFlight)]);
    steps.push([xOf(p.t), yInFlight(p.inFlight)]);
  }

  const legend = [
    ["p50", COLORS.p50],
    ["p99", COLORS.p99],
    ["max", COLORS.max],
  ]
    .map(
      ([label, color], i) =>
        `<rect x="${WIDTH - RIGHT - 200 + i * 65}" y="${TOP_PANEL.top - 14}" width="10" height="10" fill="${color}"/>` +
        `<text x="${WIDTH - RIGHT - 186 + i * 65}" y="${TOP_PANEL.top - 5}" font-size="11" fill="${COLORS.text}">${label}</text>`,
    )
    .join("");

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="20" font-size="14" font-weight="bold" fill="${COLORS.text}">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="${TOP_PANEL.top - 5}" font-size="12" fill="${COLORS.text}">status latency (GET __export), per second</text>`,
    legend,
    ...axis(TOP_PANEL, maxLatency, " ms", xOf, maxT),
    polyline(series("statusP99"), COLORS.p99),
    polyline(series("statusP50"), COLORS.p50),
    // On top and dashed: with under a hundred polls a second, max and p99 often coincide.
    polyline(series("statusMax"), COLORS.max, 1, true),
    `<text x="${LEFT}" y="${BOTTOM_PANEL.top - 8}" font-size="12" fill="${COLORS.text}">exports in flight</text>`,
    ...axis(BOTTOM_PANEL, maxInFlight, "", xOf, maxT),
    polyline(steps, COLORS.inFlight, 2),
    "</svg>",
    "",
  ].join("\n");
}
