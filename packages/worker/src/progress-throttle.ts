/**
 * Turns a byte count into job progress writes: whole percent of the total bytes,
 * never decreasing, written only when the percent changed AND at least
 * `minIntervalMs` passed since the last write — so an export costs at most ~100
 * progress writes (each one a Redis round trip and an events-stream entry, see
 * stack.md) whatever its size — plus the final 100. The interval also runs from the
 * start, and the final 100 is written only after an earlier percent: an export
 * shorter than the interval (most small exports) writes nothing — its status goes
 * from 0% straight to "ready", and a write nobody could see would cost a Redis
 * script and an events-stream entry per export.
 *
 * Writes are chained: they reach `report` one at a time and in order, so a slow
 * write never lets a smaller percent land after a larger one.
 */
export interface ProgressThrottle {
  /** Counts `bytes` more of the total. */
  add(bytes: number): void;
  /**
   * Reports 100 if an earlier percent was reported (and 100 was not), then resolves
   * once every write has settled.
   */
  finish(): Promise<void>;
  /** Resolves once every write so far has settled. */
  flush(): Promise<void>;
  /** The last percent handed to `report`. */
  readonly reported: number;
}

export interface ProgressThrottleOptions {
  /** Sum of the sizes of everything that will be counted; 0: no percent to report. */
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
      if (reported > 0 && reported < 100) send(100);
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
