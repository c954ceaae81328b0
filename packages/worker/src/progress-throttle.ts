/**
 * Turns a byte count into job progress writes: whole percent of the total bytes,
 * never decreasing, written only when the percent changed AND at least
 * `minIntervalMs` passed since the last write — so an export costs at most ~100
 * progress writes (each one a Redis round trip and an events-stream entry, see
 * stack.md) whatever its size — plus the final 100. The interval also runs from the
 * start: an export shorter than it writes only its final 100 (most small exports).
 *
 * Writes are chained: they reach `report` one at a time and in order, so a slow
 * write never lets a smaller percent land after a larger one.
 */
export interface ProgressThrottle {
  /** Counts `bytes` more of the total. */
  add(bytes: number): void;
  /** Reports 100 (unless already reported) and resolves once every write has settled. */
  finish(): Promise<void>;
  /** Resolves once every write so far has settled. */
  flush(): Promise<void>;
  /** The last percent handed to `report`. */
  readonly reported: number;
}

export interface ProgressThrottleOptions {
  /** Sum of the sizes of everything that will be counted; 0 means "report 100 at the end". */
  totalBytes: number;
  report: (percent: number) => void | Promise<void>;
  /** A failed write is not the job's failure: progress is informative only. */
  onReportError?: (error: unknown) => void;
  minIntervalMs?: number;
  now?: () => number;
}

export function createProgressThrottle(options: ProgressThrottleOptions): ProgressThrottle {
  const { totalBytes, report, minIntervalMs = 200, now = Date.now } = options;
  const onReportError = options.onReportError ?? (() => {});
  let done = 0;
  let reported = 0;
  let lastAt = now();
  let chain: Promise<void> = Promise.resolve();

  function send(percent: number): void {
    reported = percent;
    lastAt = now();
    chain = chain.then(async () => {
      try {
        await report(percent);
      } catch (error) {
        onReportError(error);
      }
    });
  }

  return {
    add(bytes) {
      done += bytes;
      if (totalBytes <= 0) return;
      // 100 is only ever reported by finish(): the bytes are read before the zip is complete.
      const percent = Math.min(99, Math.floor((done * 100) / totalBytes));
      if (percent > reported && now() - lastAt >= minIntervalMs) send(percent);
    },
    async finish() {
      if (reported < 100) send(100);
      await chain;
    },
    flush() {
      return chain;
    },
    get reported() {
      return reported;
    },
  };
}
