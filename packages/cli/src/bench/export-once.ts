/** One export, POST → ready, timed from the client's side: the unit of every benchmark. */
import { type ExportOutcome, resolveExportOutcome } from "../client/export-outcome.ts";
import type { CellportClient } from "../client/http-client.ts";
import { sleep } from "../context.ts";
import { OperationFailedError } from "../errors.ts";

export interface TimedExport {
  /** POST sent → first status poll that reads ready. */
  ms: number;
  outcome: ExportOutcome;
}

export async function exportAndWait(
  client: CellportClient,
  cell: string,
  name: string,
  options: { pollMs?: number; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<TimedExport> {
  const pollMs = options.pollMs ?? 50;
  const until = Date.now() + (options.timeoutMs ?? 30 * 60_000);
  const started = performance.now();
  await client.startExport(cell, name);
  for (;;) {
    const status = await client.exportStatus(cell);
    if (status.status !== "exportation in progress" || status.exportation_name !== name) break;
    if (Date.now() > until)
      throw new OperationFailedError(`export ${cell}/${name} still running after the timeout`);
    await sleep(pollMs, options.signal);
  }
  const ms = performance.now() - started;
  const outcome = await resolveExportOutcome(
    client,
    cell,
    name,
    options.signal ? { signal: options.signal } : {},
  );
  return { ms, outcome };
}

/** Fails loudly: a benchmark figure of a failed export would be meaningless. */
export function requireCompleted(
  cell: string,
  timed: TimedExport,
): Extract<ExportOutcome, { outcome: "completed" }> {
  if (timed.outcome.outcome !== "completed") {
    throw new OperationFailedError(`benchmark export of ${cell} ended ${timed.outcome.outcome}`);
  }
  return timed.outcome;
}
