/**
 * One progress display for every long operation (export/import watch, snapshot
 * transfers, seed, load test): a redrawn bar on a terminal, plain lines otherwise so
 * logs and pipes stay readable. Writes to stderr so `--json` output on stdout stays
 * clean.
 */

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface Progress {
  /** `fraction` 0..1; `detail` is shown after the percent. */
  update(fraction: number, detail?: string): void;
  /** Clears the bar (TTY) and prints `line` when given. */
  finish(line?: string): void;
}

const FULL = "█";
const EMPTY = "░";

/** `label [████░░░░] 45% detail`, at most `columns` wide. Pure, for tests. */
export function renderBar(label: string, fraction: number, detail = "", columns = 80): string {
  const f = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const percent = `${Math.floor(f * 100)}%`.padStart(4);
  const fixed = label.length + percent.length + (detail ? detail.length + 1 : 0) + 4;
  const width = Math.max(10, Math.min(40, columns - fixed - 1));
  const filled = Math.round(f * width);
  const bar = `${FULL.repeat(filled)}${EMPTY.repeat(width - filled)}`;
  return `${label} [${bar}] ${percent}${detail ? ` ${detail}` : ""}`;
}

export function createProgress(
  stream: ProgressStream,
  label: string,
  options: {
    /** Plain mode: print a line each time the percent crosses a multiple of this (1 = every change). */
    lineStep?: number;
    /** TTY redraw interval. */
    redrawMs?: number;
    /** Force plain lines even on a terminal. */
    plain?: boolean;
  } = {},
): Progress {
  const tty = Boolean(stream.isTTY) && !options.plain;
  const lineStep = options.lineStep ?? 10;
  const redrawMs = options.redrawMs ?? 100;
  let lastDraw = 0;
  let lastLinePercent = -1;
  let drawn = false;

  return {
    update(fraction, detail = "") {
      if (tty) {
        const now = Date.now();
        if (now - lastDraw < redrawMs && fraction < 1) return;
        lastDraw = now;
        stream.write(`\r${renderBar(label, fraction, detail, stream.columns ?? 80)}\u001b[K`);
        drawn = true;
        return;
      }
      const percent = Math.floor(Math.min(1, Math.max(0, fraction)) * 100);
      const bucket = Math.floor(percent / lineStep) * lineStep;
      if (bucket <= lastLinePercent) return;
      lastLinePercent = bucket;
      stream.write(`${label} ${percent}%${detail ? ` ${detail}` : ""}\n`);
    },
    finish(line) {
      if (tty && drawn) stream.write("\r\u001b[K");
      if (line) stream.write(`${line}\n`);
    },
  };
}

/** `12.3 MiB / 27.4 MiB  5.1 MiB/s  eta 3s` for byte transfers. */
export function transferDetail(
  done: number,
  total: number | undefined,
  elapsedMs: number,
  format: (bytes: number) => string,
): string {
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1000 : 0;
  const parts = [total ? `${format(done)} / ${format(total)}` : format(done), `${format(rate)}/s`];
  if (total && rate > 0 && done < total) parts.push(`eta ${Math.ceil((total - done) / rate)}s`);
  return parts.join("  ");
}
