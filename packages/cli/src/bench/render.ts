/** Benchmark figures side by side with their baselines, as plain-text tables. */
import { formatTable } from "../output/format.ts";
import { formatBytes, formatDuration } from "../units.ts";
import type { CpuPerExport } from "./cpu-meter.ts";
import type { ExportBenchResult } from "./export-bench.ts";
import type { FlowBenchResult } from "./flow-bench.ts";
import type { StatusBenchResult } from "./status-bench.ts";

const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : "–");
const times = (v: number) => (Number.isFinite(v) ? `${v.toFixed(2)}×` : "–");
const perSecond = (v: number) => (Number.isFinite(v) ? v.toFixed(1) : "–");

export function renderExportBench(result: ExportBenchResult): string {
  const m = result.median;
  const p = result.profile;
  const header =
    `bench export — ${p.files} files, ${formatBytes(p.bytes)} (${Math.round(p.textRatio * 100)}% text), ` +
    `${p.boxes} boxes, ${p.entitiesPerType} entities/type; median of ${result.runs.length} run(s); ${result.cpus} CPUs`;
  const table = formatTable(
    ["", "time", "output", "time vs zip", "size vs zip"],
    [
      [
        "cellport export (POST → ready)",
        formatDuration(m.cellportMs),
        formatBytes(m.snapshotBytes),
        times(m.cellportMs / m.zipMs),
        times(m.snapshotBytes / m.zipBytes),
      ],
      ["  worker's own time", m.workerMs === null ? "–" : formatDuration(m.workerMs), "", "", ""],
      ["zip -r -q -6 -n … (Info-ZIP)", formatDuration(m.zipMs), formatBytes(m.zipBytes), "1.00×", "1.00×"],
      [
        "tar -cf (no compression)",
        formatDuration(m.tarMs),
        formatBytes(m.tarBytes),
        times(m.tarMs / m.zipMs),
        times(m.tarBytes / m.zipBytes),
      ],
    ],
  );
  const worker = [
    `worker peak RSS (VmHWM, during the export): ${m.peakRssBytes === null ? "–" : formatBytes(m.peakRssBytes)}`,
    `worker event-loop delay: p99 ${ms(m.loopDelayP99Ms)}, max ${ms(m.loopDelayMaxMs)}`,
  ];
  return [header, "", table, "", ...worker].join("\n");
}

export function renderStatusBench(result: StatusBenchResult): string {
  const row = (label: string, f: StatusBenchResult["api"]) => [
    label,
    Math.round(f.requestsPerSecond).toLocaleString("en-US"),
    ms(f.latencyMs.p50),
    ms(f.latencyMs.p99),
    ms(f.latencyMs.max),
    f.non2xx + f.errors,
  ];
  const ratioOk = result.ratio >= result.targets.ratio;
  const p99Ok = result.api.latencyMs.p99 <= result.targets.p99Ms;
  return [
    `bench status — GET {cell}/__export, ${result.connections} connections, ${result.durationSeconds} s each ` +
      `(${result.slices} alternating slices), 2 exports running (${result.backgroundExports} finished meanwhile); ` +
      `${result.cpus} CPUs`,
    "",
    formatTable(
      ["", "req/s", "p50", "p99", "max", "non-2xx/errors"],
      [row("cellport api", result.api), row("baseline (bare node:http, in-process)", result.baseline)],
      new Set([1, 2, 3, 4, 5]),
    ),
    "",
    `ratio: ${(result.ratio * 100).toFixed(0)}% of baseline (target ≥ ${result.targets.ratio * 100}%: ${ratioOk ? "met" : "missed"}); ` +
      `api p99 ${ms(result.api.latencyMs.p99)} (target ≤ ${result.targets.p99Ms} ms: ${p99Ok ? "met" : "missed"})`,
    ...(result.apiCpuMicrosPerRequest === null
      ? []
      : [`api cpu per request: ${result.apiCpuMicrosPerRequest.toFixed(1)} µs`]),
  ].join("\n");
}

export function renderFlowBench(result: FlowBenchResult): string {
  const rows = result.rounds.map((r) => [
    `${r.workers} worker process(es)`,
    r.exports,
    formatDuration(r.ms),
    perSecond(r.perSecond),
    ms(r.timeToReadyMs.p50),
    ms(r.timeToReadyMs.p99),
    r.pollsPerExport.toFixed(1),
    r.notCompleted,
  ]);
  const base = result.rounds[0];
  const scaling = result.rounds
    .slice(1)
    .map((r) => `${r.workers} workers: ${times(r.perSecond / (base?.perSecond ?? Number.NaN))} of 1 worker`)
    .join(", ");
  const cpuLines = result.rounds.map(
    (r) => `cpu per export, ${r.workers} worker process(es): ${describeCpu(r.cpuMsPerExport)}`,
  );
  const d = result.drain;
  const loop = base
    ? `; ${base.flows} closed-loop flows polling every ${base.pollIntervalMs} ms` +
      (base.warmupExports > 0 ? `, each round after ${base.warmupExports} uncounted warm-up exports` : "")
    : "";
  return [
    `bench flow — tiny-cell exports end to end (POST → ready)${loop}; ${result.cpus} CPUs`,
    "",
    formatTable(
      ["", "exports", "time", "exports/s", "ready p50", "ready p99", "polls/export", "not completed"],
      rows,
      new Set([1, 2, 3, 4, 5, 6, 7]),
    ),
    scaling ? `\nscaling: ${scaling}` : "",
    "",
    ...cpuLines,
    "",
    `drain: ${d.exports} exports queued at once, ${d.workers} worker process(es): ${formatDuration(d.ms)} ` +
      `(${perSecond(d.perSecond)}/s), ${d.completed} completed, ${d.lost} lost`,
  ].join("\n");
}

/** "workers 7.21 ms, api 2.10 ms, redis 0.75 ms, bench client 1.19 ms — 11.25 ms in all" (unknown parts left out). */
function describeCpu(cpu: CpuPerExport): string {
  const parts: Array<[string, number | null]> = [
    ["workers", cpu.workers],
    ["api", cpu.api],
    ["redis", cpu.redis],
    ["bench client", cpu.client],
  ];
  const known = parts.flatMap(([label, value]) =>
    value === null ? [] : [`${label} ${value.toFixed(2)} ms`],
  );
  return `${known.join(", ")} — ${cpu.total.toFixed(2)} ms in all`;
}
