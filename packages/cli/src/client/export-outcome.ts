/**
 * What became of a finished export, for `export --watch`, the load test and the
 * benchmarks: the history resource (GET `{cell}/__export/history`, with size and
 * sha256) when the api has it, else the snapshot area itself (`{Name}.zip` or
 * `{Name}.error`, spec §3.3).
 */
import type { JobHistoryEntry, PersoniumErrorBody } from "@cellport/shared";
import { sleep } from "../context.ts";
import { parseErrorBody } from "../errors.ts";
import type { CellportClient } from "./http-client.ts";

export type ExportOutcome =
  | { outcome: "completed"; name: string; size: number; sha256: string | undefined; durationMs?: number }
  | { outcome: "failed"; name: string; error: PersoniumErrorBody | undefined }
  | { outcome: "cancelled"; name: string }
  /** Neither a history entry nor a file: the export vanished. */
  | { outcome: "missing"; name: string };

export function findHistoryEntry(
  history: readonly JobHistoryEntry[],
  kind: JobHistoryEntry["kind"],
  name: string,
): JobHistoryEntry | undefined {
  // Newest first: a re-run of the same name after a failure reports its own outcome.
  return history.find((entry) => entry.kind === kind && entry.name === name);
}

function fromHistory(entry: JobHistoryEntry): ExportOutcome {
  if (entry.outcome === "completed") {
    return {
      outcome: "completed",
      name: entry.name,
      size: entry.size ?? 0,
      sha256: entry.sha256,
      durationMs: entry.durationMs,
    };
  }
  if (entry.outcome === "failed") return { outcome: "failed", name: entry.name, error: entry.error };
  return { outcome: "cancelled", name: entry.name };
}

/**
 * Resolves the outcome of the export `name` of `cell` once its status reads ready.
 * The history entry is written as the job ends, so it is awaited briefly
 * (`graceMs`) before falling back to the snapshot area.
 */
export async function resolveExportOutcome(
  client: CellportClient,
  cell: string,
  name: string,
  options: { graceMs?: number; signal?: AbortSignal } = {},
): Promise<ExportOutcome> {
  const until = Date.now() + (options.graceMs ?? 5_000);
  for (;;) {
    const history = await client.exportHistory(cell);
    if (history === null) break;
    const entry = findHistoryEntry(history, "export", name);
    if (entry) return fromHistory(entry);
    if (Date.now() >= until) break;
    await sleep(100, options.signal);
  }
  const zip = await client.statSnapshot(cell, `${name}.zip`);
  if (zip) return { outcome: "completed", name, size: zip.size, sha256: undefined };
  const errorFile = await client.statSnapshot(cell, `${name}.error`);
  if (errorFile) {
    const text = await client.getSnapshotText(cell, `${name}.error`);
    return { outcome: "failed", name, error: parseErrorBody(text) ?? undefined };
  }
  return { outcome: "missing", name };
}
