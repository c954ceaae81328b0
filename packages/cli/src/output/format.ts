/** Plain-text and JSON output for read commands: every read command has `--json`. */
import type { ProgressStream } from "./progress-bar.ts";

export interface Io {
  stdout: ProgressStream;
  stderr: ProgressStream;
}

export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(io: Io, line = ""): void {
  io.stdout.write(`${line}\n`);
}

/** A left-aligned text table; numbers (and columns marked `right`) right-aligned. */
export function formatTable(
  headers: readonly string[],
  rows: ReadonlyArray<ReadonlyArray<string | number>>,
  right: ReadonlySet<number> = new Set(),
): string {
  const cells = rows.map((row) => row.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? "").length)));
  const alignRight = (i: number) => right.has(i) || rows.every((row) => typeof row[i] === "number");
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (alignRight(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), ...cells.map(line)].join("\n");
}
