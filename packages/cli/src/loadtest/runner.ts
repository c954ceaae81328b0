/**
 * Drives the load: exports in a closed model (C always in flight) or an open model
 * (R started per second), P status pollers, optional probes during each export
 * (downloads, imports, writes, duplicate exports — see MIX_KINDS), and verification
 * of every finished snapshot. Every accepted export is followed to an outcome:
 * completed, failed, cancelled, lost (no trace) or stuck (still running at the end).
 *
 * A cell is used by one export task at a time, from its POST until its probes are
 * settled; snapshots are deleted only when their cell is idle again (a delete is a
 * write: it would get 409 while the cell's next export runs).
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveExportOutcome } from "../client/export-outcome.ts";
import type { CellportClient } from "../client/http-client.ts";
import { downloadSnapshotFile } from "../client/transfer.ts";
import { sleep } from "../context.ts";
import { ApiError, CliError, errorLine, InterruptedError } from "../errors.ts";
import { metricValue } from "../prometheus.ts";
import { type Metrics, STATUS_OP } from "./metrics.ts";
import type { LoadtestOptions, MixKind } from "./options.ts";
import type { LoadtestReport, LostExport, Thresholds } from "./report.ts";
import { judge } from "./verdict.ts";
import { verifySnapshot } from "./verify.ts";

export interface PreparedCell {
  name: string;
  seeded: boolean;
  /** Zip entries an export of it must have (manifest included); null when unknown. */
  expectedEntries: number | null;
}

export interface RunnerDeps {
  /** A client whose observer is `metrics.sample` (see `createRunnerClient`). */
  client: CellportClient;
  metrics: Metrics;
  cells: PreparedCell[];
  signal: AbortSignal;
  /** Live display, once a second. */
  onTick?: (live: LiveState) => void;
  startedAt: number;
}

export interface LiveState {
  elapsedMs: number;
  launched: number;
  inFlight: number;
  finished: number;
  errors: number;
  statusP99: number;
}

interface CellState {
  cell: PreparedCell;
  busy: boolean;
  /** Snapshots verified (or given up on) and not yet deleted, oldest first. */
  deletable: string[];
  /** The newest verified snapshot: what a "download" probe fetches. */
  lastSnapshot: { file: string; size: number } | null;
}

const MIX_ORDER = ["write", "import", "download", "duplicate"] as const satisfies readonly MixKind[];

/** A name that never exists: import probes must be refused by the lock, never start. */
const PROBE_IMPORT_NAME = "cellport_loadtest_probe_missing";

export async function runLoadtest(
  options: LoadtestOptions,
  thresholds: Thresholds,
  deps: RunnerDeps,
): Promise<LoadtestReport> {
  const { client, metrics, signal } = deps;
  const runId = randomBytes(3).toString("hex");
  const startedAt = deps.startedAt;
  const launchEnd = startedAt + options.durationMs;
  const cells: CellState[] = deps.cells.map((cell) => ({
    cell,
    busy: false,
    deletable: [],
    lastSnapshot: null,
  }));
  const lost: LostExport[] = [];
  const verifyProblems: string[] = [];
  const counts = {
    launched: 0,
    accepted: 0,
    refused: 0,
    skipped: 0,
    completed: 0,
    failed: 0,
    cancelled: 0,
    lost: 0,
    stuck: 0,
    verified: 0,
    verifyFailures: 0,
  };
  let lockViolations = 0;
  let seq = 0;
  let cursor = 0;
  let stopping = false;
  const tmp = await mkdtemp(join(tmpdir(), "cellport-loadtest-"));
  const verifications = createQueue(2);

  const unexpected = (op: string, error: unknown) => {
    if (error instanceof InterruptedError || signal.aborted) return; // Ctrl-C is not a server error
    const kind =
      error instanceof ApiError ? String(error.status) : error instanceof CliError ? "failure" : "exception";
    metrics.error(kind, `${op}: ${errorLine(error)}`);
  };

  function pickIdleCell(): CellState | undefined {
    for (let i = 0; i < cells.length; i++) {
      const state = cells[(cursor + i) % cells.length] as CellState;
      if (!state.busy) {
        cursor = (cursor + i + 1) % cells.length;
        return state;
      }
    }
    return undefined;
  }

  /** Is `name` still the cell's running export? (Decides whether an accepted write broke the lock.) */
  async function stillExporting(cell: string, name: string): Promise<boolean> {
    try {
      const status = await client.exportStatus(cell);
      return status.status === "exportation in progress" && status.exportation_name === name;
    } catch (error) {
      unexpected(STATUS_OP, error);
      return false;
    }
  }

  async function deleteSnapshots(state: CellState): Promise<void> {
    for (const file of state.deletable.splice(0)) {
      await client.deleteSnapshot(state.cell.name, file).catch((error: unknown) => {
        if (!(error instanceof ApiError && error.status === 404))
          unexpected("DELETE __snapshot/{file}", error);
      });
    }
  }

  async function verify(state: CellState, name: string, sha256: string | undefined): Promise<void> {
    const file = `${name}.zip`;
    const local = join(tmp, `${state.cell.name}-${file}`);
    try {
      const download = await downloadSnapshotFile(client, state.cell.name, file, local, {
        resume: false,
        signal,
      });
      const result = await verifySnapshot(
        local,
        download.sha256,
        { sha256, entries: state.cell.expectedEntries },
        signal,
      );
      if (result.ok) {
        counts.verified++;
        if (state.lastSnapshot) state.deletable.push(state.lastSnapshot.file);
        state.lastSnapshot = { file, size: download.size };
      } else {
        counts.verifyFailures++;
        verifyProblems.push(...result.problems.map((p) => `${state.cell.name}/${file}: ${p}`));
        state.deletable.push(file);
      }
    } catch (error) {
      if (error instanceof InterruptedError || signal.aborted) return;
      counts.verifyFailures++;
      verifyProblems.push(`${state.cell.name}/${file}: ${errorLine(error)}`);
      state.deletable.push(file);
    } finally {
      await rm(local, { force: true });
      await rm(`${local}.part`, { force: true });
      await rm(`${local}.part.json`, { force: true });
    }
  }

  /** Probes run while the export holds the cell; each knows what it must get. */
  async function probe(kind: LoadtestOptions["mix"][number], state: CellState, name: string): Promise<void> {
    const cell = state.cell.name;
    const n = ++seq;
    try {
      switch (kind) {
        case "write": {
          const path = `cellport-loadtest-${runId}-${n}.txt`;
          try {
            await client.putBoxFile(cell, path, "probe");
          } catch (error) {
            if (error instanceof ApiError && error.status === 409) return; // the lock held
            throw error;
          }
          // Accepted: fine only if the export had already ended. Undo it either way.
          if (await stillExporting(cell, name)) {
            lockViolations++;
            metrics.error("lock", `PUT box file on ${cell} accepted while ${name} was running`);
          }
          await client
            .deleteBoxFile(cell, path)
            .catch((error: unknown) => unexpected("DELETE box file", error));
          return;
        }
        case "import": {
          try {
            await client.startImport(cell, PROBE_IMPORT_NAME);
          } catch (error) {
            if (error instanceof ApiError && error.status === 409) return;
            // 404 for the missing file is right once the export has ended.
            if (error instanceof ApiError && error.status === 404 && !(await stillExporting(cell, name)))
              return;
            if (error instanceof ApiError && error.status === 404) {
              lockViolations++;
              metrics.error("lock", `POST __import on ${cell} got past the lock while ${name} was running`);
              return;
            }
            throw error;
          }
          metrics.error("lock", `POST __import of a missing snapshot was accepted on ${cell}`);
          return;
        }
        case "duplicate": {
          const second = `lt_${runId}_dup${n}`;
          try {
            await client.startExport(cell, second);
          } catch (error) {
            if (error instanceof ApiError && error.status === 409) return;
            throw error;
          }
          // A second export was accepted: a violation unless the first had ended. Follow
          // it to its end either way, so it is neither lost nor left running.
          counts.launched++;
          counts.accepted++;
          if (await stillExporting(cell, name)) {
            lockViolations++;
            metrics.error("lock", `a second export of ${cell} was accepted while ${name} was running`);
          }
          await follow(state, second, Date.now(), performance.now());
          return;
        }
        case "download": {
          const previous = state.lastSnapshot;
          if (!previous) return;
          const response = await client.downloadSnapshot(cell, previous.file);
          let bytes = 0;
          for await (const chunk of response.body) bytes += (chunk as Buffer).length;
          if (bytes !== previous.size) {
            metrics.error(
              "download",
              `GET ${cell}/${previous.file}: ${bytes} bytes, expected ${previous.size}`,
            );
          }
          return;
        }
      }
    } catch (error) {
      unexpected(`probe ${kind}`, error);
    }
  }

  /**
   * One after the other, the duplicate export last: if the export has already ended,
   * a duplicate is accepted and starts a new export, which would then (rightly)
   * refuse the cleanup of an earlier probe's write.
   */
  async function runProbes(state: CellState, name: string): Promise<void> {
    for (const kind of MIX_ORDER) if (options.mix.includes(kind)) await probe(kind, state, name);
  }

  /** Polls until `name` is no longer in progress, then settles its outcome. */
  async function follow(state: CellState, name: string, wallStart: number, perfStart: number): Promise<void> {
    const cell = state.cell.name;
    const key = `${cell}/${name}`;
    const stuckAt = Math.max(launchEnd, wallStart) + options.drainTimeoutMs;
    metrics.exportStarted();
    let readyAfter: number | null = null;
    for (;;) {
      if (Date.now() > stuckAt || signal.aborted) break;
      const sentAt = Date.now();
      try {
        const status = await client.exportStatus(cell);
        if (status.status === "exportation in progress" && status.exportation_name === name) {
          metrics.progress(key, Number.parseInt(status.progress, 10) || 0, sentAt, Date.now());
        } else {
          readyAfter = performance.now() - perfStart;
          break;
        }
      } catch (error) {
        unexpected(STATUS_OP, error);
      }
      await sleep(options.pollIntervalMs).catch(() => {});
    }
    metrics.exportReady(key, readyAfter);
    if (readyAfter === null) {
      if (signal.aborted) return;
      counts.stuck++;
      lost.push({
        cell,
        name,
        kind: "stuck",
        detail: `still in progress ${Math.round(options.drainTimeoutMs / 1000)} s after the load ended`,
      });
      return;
    }
    try {
      const outcome = await resolveExportOutcome(client, cell, name);
      switch (outcome.outcome) {
        case "completed":
          counts.completed++;
          if (options.verify) verifications.push(() => verify(state, name, outcome.sha256));
          else state.deletable.push(`${name}.zip`);
          break;
        case "failed":
          counts.failed++;
          metrics.error(
            "export failed",
            `export ${key} failed: ${outcome.error?.code ?? "?"} ${outcome.error?.message.value ?? ""}`,
          );
          state.deletable.push(`${name}.error`);
          break;
        case "cancelled":
          counts.cancelled++;
          metrics.error("export cancelled", `export ${key} was cancelled by someone else`);
          break;
        case "missing":
          counts.lost++;
          lost.push({
            cell,
            name,
            kind: "lost",
            detail: "ready, but no snapshot, no .error file and no history entry",
          });
          break;
      }
    } catch (error) {
      unexpected("outcome", error);
    }
  }

  async function runExport(state: CellState): Promise<void> {
    state.busy = true;
    // Counted before the first await, so concurrent launchers never overshoot --exports.
    counts.launched++;
    try {
      await deleteSnapshots(state);
      const name = `lt_${runId}_${++seq}`;
      const wallStart = Date.now();
      const perfStart = performance.now();
      try {
        await client.startExport(state.cell.name, name);
      } catch (error) {
        counts.refused++;
        unexpected("POST __export", error);
        return;
      }
      counts.accepted++;
      await Promise.all([follow(state, name, wallStart, perfStart), runProbes(state, name)]);
    } finally {
      state.busy = false;
    }
  }

  const launching = () =>
    !stopping && !signal.aborted && Date.now() < launchEnd && counts.launched < options.maxExports;
  const tasks = new Set<Promise<void>>();
  const track = (task: Promise<void>) => {
    tasks.add(task);
    void task.finally(() => tasks.delete(task));
  };

  async function closedModel(concurrency: number): Promise<void> {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (launching()) {
          const state = pickIdleCell();
          if (!state) {
            await sleep(options.pollIntervalMs).catch(() => {});
            continue;
          }
          await runExport(state);
        }
      }),
    );
  }

  async function openModel(rate: number): Promise<void> {
    const gapMs = 1000 / rate;
    let next = performance.now();
    while (launching()) {
      const state = pickIdleCell();
      if (state) track(runExport(state));
      else counts.skipped++;
      next += gapMs;
      await sleep(Math.max(0, next - performance.now())).catch(() => {});
    }
  }

  async function poller(): Promise<void> {
    while (!stopping && !signal.aborted) {
      const state = cells[Math.floor(Math.random() * cells.length)] as CellState;
      const sentAt = Date.now();
      try {
        const status = await client.exportStatus(state.cell.name);
        if (status.status === "exportation in progress") {
          metrics.progress(
            `${state.cell.name}/${status.exportation_name}`,
            Number.parseInt(status.progress, 10) || 0,
            sentAt,
            Date.now(),
          );
        }
      } catch (error) {
        unexpected(STATUS_OP, error);
      }
      await sleep(options.pollIntervalMs).catch(() => {});
    }
  }

  /**
   * Peak queue depth from the api's own gauge (`cellport_queue_jobs`, read from Redis
   * at scrape time) when it serves one; else the exports seen in progress at once.
   * A failed or empty scrape is one missed sample (a busy api, a slow Redis), not
   * proof that the api has no such metric: sampling goes on.
   */
  const queue = { available: false, peakQueued: 0, peakActive: 0 };
  async function sampleQueue(): Promise<void> {
    try {
      const text = await (
        await client.request("metrics", "GET", { op: "GET /metrics", expect: [200] })
      ).text();
      const count = (state: string) => metricValue(text, "cellport_queue_jobs", { state });
      const waiting = count("waiting");
      if (waiting === null) return;
      queue.available = true;
      queue.peakQueued = Math.max(
        queue.peakQueued,
        waiting + (count("prioritized") ?? 0) + (count("delayed") ?? 0),
      );
      queue.peakActive = Math.max(queue.peakActive, count("active") ?? 0);
    } catch {
      // a missed sample; the next tick tries again
    }
  }

  metrics.tick(startedAt);
  // Every tick samples the queue; the samples still in flight are awaited at the end,
  // so even a run shorter than a tick has its queue depth.
  const samples = new Set<Promise<void>>();
  const sample = () => {
    const pending = sampleQueue().finally(() => samples.delete(pending));
    samples.add(pending);
  };
  sample();
  const ticker = setInterval(() => {
    const now = Date.now();
    metrics.tick(now);
    sample();
    deps.onTick?.({
      elapsedMs: now - startedAt,
      launched: counts.launched,
      inFlight: metrics.inFlight,
      finished: metrics.finished,
      errors: metrics.errorTotal,
      statusP99: metrics.recentStatusP99(now),
    });
  }, 1000);

  const pollers = Array.from({ length: options.pollers }, () => poller());
  try {
    if (options.rate !== undefined) await openModel(options.rate);
    else await closedModel(options.concurrency ?? 1);
    await Promise.all([...tasks]);
    const wallMs = Date.now() - startedAt;
    stopping = true;
    await Promise.all(pollers);
    await verifications.drain();
    clearInterval(ticker);
    await Promise.all(samples);
    metrics.tick(Date.now());
    if (!options.keep)
      for (const state of cells) {
        if (state.lastSnapshot) state.deletable.push(state.lastSnapshot.file);
        await deleteSnapshots(state);
      }

    const snapshot = metrics.snapshot();
    const partial: Omit<LoadtestReport, "verdict"> = {
      tool: "cellport loadtest",
      startedAt: new Date(startedAt).toISOString(),
      finishedAt: new Date().toISOString(),
      target: options.url,
      model:
        options.rate !== undefined
          ? { kind: "open", rate: options.rate }
          : { kind: "closed", concurrency: options.concurrency ?? 1 },
      settings: {
        durationMs: options.durationMs,
        maxExports: options.maxExports,
        pollers: options.pollers,
        pollIntervalMs: options.pollIntervalMs,
        drainTimeoutMs: options.drainTimeoutMs,
        mix: options.mix,
        verify: options.verify,
      },
      cells: deps.cells.map((c) => ({ name: c.name, seeded: c.seeded, expectedEntries: c.expectedEntries })),
      wallMs,
      exports: { ...counts, perSecond: wallMs > 0 ? (counts.completed / wallMs) * 1000 : 0 },
      timeToReadyMs: snapshot.timeToReadyMs,
      statusLatencyMs: snapshot.statusLatencyMs,
      requests: snapshot.requests,
      errors: snapshot.errors,
      conflicts: snapshot.conflicts,
      lockViolations,
      nonMonotonic: snapshot.nonMonotonic,
      peakInFlight: snapshot.peakInFlight,
      peakQueueDepth: queue.available
        ? {
            value: queue.peakQueued,
            active: queue.peakActive,
            source: "api metric cellport_queue_jobs: waiting + prioritized + delayed",
          }
        : { value: snapshot.peakInFlight, source: "exports seen in progress at once" },
      lostExports: lost,
      verifyProblems,
      timeline: snapshot.timeline,
    };
    return { ...partial, verdict: judge(partial, thresholds) };
  } finally {
    stopping = true;
    clearInterval(ticker);
    await rm(tmp, { recursive: true, force: true });
  }
}

/** A tiny bounded work queue (verification downloads must not starve the load). */
function createQueue(concurrency: number) {
  const waiting: Array<() => Promise<void>> = [];
  let running = 0;
  let idle: (() => void) | undefined;
  const pump = () => {
    while (running < concurrency && waiting.length > 0) {
      const job = waiting.shift() as () => Promise<void>;
      running++;
      void job()
        .catch(() => {})
        .finally(() => {
          running--;
          pump();
        });
    }
    if (running === 0 && waiting.length === 0) idle?.();
  };
  return {
    push(job: () => Promise<void>) {
      waiting.push(job);
      pump();
    },
    drain(): Promise<void> {
      if (running === 0 && waiting.length === 0) return Promise.resolve();
      return new Promise((done) => {
        idle = done;
      });
    },
  };
}
